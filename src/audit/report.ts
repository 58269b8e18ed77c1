// The compliance report behind `lacuna-fs audit report`: decisions by tier, zone, user and policy,
// denials with their reasons, monitor-mode would-have-denied, exceptions and their expiry, policy
// and mount events, crash recoveries, and the chain verification result with its checkpoints.
// Aggregation is pure over records; formatting renders Markdown, JSON or CSV from one model.
import type { AuditRecord } from './types.js';
import type { VerifyReport } from './sources.js';

export interface DecisionCounts {
  allow: number;
  deny: number;
  allow_monitor: number;
  total: number;
}

export interface ReportModel {
  generatedAt: string;
  window: { since: string | null; until: string | null };
  source: 'spool' | 'postgres';
  records: number;
  byKind: Record<string, number>;
  decisions: DecisionCounts;
  byTier: Record<string, DecisionCounts>;
  byZone: Record<string, DecisionCounts>;
  byUser: Record<string, DecisionCounts>;
  byPolicy: Record<string, DecisionCounts>;
  denials: ReportEntry[];
  monitorWouldDeny: ReportEntry[];
  exceptions: ReportEntry[];
  governance: ReportEntry[];
  recoveries: ReportEntry[];
  /** Lists are capped; these say how many entries were left out. */
  omitted: { denials: number; monitorWouldDeny: number };
  verification: VerificationSummary[];
}

export interface ReportEntry {
  seq: number;
  chain_id: string;
  time: string;
  kind: string;
  user?: string;
  program?: string;
  action?: string;
  paths?: string[];
  tier?: string;
  policy_id?: string;
  reasoning?: string;
  details?: Record<string, unknown>;
}

export interface VerificationSummary {
  chainId: string | null;
  source: string;
  ok: boolean;
  records: number;
  firstSeq: number | null;
  lastSeq: number | null;
  checkpoints: number;
  checkpointsMatched: number;
  lastCheckpointSeq: number | null;
  signatures: 'checked with a pinned key' | 'checked with the key stored beside the evidence' | 'not checked (no key)';
  merkle: boolean;
  firstBreak: string | null;
}

const zero = (): DecisionCounts => ({ allow: 0, deny: 0, allow_monitor: 0, total: 0 });

function bump(m: Record<string, DecisionCounts>, key: string, d: keyof Omit<DecisionCounts, 'total'>): void {
  const c = (m[key] ??= zero());
  c[d]++;
  c.total++;
}

function entry(r: AuditRecord): ReportEntry {
  const e: ReportEntry = { seq: r.seq, chain_id: r.chain_id, time: r.time, kind: r.kind };
  if (r.user !== undefined) e.user = r.user;
  if (r.program !== undefined) e.program = r.program;
  if (r.action !== undefined) e.action = r.action;
  if (r.paths !== undefined) e.paths = r.paths;
  if (r.classification) e.tier = r.classification.tier;
  if (r.policy_id !== undefined) e.policy_id = r.policy_id;
  if (r.reasoning !== undefined) e.reasoning = r.reasoning;
  if (r.details !== undefined) e.details = r.details;
  return e;
}

export function summarizeVerification(v: VerifyReport): VerificationSummary {
  return {
    chainId: v.chainId,
    source: v.source,
    ok: v.ok,
    records: v.records,
    firstSeq: v.firstSeq,
    lastSeq: v.lastSeq,
    checkpoints: v.checkpoints.total,
    checkpointsMatched: v.checkpoints.matched,
    lastCheckpointSeq: v.checkpoints.lastSeq,
    signatures: !v.signaturesChecked ? 'not checked (no key)' : v.keyOrigin === 'pinned' ? 'checked with a pinned key' : 'checked with the key stored beside the evidence',
    merkle: v.merkleChecked,
    firstBreak: v.first ? describeMismatch(v.first) : null,
  };
}

export function describeMismatch(m: { seq: number; kind: string; expected?: unknown; computed?: unknown; where?: string; detail?: string }): string {
  const parts = [`seq ${m.seq}: ${m.kind}`];
  if (m.expected !== undefined || m.computed !== undefined) parts.push(`expected ${String(m.expected)}, computed ${String(m.computed)}`);
  if (m.detail) parts.push(m.detail);
  if (m.where) parts.push(`at ${m.where}`);
  return parts.join(' — ');
}

export class ReportBuilder {
  private m: ReportModel;
  constructor(o: { since?: string; until?: string; source: 'spool' | 'postgres'; maxList?: number }, private readonly maxList = o.maxList ?? 1000) {
    this.m = {
      generatedAt: new Date().toISOString(),
      window: { since: o.since ?? null, until: o.until ?? null },
      source: o.source,
      records: 0,
      byKind: {},
      decisions: zero(),
      byTier: {},
      byZone: {},
      byUser: {},
      byPolicy: {},
      denials: [],
      monitorWouldDeny: [],
      exceptions: [],
      governance: [],
      recoveries: [],
      omitted: { denials: 0, monitorWouldDeny: 0 },
      verification: [],
    };
  }

