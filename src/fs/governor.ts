// Decides one governed operation: taint → policy input → decision → mode → audit → denial
// record. The ops call this; it never touches the file system. Fails closed: a policy
// error or an unwritable audit log denies. (`explain` builds the same input through
// policy-input.ts without a governor, so it also works when no daemon runs.)
import type { Classification, Tier } from '../classify/types.js';
import type { Config } from '../config/index.js';
import { groupsOf, processFacts, userName } from './callers.js';
import { DenialLog, shellQuote, type Denial } from './denials.js';
import { buildPolicyInput } from './policy-input.js';
import type { AuditPort, Decision, ExceptionsPort, LineagePort, PolicyPort, TaintPort } from './services.js';
import type { FileLocation } from './zones.js';

export interface Caller {
  uid: number;
  gid: number;
  pid: number;
}

export interface GovernedAction {
  action: string;
  caller: Caller;
  dest: FileLocation;
  destExists: boolean;
  content: Classification | null;
  /** For rename/link: the moved file's own classification replaces the process taint. */
  file?: { loc: FileLocation; cls: Classification };
  copyOf?: string | null;
  /** The output holds no individual-level data (an anonymised or aggregated derivative). */
  aggregate?: boolean;
}

export interface Verdict {
  /** Whether the operation proceeds (monitor mode proceeds even when the policy denies). */
  proceed: boolean;
  decision: Decision;
  tier: Tier;
  tags: string[];
  denial?: Denial;
}

export interface GovernorStats {
  decisions: number;
  allows: number;
  denies: number;
  monitoredDenies: number;
  policyErrors: number;
  auditFailures: number;
}

export class Governor {
  readonly denials = new DenialLog();
  readonly stats: GovernorStats = { decisions: 0, allows: 0, denies: 0, monitoredDenies: 0, policyErrors: 0, auditFailures: 0 };
  /** Decision timestamps (ms) of the last minutes, for per-minute rates in status. */
  readonly recentDecisions: number[] = [];
  readonly recentDenials: number[] = [];
  lastError: string | null = null;
  /** Called with each operational error (the daemon shows it in status and the log). */
  onError: ((message: string) => void) | undefined;
  /** Called for every denial (the daemon writes a structured journal entry). */
  onDenial: ((d: Denial) => void) | undefined;
  /** Decisions by policy id and result, for metrics. */
  readonly byPolicy = new Map<string, { allow: number; deny: number; allow_monitor: number }>();

  constructor(
    private readonly getConfig: () => Config,
    private readonly getPolicy: () => PolicyPort,
    private readonly lineage: LineagePort,
    private readonly audit: AuditPort,
    private readonly exceptions?: ExceptionsPort,
  ) {}

  taintFor(a: GovernedAction): TaintPort {
    if (a.file) {
      return {
        tier: a.file.cls.tier,
        tags: a.file.cls.tags,
        files: [{ path: a.file.loc.userPath, mount: a.file.loc.mount, zone: a.file.loc.zone.name, tier: a.file.cls.tier, tags: a.file.cls.tags }],
      };
    }
    return this.lineage.taintOf(a.caller.pid);
  }

