// Audit benchmarks (issue 7): durable appends per second with group commit vs one fsync per
// record, the added latency of append() on a file operation, PostgreSQL ingest of a spool backlog
// (batched multi-row INSERT vs one INSERT per record), and verification rate from the spool and
// from PostgreSQL vs the cost of merely reading and parsing the same lines, and spool verification
// with the audit addon vs without it. Starts its own throw-away PostgreSQL (Debian 15 binaries)
// like the tests do.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pg from 'pg';
import { openAudit, type AuditEvent } from '../src/audit/index.js';
import { buildRecord } from '../src/audit/record.js';
import { ZERO_HASH } from '../src/audit/hash.js';
import { spoolLines, verifyPostgres, verifySpool } from '../src/audit/sources.js';
import { auditAddon } from '../src/audit/native-lines.js';
import type { BenchRow, BenchScenario, BenchSection } from './types.js';

const COMMAND = 'npm run build && node dist/bench/run.js audit';
const N = Number(process.env.LACUNA_BENCH_AUDIT_RECORDS ?? 100_000);

// A daemon's records share most strings (user, program, zones, policy) but not all: paths,
// pid and reasoning differ between files. The events cycle over 300 files so nothing that
// remembers recent strings can make every record look like the last one.
function event(i: number): AuditEvent {
  const file = `q${i % 300}-ledger.csv`;
  return {
    kind: 'decision', user: 'alice', uid: 1000, pid: 4000 + (i % 57), program: '/usr/bin/cp', action: 'write',
    paths: [`/governed/finance/${file}`, `/home/alice/Downloads/${file}`], zones: ['governed', 'unmanaged'],
    classification: { tier: 'PROPRIETARY', tags: ['PII', 'FINANCIAL'] }, decision: 'deny', policy_id: 'no_export_proprietary',
    bundle_hash: 'c'.repeat(64), reasoning: `PROPRIETARY data from /governed/finance/${file} read by this process may not be written to an unmanaged zone`,
  };
}
const EVENTS: AuditEvent[] = Array.from({ length: 1000 }, (_, i) => event(i));

function tmp(tag: string): string {
  return mkdtempSync(join(tmpdir(), `lacuna-bench-audit-${tag}-`));
}

const rate = (n: number, ms: number) => (n * 1000) / ms;

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