  add(r: AuditRecord): void {
    const m = this.m;
    m.records++;
    m.byKind[r.kind] = (m.byKind[r.kind] ?? 0) + 1;
    if (r.kind === 'decision' && r.decision) {
      const d = r.decision;
      m.decisions[d]++;
      m.decisions.total++;
      bump(m.byTier, r.classification?.tier ?? '(unclassified)', d);
      for (const z of r.zones?.length ? [...new Set(r.zones)] : ['(no zone)']) bump(m.byZone, z, d);
      bump(m.byUser, r.user ?? (r.uid !== undefined ? `uid ${r.uid}` : '(unknown)'), d);
      bump(m.byPolicy, r.policy_id ?? '(no policy)', d);
      if (d === 'deny') {
        if (m.denials.length < this.maxList) m.denials.push(entry(r));
        else m.omitted.denials++;
      } else if (d === 'allow_monitor') {
        if (m.monitorWouldDeny.length < this.maxList) m.monitorWouldDeny.push(entry(r));
        else m.omitted.monitorWouldDeny++;
      }
    } else if (r.kind.startsWith('exception_')) {
      m.exceptions.push(entry(r));
    } else if (r.kind === 'audit_recovered') {
      m.recoveries.push(entry(r));
    } else if (r.kind !== 'genesis') {
      m.governance.push(entry(r));
    }
  }

  verification(v: VerificationSummary): void {
    this.m.verification.push(v);
  }

  build(): ReportModel {
    return this.m;
  }
}

// ---- rendering ----

