// The daemon: opens the stores, loads the policy, mounts every configured mount in this
// one process, serves the control socket, and prints one `ready` line. SIGTERM/SIGINT (or
// `lacuna-fs stop`) stop accepting, let in-flight ops finish, unmount, flush the audit
// log and exit 0. A stale mount left by a crash is cleaned on start.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import type { Config } from '../config/index.js';
import { openAudit, type AuditLog } from '../audit/index.js';
import { createClassifier } from '../classify/index.js';
import { createEscalation, type Escalation } from '../classify/escalate.js';
import { BackgroundClassifier } from './background-classify.js';
import { openLineage, type LineageStore } from '../lineage/index.js';
import { loadPolicyBundle, type PolicyBundle } from '../policy/index.js';
import { startControlServer, controlSocketPath } from '../control/index.js';
import { groupsOf, userName } from './callers.js';
import { makeDispatch } from './dispatch.js';
import { ExceptionStore } from './exceptions.js';
import { Governor } from './governor.js';
import { FuseMount, prepareMountpoint } from './mount.js';
import { fuseBinding } from './native.js';
import { startMetricsListener } from './metrics.js';
import { GovernedOps } from './ops.js';
import { guardLineage } from './lineage-guard.js';
import type { ClassifierPort } from './services.js';
import { buildStatus, renderStatus, type DaemonView } from './status.js';
import { controlRoutes } from './routes.js';
import { VirtualFiles } from './virtual.js';
import { MountView } from './zones.js';

export interface RunningMount {
  view: MountView;
  fuse: FuseMount;
  ops: GovernedOps;
}

export class Daemon implements DaemonView {
  readonly startedAt = new Date();
  readonly mounts: RunningMount[] = [];
  readonly log: Logger;
  governor!: Governor;
  classifier!: ClassifierPort;
  lineage!: LineageStore;
  audit!: AuditLog;
  policy!: PolicyBundle;
  exceptions!: ExceptionStore;
  escalation: Escalation | undefined;
  background: BackgroundClassifier | undefined;
  lastErrors: Array<{ time: string; message: string }> = [];
  private control: { close(): Promise<void> } | undefined;
  private stopping: Promise<void> | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private metricsServer: import('node:http').Server | undefined;

  constructor(public config: Config) {
    this.log = pino({ level: config.log.level, base: { service: 'lacuna-fs' } }, pino.destination({ dest: 2, sync: true }));
  }

  private readonly errorSeen = new Map<string, number>();

  /** Records an operational error for status and the log; the same kind at most once a minute. */
  noteError(message: string): void {
    const kind = message.replace(/\d+/g, '#').slice(0, 60);
    const now = Date.now();
    if ((this.errorSeen.get(kind) ?? 0) > now - 60_000) return;
    this.errorSeen.set(kind, now);
    this.lastErrors.push({ time: new Date().toISOString(), message });
    if (this.lastErrors.length > 20) this.lastErrors.shift();
    this.log.error(message);
  }

