// What `lacuna-fs status` shows: built from the running daemon's parts, rendered as JSON
// for tools and as one readable screen for people.
import type { Config } from '../config/index.js';
import type { Denial } from './denials.js';
import type { Governor } from './governor.js';
import type { FuseMount } from './mount.js';
import type { GovernedOps } from './ops.js';
import type { ClassifierPort } from './services.js';
import type { MountView } from './zones.js';

export interface DaemonView {
  config: Config;
  startedAt: Date;
  mounts: Array<{ view: MountView; fuse: FuseMount; ops: GovernedOps }>;
  governor: Governor;
  classifier: ClassifierPort;
  background?: { stats(): object } | undefined;
  lineage: { stats(): object };
  audit: { stats(): object };
  policy: { hash: string; source: string; loadedAt: string; engine: string };
  lastErrors: Array<{ time: string; message: string }>;
}

export interface StatusReport {
  pid: number;
  uptime_s: number;
  started_at: string;
  mode: string;
  config: string;
  mounts: Array<{ name: string; mountpoint: string; source: string; zone: string; state: string; healthy: boolean; open_handles: number; ops: Record<string, number> }>;
  policy: { hash: string; source: string; loaded_at: string; engine: string };
  decisions: { total: number; allows: number; denies: number; monitored_denies: number; per_minute: number; denies_per_minute: number; policy_errors: number; audit_failures: number };
  top_denied: { paths: Array<{ path: string; count: number }>; users: Array<{ user: string; count: number }> };
  last_denials: Array<Pick<Denial, 'time' | 'pid' | 'program' | 'user' | 'action' | 'path' | 'policy_id' | 'reasoning' | 'monitored'>>;
  classification: object;
  lineage: object;
  audit: object;
  last_errors: Array<{ time: string; message: string }>;
}

export function buildStatus(d: DaemonView): StatusReport {
  const g = d.governor;
  const minuteAgo = Date.now() - 60_000;
  return {
    pid: process.pid,
    uptime_s: Math.round((Date.now() - d.startedAt.getTime()) / 1000),
    started_at: d.startedAt.toISOString(),
    mode: d.config.mode,
    config: d.config.file,
    mounts: d.mounts.map((m) => ({
      name: m.view.name,
      mountpoint: m.view.config.mountpoint,
      source: m.view.config.source,
      zone: m.view.config.zone,
      state: m.fuse.state,
      healthy: m.fuse.healthy(),
      open_handles: m.ops.handles.size,
      ops: { ...m.ops.counts },
    })),
    policy: { hash: d.policy.hash, source: d.policy.source, loaded_at: d.policy.loadedAt, engine: d.policy.engine },
    decisions: {
      total: g.stats.decisions,
      allows: g.stats.allows,
      denies: g.stats.denies,
      monitored_denies: g.stats.monitoredDenies,
      per_minute: g.recentDecisions.filter((t) => t >= minuteAgo).length,
      denies_per_minute: g.recentDenials.filter((t) => t >= minuteAgo).length,
      policy_errors: g.stats.policyErrors,
      audit_failures: g.stats.auditFailures,
    },
    top_denied: g.denials.top(5),
    last_denials: g.denials.latest(5).map((x) => ({ time: x.time, pid: x.pid, program: x.program, user: x.user, action: x.action, path: x.path, policy_id: x.policy_id, reasoning: x.reasoning, monitored: x.monitored })),
    classification: { ...d.classifier.stats(), ...(d.background ? { layer2: d.background.stats() } : { layer2: 'disabled' }) },
    lineage: d.lineage.stats(),
    audit: d.audit.stats(),
    last_errors: d.lastErrors.slice(-5),
  };
}

function duration(s: number): string {
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}h${String(m).padStart(2, '0')}m` : m ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

function classifyLine(c: Record<string, number>): string {
  const total = (c.hits ?? 0) + (c.misses ?? 0);
  const rate = total ? `${Math.round((100 * (c.hits ?? 0)) / total)}%` : 'n/a';
  const l2 = (c as unknown as { layer2?: Record<string, number> | string }).layer2;
  const l2text = typeof l2 === 'object' ? `; layer 2: ${l2.escalated} escalated, ${l2.upgraded} raised, ${l2.pending} pending` : '; layer 2 off';
  return `cache ${c.cacheSize ?? 0} files, hit rate ${rate} (${c.hits ?? 0} hits, ${c.misses ?? 0} scans)${c.rules ? `, ${c.rules} rules` : ''}${l2text}`;
}

function lineageLine(l: Record<string, number>): string {
  const mib = ((l.dbBytes ?? 0) / 2 ** 20).toFixed(1);
  const health = (l as unknown as { healthy?: boolean; lastError?: string }).healthy === false ? `  UNHEALTHY: ${(l as unknown as { lastError?: string }).lastError ?? 'commits failing'}` : '';
  return `${l.nodes ?? 0} files, ${l.edges ?? 0} edges, ${l.processes ?? 0} tainted processes, store ${mib} MiB${l.pendingWrites ? `, ${l.pendingWrites} pending` : ''}${l.droppedWrites ? `, ${l.droppedWrites} dropped` : ''}${health}`;
}

export function renderStatus(s: StatusReport): string {
  const audit = s.audit as Record<string, unknown>;
  const lines = [
    `lacuna-fs  pid ${s.pid}  up ${duration(s.uptime_s)}  mode ${s.mode.toUpperCase()}  config ${s.config}`,
    '',
    'MOUNTS',
    ...s.mounts.map((m) => `  ${m.healthy ? 'ok ' : '!! '} ${m.mountpoint.padEnd(24)} ← ${m.source.padEnd(24)} zone ${m.zone.padEnd(10)} ${m.state}, ${m.open_handles} open`),
    '',
    `POLICY    ${s.policy.engine} ${s.policy.hash.slice(0, 12)}  from ${s.policy.source}  loaded ${s.policy.loaded_at}`,
    `DECISIONS ${s.decisions.total} total: ${s.decisions.allows} allowed, ${s.decisions.denies} denied${s.decisions.monitored_denies ? ` (${s.decisions.monitored_denies} monitor-only)` : ''}; last minute ${s.decisions.per_minute} (${s.decisions.denies_per_minute} denied)`,
    `AUDIT     head #${audit.headSeq ?? '?'} ${String(audit.headHash ?? '').slice(0, 12)}  backlog ${audit.backlog ?? '?'}  postgres ${audit.postgres ?? '?'}  ${audit.healthy === false ? 'UNHEALTHY' : 'healthy'}`,
    `CLASSIFY  ${classifyLine(s.classification as Record<string, number>)}`,
    `LINEAGE   ${lineageLine(s.lineage as Record<string, number>)}`,
  ];
  if (s.last_denials.length) {
    lines.push('', 'LAST DENIALS');
    for (const d of s.last_denials) lines.push(`  ${d.time}  ${d.user}  ${d.program}[${d.pid}] ${d.action} ${d.path}  (${d.policy_id})`);
  }
  if (s.top_denied.paths.length) {
    lines.push('', 'TOP DENIED (recent)');
    lines.push(`  paths: ${s.top_denied.paths.map((p) => `${p.path} (${p.count})`).join(', ')}`);
    lines.push(`  users: ${s.top_denied.users.map((u) => `${u.user} (${u.count})`).join(', ')}`);
  }
  if (s.last_errors.length) {
    lines.push('', 'LAST ERRORS');
    for (const e of s.last_errors) lines.push(`  ${e.time}  ${e.message}`);
  }
  return lines.join('\n') + '\n';
}