  decide(a: GovernedAction): Verdict {
    const config = this.getConfig();
    const policy = this.getPolicy();
    const taint = capTaint(this.taintFor(a));
    const proc = processFacts(a.caller.pid);
    const user = userName(a.caller.uid);
    const sources = taint.files.map((f) => f.path);
    const now = new Date();
    const exceptions = this.exceptions?.matching(sources, a.dest.userPath, a.caller.uid, BigInt(now.getTime()) * 1_000_000n) ?? [];
    const input = buildPolicyInput({
      action: a.action,
      mode: config.mode,
      lineage: { ...taint, copy_of: a.copyOf ?? null, aggregate: a.aggregate ?? false },
      content: a.content,
      destination: { path: a.dest.userPath, mount: a.dest.mount, zone: a.dest.zone, exists: a.destExists },
      user: { uid: a.caller.uid, gid: a.caller.gid, name: user, groups: groupsOf(a.caller.uid, a.caller.gid) },
      process: { pid: proc.pid, ppid: proc.ppid, exe: proc.exe, comm: proc.comm },
      exceptions,
      purpose: proc.purpose,
      now,
    });
    const source = input.source as { tier: Tier; tags: string[] };

    let decision: Decision;
    try {
      // Matching exceptions are in the input; the per-call data merge is skipped when there are none.
      decision = exceptions.length ? policy.decide(input, { lacuna: { exceptions } }) : policy.decide(input);
    } catch (e) {
      this.stats.policyErrors++;
      this.lastError = `policy evaluation failed: ${(e as Error).message}`;
      this.onError?.(this.lastError);
      decision = { allow: false, policy_id: 'policy-error', reasoning: this.lastError, alternatives: [], obligations: [] };
    }

    const monitored = !decision.allow && config.mode === 'monitor';
    let proceed = decision.allow || monitored;
    let auditSeq: number | undefined;
    try {
      auditSeq = this.audit.append({
        kind: 'decision',
        user,
        uid: a.caller.uid,
        pid: a.caller.pid,
        program: proc.exe,
        action: a.action,
        paths: [...sources, a.dest.userPath],
        zones: [a.dest.zone.name],
        classification: { tier: source.tier, tags: source.tags },
        decision: decision.allow ? 'allow' : monitored ? 'allow_monitor' : 'deny',
        policy_id: decision.policy_id,
        bundle_hash: policy.hash,
        reasoning: decision.reasoning,
      }).seq;
    } catch (e) {
      this.stats.auditFailures++;
      this.lastError = `audit log unavailable: ${(e as Error).message}`;
      this.onError?.(this.lastError);
      if (config.audit.failClosed) {
        proceed = false;
        decision = {
          allow: false,
          policy_id: 'audit-unavailable',
          reasoning: `the audit log cannot be written (${(e as Error).message}); governed writes are refused until it recovers`,
          alternatives: ['ask an operator to check `lacuna-fs status` (audit section) and the daemon log'],
          obligations: [],
        };
      }
    }

    this.count(decision.allow, monitored);
    const per = this.byPolicy.get(decision.policy_id) ?? { allow: 0, deny: 0, allow_monitor: 0 };
    per[decision.allow ? 'allow' : monitored ? 'allow_monitor' : 'deny']++;
    this.byPolicy.set(decision.policy_id, per);
    let denial: Denial | undefined;
    if (!decision.allow) {
      denial = this.denials.record({
        time: now.toISOString(),
        uid: a.caller.uid,
        user,
        pid: a.caller.pid,
        program: proc.comm,
        action: a.action,
        path: a.dest.userPath,
        sources,
        zone: a.dest.zone.name,
        tier: source.tier,
        tags: source.tags,
        policy_id: decision.policy_id,
        reasoning: decision.reasoning,
        alternatives: decision.alternatives,
        exception_command: exceptionCommand(sources, a.dest.userPath),
        monitored,
        ...(auditSeq !== undefined ? { audit_seq: auditSeq } : {}),
      });
    }
    if (denial) this.onDenial?.(denial);
    return { proceed, decision, tier: source.tier, tags: source.tags, ...(denial ? { denial } : {}) };
  }

  private count(allowed: boolean, monitored: boolean): void {
    const now = Date.now();
    this.stats.decisions++;
    this.recentDecisions.push(now);
    if (allowed) this.stats.allows++;
    else {
      this.stats.denies++;
      this.recentDenials.push(now);
      if (monitored) this.stats.monitoredDenies++;
    }
    const horizon = now - 5 * 60_000;
    while (this.recentDecisions.length && this.recentDecisions[0]! < horizon) this.recentDecisions.shift();
    while (this.recentDenials.length && this.recentDenials[0]! < horizon) this.recentDenials.shift();
  }
}

/**
 * The files a long-running reader (`cp -r`, `tar`, an IDE) touched can number thousands;
 * the policy input and the audit record carry the most sensitive ones first, at most
 * MAX_SOURCES, plus the total. Tier and tags are computed over all of them.
 */
const MAX_SOURCES = 32;

function capTaint(t: TaintPort): TaintPort & { files_total: number } {
  if (t.files.length <= MAX_SOURCES) return { ...t, files_total: t.files.length };
  const rank = { PROPRIETARY: 2, INTERNAL: 1, PUBLIC: 0 } as const;
  const files = [...t.files].sort((x, y) => rank[y.tier] - rank[x.tier]).slice(0, MAX_SOURCES);
  return { ...t, files, files_total: t.files.length };
}

function exceptionCommand(sources: string[], dest: string): string {
  const src = sources[0] ?? dest;
  return `lacuna-fs exception request --path ${shellQuote(src)} --dest ${shellQuote(dest)} --justification '<why you need this>'`;
}