/** A private PostgreSQL 15 (trust auth, unix socket in a temp dir), as test/helpers/postgres.ts does. */
async function startPostgres(): Promise<{ url: string; stop(): Promise<void> }> {
  const bin = '/usr/lib/postgresql/15/bin';
  const dir = tmp('pg');
  chmodSync(dir, 0o755);
  const data = join(dir, 'data');
  const sock = join(dir, 'sock');
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
  for (const d of [data, sock]) {
    mkdirSync(d);
    chownSync(d, uid, gid);
  }
  chmodSync(data, 0o700);
  execFileSync('su', ['postgres', '-c', `${bin}/initdb -D ${data} --auth=trust --no-sync -U postgres -E UTF8 >/dev/null`]);
  const port = await new Promise<number>((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
  // fsync stays on here: the ingest rate is meant to include PostgreSQL's own durability.
  const child: ChildProcess = spawn('su', ['postgres', '-c', `exec ${bin}/postgres -D ${data} -p ${port} -k ${sock} -c listen_addresses=''`], { stdio: 'ignore' });
  const url = `postgresql://postgres@localhost/postgres?host=${encodeURIComponent(sock)}&port=${port}`;
  for (let i = 0; i < 200; i++) {
    const c = new pg.Client({ connectionString: url });
    try {
      await c.connect();
      await c.end();
      break;
    } catch {
      await c.end().catch(() => {});
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    url,
    async stop() {
      const pid = Number(execFileSync('head', ['-1', join(data, 'postmaster.pid')]).toString());
      const exited = new Promise((r) => child.once('exit', r));
      process.kill(pid, 'SIGINT');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function appends(): Promise<BenchSection> {
  const rows: BenchRow[] = [];
  // Group commit: the producer appends in bursts and yields to the event loop, like the daemon
  // answering FUSE ops; batches form while the previous fsync is in flight.
  const dirA = tmp('group');
  const log = await openAudit({ stateDir: dirA, checkpointEvery: 10_000 });
  const lat: number[] = [];
  let t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const s = performance.now();
    log.append(EVENTS[i % EVENTS.length]!);
    lat.push(performance.now() - s);
    if (i % 500 === 499) await new Promise((r) => setImmediate(r));
  }
  await log.flush();
  const groupMs = performance.now() - t0;
  await log.close();
  rmSync(dirA, { recursive: true, force: true });

  // Baseline: the same records, each made durable before the next (fsync per record).
  const dirB = tmp('fsync');
  const one = await openAudit({ stateDir: dirB, groupCommitMs: 0, checkpointEvery: 10_000 });
  const M = 2000;
  t0 = performance.now();
  for (let i = 0; i < M; i++) await one.durable(one.append(EVENTS[i % EVENTS.length]!).seq);
  const fsyncMs = performance.now() - t0;
  await one.close();
  rmSync(dirB, { recursive: true, force: true });

  // Per-op wait when an op does wait for durability: 64 concurrent ops each awaiting its record.
  const dirC = tmp('durable');
  const c = await openAudit({ stateDir: dirC });
  const waits: number[] = [];
  t0 = performance.now();
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      for (let i = 0; i < 100; i++) {
        const s = performance.now();
        await c.durable(c.append(EVENTS[i % EVENTS.length]!).seq);
        waits.push(performance.now() - s);
      }
    }),
  );
  const durMs = performance.now() - t0;
  await c.close();
  rmSync(dirC, { recursive: true, force: true });

  lat.sort((a, b) => a - b);
  waits.sort((a, b) => a - b);
  const g = rate(N, groupMs);
  const f = rate(M, fsyncMs);
  rows.push({ metric: `durable appends/s, group commit (${N} records, bursts of 500)`, value: g, unit: 'rec/s', baseline: { label: 'fsync per record', value: f }, ratio: g / f, target: '≥ 100 k/s' });
  rows.push({ metric: 'append() added latency per file op, median', value: pct(lat, 50) * 1000, unit: 'µs', note: `p99 ${(pct(lat, 99) * 1000).toFixed(1)} µs; synchronous: seq + canonical form + hash; the op does not wait for fsync` });
  rows.push({ metric: 'append + wait until durable, 64 concurrent ops, median', value: pct(waits, 50), unit: 'ms', note: `p99 ${pct(waits, 99).toFixed(2)} ms; ${rate(6400, durMs).toFixed(0)} rec/s; only for callers that must not answer before the record is on disk` });
  return { title: 'Audit: durable appends', command: COMMAND, rows, notes: ['Spool on the machine\'s disk (fdatasync per batch).'] };
}

async function ingestAndVerify(): Promise<BenchSection[]> {
  const db = await startPostgres();
  try {
    const stateDir = tmp('ingest');
    const R = Math.min(N, 50_000);
    // Fill the spool with PostgreSQL absent, then measure the sink draining the backlog.
    const w = await openAudit({ stateDir, checkpointEvery: 5000 });
    for (let i = 0; i < R; i++) {
      w.append(EVENTS[i % EVENTS.length]!);
      if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
    }
    await w.close();
    // Event-loop delay while idle, then while the sink drains the backlog: what a FUSE op waiting
    // for the event loop would feel.
    const idle = monitorEventLoopDelay({ resolution: 1 });
    idle.enable();
    await new Promise((r) => setTimeout(r, 1000));
    idle.disable();
    const busy = monitorEventLoopDelay({ resolution: 1 });
    busy.enable();
    let t0 = performance.now();
    const s = await openAudit({ stateDir, postgres: db.url, trim: false, sinkBatch: 2000 });
    while (s.stats().backlog > 0) await new Promise((r) => setTimeout(r, 5));
    const ingestMs = performance.now() - t0;
    busy.disable();
    const chainId = s.chainId;
    await s.close();

    // Baseline: one INSERT per record (what a naive sink does), same table, 3000 rows.
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    await c.query('CREATE TABLE naive (chain_id text, seq bigint, hash text, record text, PRIMARY KEY (chain_id, seq))');
    const lines: string[] = [];
    for await (const l of spoolLines(stateDir)) {
      lines.push(l.line);
      if (lines.length >= 3000) break;
    }
    t0 = performance.now();
    for (let i = 0; i < lines.length; i++) await c.query('INSERT INTO naive VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', ['x', i, 'h', lines[i]]);
    const naiveMs = performance.now() - t0;
    await c.end();

    // Verify rates, and the floor: reading + JSON.parse of the same lines with no checking.
    t0 = performance.now();
    let n = 0;
    for await (const l of spoolLines(stateDir)) {
      JSON.parse(l.line);
      n++;
    }
    const readMs = performance.now() - t0;
    // Best of three whole verifications: the first also pays for compiling the verifier's code,
    // which on a 50 000-record spool is a large share and says nothing about the rate on a real
    // (months-long) chain. The first run's rate is reported next to it.
    const timedVerify = async (opts?: Parameters<typeof verifySpool>[1]) => {
      let best = Infinity;
      let first = 0;
      let result!: Awaited<ReturnType<typeof verifySpool>>;
      for (let i = 0; i < 3; i++) {
        const t = performance.now();
        result = await verifySpool(stateDir, opts);
        const ms = performance.now() - t;
        if (i === 0) first = ms;
        best = Math.min(best, ms);
      }
      return { result, ms: best, firstMs: first };
    };
    const { result: vs, ms: vsMs, firstMs: vsFirstMs } = await timedVerify();
    // The same verification with lines read and hashed in TypeScript (as without the audit addon).
    const { result: vj, ms: vjMs } = await timedVerify({ runs: { native: false } });
    t0 = performance.now();
    const [vp] = await verifyPostgres(db.url, { chainId });
    const vpMs = performance.now() - t0;
    rmSync(stateDir, { recursive: true, force: true });

    // Pure encoding cost: building a record (normalise + RFC 8785 + SHA-256) vs JSON.stringify.
    const K = 50_000;
    t0 = performance.now();
    for (let i = 0; i < K; i++) buildRecord(EVENTS[i % EVENTS.length]!, { chainId: 'c', host: 'h', seq: i, prevHash: ZERO_HASH });
    const buildMs = performance.now() - t0;
    t0 = performance.now();
    for (let i = 0; i < K; i++) JSON.stringify({ ...EVENTS[i % EVENTS.length]!, seq: i });
    const strMs = performance.now() - t0;

    const ingest = rate(R, ingestMs);
    return [
      {
        title: 'Audit: PostgreSQL ingest',
        command: COMMAND,
        rows: [
          { metric: `spool backlog → PostgreSQL (${R} records, 2000 per COPY straight into audit_records)`, value: ingest, unit: 'rec/s', baseline: { label: 'one INSERT per record', value: rate(lines.length, naiveMs) }, ratio: ingest / rate(lines.length, naiveMs), target: '≥ 20 k/s' },
          { metric: 'event-loop delay p99 while the sink drains', value: busy.percentile(99) / 1e6, unit: 'ms', baseline: { label: 'idle', value: idle.percentile(99) / 1e6 }, ratio: busy.percentile(99) / Math.max(1, idle.percentile(99)), note: 'what an op answered on the event loop waits at worst, 1 in 100' },
        ],
        notes: ['PostgreSQL 15 with default durability (fsync on), local unix socket; includes conflict checks, derived query columns and checkpoint shipping.'],
      },
      {
        title: 'Audit: verification',
        command: COMMAND,
        rows: [
          { metric: `verify spool (${vs.records} records, ${vs.checkpoints.total} checkpoints, Merkle roots)`, value: rate(vs.records, vsMs), unit: 'rec/s', baseline: { label: 'read + JSON.parse only', value: rate(n, readMs) }, ratio: rate(vs.records, vsMs) / rate(n, readMs), target: '≥ 500 k/s', note: `${vs.ok ? 'intact' : `BROKEN ${vs.first?.kind}`}; best of 3 runs, the first (cold) ${Math.round(rate(vs.records, vsFirstMs) / 1000)} k rec/s` },
          { metric: 'verify spool, lines read and hashed in TypeScript (addon off)', value: rate(vj.records, vjMs), unit: 'rec/s', baseline: { label: 'with the audit addon', value: rate(vs.records, vsMs) }, ratio: vsMs / vjMs, note: `${vj.ok ? 'intact' : `BROKEN ${vj.first?.kind}`}; ratio: TypeScript rate / addon rate${auditAddon() ? '' : ' (addon NOT loaded: both rows are TypeScript)'}` },
          { metric: `verify PostgreSQL (${vp!.records} records, columns cross-checked)`, value: rate(vp!.records, vpMs), unit: 'rec/s', note: vp!.ok ? 'intact' : `BROKEN ${vp!.first?.kind}` },
          { metric: 'build one record (normalise, RFC 8785, SHA-256)', value: (buildMs * 1000) / K, unit: 'µs', baseline: { label: 'JSON.stringify of the event', value: (strMs * 1000) / K, unit: 'µs' }, ratio: buildMs / strMs, note: 'ratio: times slower than the baseline' },
        ],
      },
    ];
  } finally {
    await db.stop();
  }
}

export const scenarios: BenchScenario[] = [appends, ingestAndVerify];
