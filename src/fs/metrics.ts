// Prometheus text exposition (format 0.0.4) of the daemon: per-op latency histograms from
// the native layer, decisions by result and policy, classification by layer and tier,
// cache, lineage and audit gauges. Served on the control socket (GET /metrics) and, when
// configured, on a local TCP listener.
import http from 'node:http';
import type { Daemon } from './daemon.js';

type Labels = Record<string, string>;

function esc(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function lbl(l: Labels): string {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${esc(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

class Exposition {
  private readonly lines: string[] = [];
  private readonly declared = new Set<string>();

  metric(name: string, type: 'counter' | 'gauge' | 'histogram', help: string): this {
    if (!this.declared.has(name)) {
      this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      this.declared.add(name);
    }
    return this;
  }

  sample(name: string, labels: Labels, value: number): this {
    this.lines.push(`${name}${lbl(labels)} ${Number.isFinite(value) ? value : 0}`);
    return this;
  }

  text(): string {
    return this.lines.join('\n') + '\n';
  }
}

const num = (v: unknown): number => (typeof v === 'number' ? v : typeof v === 'boolean' ? Number(v) : 0);

export function renderMetrics(d: Daemon): string {
  const e = new Exposition();
  e.metric('lacuna_fs_up', 'gauge', 'The daemon is running.').sample('lacuna_fs_up', {}, 1);
  e.metric('lacuna_fs_uptime_seconds', 'gauge', 'Seconds since the daemon started.').sample('lacuna_fs_uptime_seconds', {}, (Date.now() - d.startedAt.getTime()) / 1000);
  e.metric('lacuna_fs_monitor_mode', 'gauge', '1 in monitor mode (decide and audit, never block).').sample('lacuna_fs_monitor_mode', {}, d.config.mode === 'monitor' ? 1 : 0);
  e.metric('lacuna_fs_policy_info', 'gauge', 'The loaded policy bundle.').sample('lacuna_fs_policy_info', { hash: d.policy.hash, engine: d.policy.engine, source: d.policy.source }, 1);

  for (const m of d.mounts) {
    const mount = m.view.name;
    e.metric('lacuna_fs_mount_up', 'gauge', 'The mount is mounted and healthy.').sample('lacuna_fs_mount_up', { mount, zone: m.view.config.zone }, m.fuse.healthy() ? 1 : 0);
    e.metric('lacuna_fs_open_handles', 'gauge', 'Files open through the mount.').sample('lacuna_fs_open_handles', { mount }, m.ops.handles.size);
    const st = m.fuse.stats();
    if (!st) continue;
    e.metric('lacuna_fs_read_bytes_total', 'counter', 'Bytes read through the mount.').sample('lacuna_fs_read_bytes_total', { mount }, st.bytes_read);
    e.metric('lacuna_fs_written_bytes_total', 'counter', 'Bytes written through the mount.').sample('lacuna_fs_written_bytes_total', { mount }, st.bytes_written);
    e.metric('lacuna_fs_op_duration_seconds', 'histogram', 'Latency of each FUSE operation, as seen by the daemon.');
    for (const [op, o] of Object.entries(st.ops)) {
      let cumulative = 0;
      st.bucket_upper_us.forEach((us, i) => {
        cumulative += o.buckets[i] ?? 0;
        e.sample('lacuna_fs_op_duration_seconds_bucket', { mount, op, le: String(us / 1e6) }, cumulative);
      });
      e.sample('lacuna_fs_op_duration_seconds_bucket', { mount, op, le: '+Inf' }, o.count);
      e.sample('lacuna_fs_op_duration_seconds_sum', { mount, op }, o.sum_ns / 1e9);
      e.sample('lacuna_fs_op_duration_seconds_count', { mount, op }, o.count);
    }
    e.metric('lacuna_fs_op_errors_total', 'counter', 'FUSE operations that returned an error (including EACCES denials).');
    for (const [op, o] of Object.entries(st.ops)) e.sample('lacuna_fs_op_errors_total', { mount, op }, o.errors);
    e.metric('lacuna_fs_classifications_total', 'counter', 'Classifications served on open, by deciding layer and tier.');
    for (const [key, n] of m.ops.classified) {
      const [layer, tier] = key.split('/');
      e.sample('lacuna_fs_classifications_total', { mount, layer: layer!, tier: tier! }, n);
    }
  }

  e.metric('lacuna_fs_decisions_total', 'counter', 'Policy decisions by result and policy id.');
  for (const [policy_id, per] of d.governor.byPolicy) {
    for (const [result, n] of Object.entries(per)) if (n) e.sample('lacuna_fs_decisions_total', { result, policy_id }, n);
  }
  e.metric('lacuna_fs_policy_errors_total', 'counter', 'Decisions that failed closed because the policy errored.').sample('lacuna_fs_policy_errors_total', {}, d.governor.stats.policyErrors);

  const cls = d.classifier.stats() as unknown as Record<string, unknown>;
  e.metric('lacuna_fs_classify_cache_entries', 'gauge', 'Classifications cached by (dev, ino, size, mtime).').sample('lacuna_fs_classify_cache_entries', {}, num(cls.cacheSize));
  e.metric('lacuna_fs_classify_cache_hits_total', 'counter', 'Classification cache hits.').sample('lacuna_fs_classify_cache_hits_total', {}, num(cls.hits));
  e.metric('lacuna_fs_classify_cache_misses_total', 'counter', 'Classification cache misses (files scanned).').sample('lacuna_fs_classify_cache_misses_total', {}, num(cls.misses));

  const lin = d.lineage.stats() as unknown as Record<string, unknown>;
  for (const [k, help] of [['nodes', 'Files known to lineage.'], ['edges', 'Lineage edges.'], ['processes', 'Tainted live processes tracked.'], ['dbBytes', 'Size of the lineage store in bytes.']] as const) {
    const name = `lacuna_fs_lineage_${k === 'dbBytes' ? 'store_bytes' : k}`;
    e.metric(name, 'gauge', help).sample(name, {}, num(lin[k]));
  }

  e.metric('lacuna_fs_lineage_healthy', 'gauge', '0 while the lineage store cannot commit (writes are held in memory, bounded).').sample('lacuna_fs_lineage_healthy', {}, lin.healthy === false ? 0 : 1);
  e.metric('lacuna_fs_lineage_dropped_writes_total', 'counter', 'Lineage writes dropped because commits kept failing.').sample('lacuna_fs_lineage_dropped_writes_total', {}, num(lin.droppedWrites));

  const a = d.audit.stats() as unknown as Record<string, unknown>;
  e.metric('lacuna_fs_audit_head_seq', 'gauge', 'Sequence number of the audit chain head.').sample('lacuna_fs_audit_head_seq', {}, num(a.headSeq));
  e.metric('lacuna_fs_audit_backlog', 'gauge', 'Audit records not yet confirmed by PostgreSQL.').sample('lacuna_fs_audit_backlog', {}, num(a.backlog));
  e.metric('lacuna_fs_audit_lag_seconds', 'gauge', 'Age of the oldest record not yet in PostgreSQL.').sample('lacuna_fs_audit_lag_seconds', {}, num(a.lagSeconds));
  e.metric('lacuna_fs_audit_healthy', 'gauge', '0 when the spool cannot be written (governed writes fail closed).').sample('lacuna_fs_audit_healthy', {}, a.healthy === false ? 0 : 1);
  e.metric('lacuna_fs_audit_postgres_up', 'gauge', '1 connected, 0 down, -1 not configured.').sample('lacuna_fs_audit_postgres_up', {}, a.postgres === 'connected' ? 1 : a.postgres === 'down' ? 0 : -1);

  e.metric('lacuna_fs_exceptions', 'gauge', 'Exceptions by state.');
  const byState = new Map<string, number>();
  for (const x of d.exceptions.list()) byState.set(x.state, (byState.get(x.state) ?? 0) + 1);
  for (const [state, n] of byState) e.sample('lacuna_fs_exceptions', { state }, n);
  return e.text();
}

/** The optional TCP listener (`metrics.listen: host:port`), serving only GET /metrics. */
export async function startMetricsListener(listen: string, d: Daemon): Promise<http.Server> {
  const m = /^(.*):(\d+)$/.exec(listen);
  if (!m) throw new Error(`metrics.listen must be host:port, got ${listen}`);
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(renderMetrics(d));
    } else {
      res.writeHead(404).end('not found\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(m[2]), m[1]!.replace(/^\[|\]$/g, ''), () => resolve());
  });
  return server;
}