  async start(): Promise<void> {
    const c = this.config;
    fs.mkdirSync(c.stateDir, { recursive: true, mode: 0o750 });
    fs.mkdirSync(c.runtimeDir, { recursive: true, mode: 0o755 });
    // Prepare every mountpoint before opening anything, so a bad one fails fast.
    for (const m of c.mounts) {
      const { cleanedStale } = prepareMountpoint(m.mountpoint);
      if (cleanedStale) this.log.warn({ mountpoint: m.mountpoint }, 'cleaned a stale mount left by a previous daemon');
    }
    this.policy = await loadPolicyBundle(c.policy.path, { entrypoint: c.policy.entrypoint, engine: c.policy.engine });
    this.audit = await openAudit({
      stateDir: c.stateDir,
      host: os.hostname(),
      postgres: c.audit.postgres,
      checkpointEvery: c.audit.checkpointEvery,
      checkpointSeconds: c.audit.checkpointSeconds,
      logger: this.log,
    });
    this.audit.append({ kind: 'daemon_start', details: { pid: process.pid, config: c.file, mode: c.mode } });
    this.audit.append({ kind: 'policy_loaded', bundle_hash: this.policy.hash, details: { source: this.policy.source, engine: this.policy.engine } });
    this.classifier = createClassifier({
      extraRules: c.classify.rules.map((r) => ({ id: r.id, pattern: r.pattern, category: r.category, tier: r.tier })),
      pathRules: c.classify.pathRules,
      maxScanBytes: c.classify.maxScanBytes,
    });
    this.lineage = await openLineage(path.join(c.stateDir, 'lineage'));
    // Layers 2/3 (on by default: the shipped embedding model; the LLM only when enabled).
    if (c.classify.embeddings?.enabled !== false) {
      this.escalation = createEscalation({
        ...(c.classify.escalation ? { escalation: withoutKey(c.classify.escalation, 'skipExtensions') } : {}),
        embeddings: { ...(c.classify.embeddings ?? {}), baseDir: path.dirname(c.file) } as never,
        ...(c.classify.llm ? { llm: c.classify.llm as never } : {}),
        stateDir: c.stateDir,
        ...(c.classify.cacheDir ? { cacheDir: c.classify.cacheDir } : {}),
        cacheMaxEntries: c.classify.cacheMaxEntries,
      });
      await this.escalation.ready();
      // Escalate exactly the head the embedding layer reads (its budget, after config).
      const headBytes = this.escalation.embeddings?.info.maxBytes ?? 64 * 1024;
      const skip = (c.classify.escalation as { skipExtensions?: string[] } | null)?.skipExtensions;
      this.background = new BackgroundClassifier(this.escalation.escalate, headBytes, (e) => this.noteError(`background classification failed: ${(e as Error).message}`), skip);
    }
    const lineage = guardLineage(this.lineage, (call, err) => this.noteError(`lineage ${call} failed (the operation went on without lineage): ${(err as Error).message}`));
    this.exceptions = new ExceptionStore(path.join(c.stateDir, 'exceptions.json'), this.audit);
    this.governor = new Governor(
      () => this.config,
      () => this.policy,
      lineage,
      this.audit,
      this.exceptions,
    );
    this.governor.onError = (m) => this.noteError(m);
    // One structured journal entry per denial: who, what, where, which policy, never content.
    this.governor.onDenial = (x) =>
      this.log.warn(
        { event: x.monitored ? 'would_deny' : 'denied', uid: x.uid, user: x.user, pid: x.pid, program: x.program, action: x.action, path: x.path, sources: x.sources, zone: x.zone, tier: x.tier, tags: x.tags, policy_id: x.policy_id, audit_seq: x.audit_seq },
        `${x.monitored ? 'would deny' : 'denied'} ${x.action} of ${x.path} by ${x.user} (${x.program}): ${x.reasoning}`,
      );
    // Expired exceptions stop matching at once; the sweep records the expiry in the audit log.
    this.sweepTimer = setInterval(() => this.exceptions.sweep(), 5000);
    this.sweepTimer.unref();

    const binding = fuseBinding();
    for (const m of c.mounts) {
      const view = new MountView(m, c.zones);
      const settleMs = Number((c.classify.escalation as { latencyBudgetMs?: number } | null)?.latencyBudgetMs ?? 1000);
      const ops = new GovernedOps({ view, governor: this.governor, classifier: this.classifier, lineage, log: this.log, ...(this.background ? { background: this.background, settleMs } : {}) });
      const virtual = new VirtualFiles({ denials: this.governor.denials, statusText: () => renderStatus(buildStatus(this)) });
      const fuse = new FuseMount(m);
      const dispatch = makeDispatch({ binding, ops, virtual, onUnmounted: () => fuse.onLoopEnded(), log: this.log });
      fuse.mount(dispatch);
      this.mounts.push({ view, fuse, ops });
      this.audit.append({ kind: 'mount', paths: [m.mountpoint, m.source], zones: [m.zone], details: { name: m.name } });
      this.log.info({ mount: m.name, mountpoint: m.mountpoint, source: m.source, zone: m.zone }, 'mounted');
    }

    this.control = await startControlServer({
      socketPath: controlSocketPath(c.runtimeDir),
      routes: controlRoutes(this),
      peerCred: (fd) => binding.peerCred(fd),
      isAdmin: (peer) => this.isAdmin(peer.uid, peer.gid),
      log: this.log,
    });
    if (c.metrics.listen) this.metricsServer = await startMetricsListener(c.metrics.listen, this);
    fs.writeFileSync(path.join(c.runtimeDir, 'daemon.pid'), `${process.pid}\n`);
    for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => void this.stop(`signal ${sig}`).then(() => process.exit(0)));
    process.on('SIGHUP', () => void this.reload().catch(() => {}));
    // A background writer's failure (e.g. the lineage store's commit on a full disk) must
    // not take the file system down and leave stale mounts: record it and keep serving.
    process.on('unhandledRejection', (e) => this.noteError(`background task failed: ${e instanceof Error ? e.message : String(e)}`));
    // An exception nobody caught means unknown state: unmount cleanly, then exit non-zero.
    process.on('uncaughtException', (e) => {
      this.noteError(`internal error, stopping: ${e.stack ?? e.message}`);
      void this.stop('uncaught exception').finally(() => process.exit(1));
    });
    // A file-size limit must make the spool fail closed (EFBIG → audit unavailable → deny),
    // not kill the daemon: Node restores SIGXFSZ's default action (terminate) at start-up.
    process.on('SIGXFSZ', () => {});
    notifySystemd('READY=1');
  }

  /**
   * Reloads config and policies atomically: both are loaded and validated first, then
   * swapped. A bad config or policy is rejected and the running one stays. Mount changes
   * need a restart (they are reported, not applied).
   */
  async reload(): Promise<{ policyHash: string; mode: string; restartNeeded: string[] }> {
    const { loadConfig } = await import('../config/index.js');
    try {
      const next = this.config.file === '<defaults>' ? this.config : loadConfig(this.config.file);
      const policy = await loadPolicyBundle(next.policy.path, { entrypoint: next.policy.entrypoint, engine: next.policy.engine });
      const restartNeeded = JSON.stringify(next.mounts) === JSON.stringify(this.config.mounts) ? [] : ['mounts'];
      this.config = { ...next, mounts: this.config.mounts };
      this.policy = policy;
      this.audit.append({ kind: 'config_reloaded', details: { config: next.file, mode: next.mode, restartNeeded } });
      this.audit.append({ kind: 'policy_loaded', bundle_hash: policy.hash, details: { source: policy.source, engine: policy.engine } });
      this.log.info({ policy: policy.hash, mode: next.mode }, 'reloaded');
      return { policyHash: policy.hash, mode: next.mode, restartNeeded };
    } catch (e) {
      const message = `reload rejected, still running the previous config and policy: ${(e as Error).message}`;
      this.noteError(message);
      this.audit.append({ kind: 'policy_rejected', reasoning: message });
      throw new Error(message);
    }
  }

  private anonKey: Buffer | undefined;

  /**
   * The keyed-hash key for pseudonyms (<stateDir>/anonymize.key, 0600, made on first use):
   * one key per deployment, so the same value gets the same pseudonym in every file and
   * anonymised tables still join.
   */
  anonymizeKey(): Buffer {
    if (this.anonKey) return this.anonKey;
    const file = path.join(this.config.stateDir, 'anonymize.key');
    try {
      this.anonKey = fs.readFileSync(file);
    } catch {
      this.anonKey = randomBytes(32);
      fs.writeFileSync(file, this.anonKey, { mode: 0o600, flag: 'wx' });
    }
    return this.anonKey;
  }

  isAdmin(uid: number, gid: number): boolean {
    return uid === 0 || inSet(this.config.admins, uid, gid);
  }

  /** Approvers are the configured approvers plus the admins. */
  isApprover(uid: number, gid: number): boolean {
    return this.isAdmin(uid, gid) || inSet(this.config.approvers, uid, gid);
  }

  /** Idempotent: a second call waits for the first. */
  stop(reason: string): Promise<void> {
    this.stopping ??= this.doStop(reason);
    return this.stopping;
  }

  private async doStop(reason: string): Promise<void> {
    this.log.info({ reason }, 'stopping');
    notifySystemd('STOPPING=1');
    await this.control?.close();
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.metricsServer?.close();
    for (const m of this.mounts) {
      const clean = await m.fuse.unmount();
      if (!clean) this.noteError(`${m.view.config.mountpoint}: in-flight operations did not finish in time; detached anyway`);
      this.audit?.append({ kind: 'unmount', paths: [m.view.config.mountpoint], zones: [m.view.config.zone], details: { name: m.view.name, clean } });
    }
    this.audit?.append({ kind: 'daemon_stop', details: { reason } });
    await this.audit?.close();
    await this.lineage?.close();
    await this.escalation?.close();
    try {
      fs.unlinkSync(path.join(this.config.runtimeDir, 'daemon.pid'));
    } catch {
      /* already gone */
    }
    this.log.info('stopped');
  }

  statusJson(): unknown {
    return buildStatus(this);
  }
}

function withoutKey(o: Record<string, unknown>, key: string): Record<string, unknown> {
  const { [key]: _drop, ...rest } = o;
  return rest;
}

function inSet(set: { users: string[]; groups: string[] }, uid: number, gid: number): boolean {
  if (set.users.includes(userName(uid))) return true;
  return groupsOf(uid, gid).some((g) => set.groups.includes(g));
}

/** sd_notify through systemd-notify (the unit sets NotifyAccess=all for it). */
function notifySystemd(state: string): void {
  if (!process.env.NOTIFY_SOCKET) return;
  execFile('systemd-notify', [state], () => {});
}

export async function runDaemon(config: Config): Promise<Daemon> {
  const d = new Daemon(config);
  try {
    await d.start();
  } catch (e) {
    // Undo what was mounted before the failure so nothing is left behind.
    for (const m of d.mounts) await m.fuse.unmount(2000);
    await d.audit?.close().catch(() => {});
    await d.lineage?.close().catch(() => {});
    throw e;
  }
  return d;
}