function mdEscape(s: unknown): string {
  return String(s ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function countsTable(title: string, label: string, m: Record<string, DecisionCounts>): string[] {
  const keys = Object.keys(m).sort((a, b) => m[b]!.total - m[a]!.total || a.localeCompare(b));
  if (keys.length === 0) return [`### ${title}`, '', '_No decisions in this window._', ''];
  return [
    `### ${title}`,
    '',
    `| ${label} | allowed | denied | monitor: would deny | total |`,
    '|---|---:|---:|---:|---:|',
    ...keys.map((k) => `| ${mdEscape(k)} | ${m[k]!.allow} | ${m[k]!.deny} | ${m[k]!.allow_monitor} | ${m[k]!.total} |`),
    '',
  ];
}

function exceptionState(e: ReportEntry): string {
  const d = e.details ?? {};
  const bits: string[] = [];
  for (const k of ['exception_id', 'id', 'requested_by', 'approver', 'approved_by', 'ttl_s', 'expires_at', 'expired_at', 'scope']) if (d[k] !== undefined) bits.push(`${k}=${String(d[k])}`);
  return bits.join(', ');
}

export function renderMarkdown(m: ReportModel): string {
  const out: string[] = [];
  const win = `${m.window.since ?? 'the first record'} → ${m.window.until ?? 'now'}`;
  out.push('# lacuna-fs audit report', '', `Generated ${m.generatedAt} from the ${m.source === 'postgres' ? 'PostgreSQL audit store' : 'local audit spool'}; window ${win}.`, '');
  out.push('## 1. Integrity of the audit trail', '');
  if (m.verification.length === 0) out.push('_No chain was verified._', '');
  for (const v of m.verification) {
    out.push(
      `- Chain \`${v.chainId ?? '?'}\` (${v.source}): **${v.ok ? 'INTACT' : 'BROKEN'}** — ${v.records} records (seq ${v.firstSeq ?? '-'}…${v.lastSeq ?? '-'}), ` +
        `${v.checkpointsMatched}/${v.checkpoints} signed checkpoints matched (last at seq ${v.lastCheckpointSeq ?? '-'}); signatures ${v.signatures}; ` +
        `Merkle roots ${v.merkle ? 'recomputed' : 'not recomputed (verification did not start at genesis)'}.`,
    );
    if (v.firstBreak) out.push(`  - First break: ${v.firstBreak}`);
  }
  out.push('', 'Every record carries the SHA-256 hash of its canonical (RFC 8785) form and of its predecessor; checkpoints sign the head with Ed25519 so removal of the newest records is detected too (see docs/AUDIT.md).', '');
  out.push('## 2. Decisions', '');
  out.push(`${m.decisions.total} decisions: ${m.decisions.allow} allowed, ${m.decisions.deny} denied, ${m.decisions.allow_monitor} allowed in monitor mode that policy would have denied.`, '');
  out.push(...countsTable('By classification tier', 'tier', m.byTier));
  out.push(...countsTable('By zone', 'zone', m.byZone));
  out.push(...countsTable('By user', 'user', m.byUser));
  out.push(...countsTable('By policy', 'policy', m.byPolicy));
  const list = (title: string, es: ReportEntry[], omitted: number) => {
    out.push(`## ${title}`, '');
    if (es.length === 0) return out.push('_None._', '');
    out.push('| time (UTC) | user | program | action | paths | tier | policy | reason |', '|---|---|---|---|---|---|---|---|');
    for (const e of es) out.push(`| ${e.time} | ${mdEscape(e.user)} | ${mdEscape(e.program)} | ${mdEscape(e.action)} | ${mdEscape((e.paths ?? []).join(' → '))} | ${mdEscape(e.tier)} | ${mdEscape(e.policy_id)} | ${mdEscape(e.reasoning)} |`);
    if (omitted) out.push('', `_${omitted} more not listed; use \`lacuna-fs audit query\` for all._`);
    return out.push('');
  };
  list('3. Denials and their reasons', m.denials, m.omitted.denials);
  list('4. Monitor mode: operations policy would have denied', m.monitorWouldDeny, m.omitted.monitorWouldDeny);
  out.push('## 5. Exceptions', '');
  if (m.exceptions.length === 0) out.push('_None._', '');
  else {
    out.push('| time (UTC) | event | user | paths | details | reason |', '|---|---|---|---|---|---|');
    for (const e of m.exceptions) out.push(`| ${e.time} | ${e.kind.replace('exception_', '')} | ${mdEscape(e.user)} | ${mdEscape((e.paths ?? []).join(', '))} | ${mdEscape(exceptionState(e))} | ${mdEscape(e.reasoning)} |`);
    out.push('');
  }
  out.push('## 6. Governance events', '');
  if (m.governance.length === 0) out.push('_None._', '');
  else {
    out.push('| time (UTC) | event | user | details |', '|---|---|---|---|');
    for (const e of m.governance) out.push(`| ${e.time} | ${e.kind} | ${mdEscape(e.user)} | ${mdEscape(e.reasoning ?? JSON.stringify(e.details ?? {}))} |`);
    out.push('');
  }
  out.push('## 7. Audit-trail recoveries', '');
  if (m.recoveries.length === 0) out.push('_None: no crash interrupted a spool write._', '');
  for (const e of m.recoveries) out.push(`- ${e.time} seq ${e.seq}: ${mdEscape(e.reasoning)} ${mdEscape(JSON.stringify(e.details ?? {}))}`);
  out.push('', `Records in window: ${m.records} (${Object.entries(m.byKind).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}).`, '');
  return out.join('\n');
}

function csvCell(v: unknown): string {
  const s = v === undefined || v === null ? '' : Array.isArray(v) ? v.join(' ') : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One table with a `section` column, so a spreadsheet can filter it. */
export function renderCsv(m: ReportModel): string {
  const rows: unknown[][] = [['section', 'key', 'allow', 'deny', 'allow_monitor', 'total', 'time', 'seq', 'user', 'program', 'action', 'paths', 'tier', 'policy_id', 'reasoning', 'details']];
  for (const v of m.verification) rows.push(['verification', v.chainId, '', '', '', v.records, '', v.lastSeq, '', '', '', '', '', '', v.ok ? 'INTACT' : `BROKEN: ${v.firstBreak}`, { checkpoints: v.checkpoints, matched: v.checkpointsMatched, signatures: v.signatures }]);
  const counts = (section: string, t: Record<string, DecisionCounts>) => {
    for (const [k, c] of Object.entries(t)) rows.push([section, k, c.allow, c.deny, c.allow_monitor, c.total]);
  };
  rows.push(['decisions', 'all', m.decisions.allow, m.decisions.deny, m.decisions.allow_monitor, m.decisions.total]);
  counts('by_tier', m.byTier);
  counts('by_zone', m.byZone);
  counts('by_user', m.byUser);
  counts('by_policy', m.byPolicy);
  const entries = (section: string, es: ReportEntry[]) => {
    for (const e of es) rows.push([section, e.kind, '', '', '', '', e.time, e.seq, e.user, e.program, e.action, e.paths, e.tier, e.policy_id, e.reasoning, e.details]);
  };
  entries('denial', m.denials);
  entries('monitor_would_deny', m.monitorWouldDeny);
  entries('exception', m.exceptions);
  entries('governance', m.governance);
  entries('recovery', m.recoveries);
  return rows.map((r) => r.map(csvCell).join(',')).join('\n') + '\n';
}
