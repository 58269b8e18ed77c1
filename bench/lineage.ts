// Lineage benchmarks (issue 6): lineage events written per second (batched LMDB
// transactions vs one transaction per event), upstream/downstream/impact queries on a
// generated 100 k-node graph (vs the same walk over an in-memory adjacency map), and
// the hot-path cost of recordRead / taintOf / recordWrite / observeContent / copyOf.
// Nodes in the graph: LACUNA_BENCH_LINEAGE_NODES (default 100000).

import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'lmdb';
import type { Classification } from '../src/classify/types.js';
import { chunkAll } from '../src/lineage/chunker.js';
import { openLineage, type FileRef, type LineageStore, type ProcessIdentity } from '../src/lineage/index.js';
import type { BenchRow, BenchScenario, BenchSection } from './types.js';

const COMMAND = 'npm run build && node dist/bench/run.js lineage';
const NODES = Number(process.env.LACUNA_BENCH_LINEAGE_NODES ?? 100_000);
const PROPRIETARY: Classification = { tier: 'PROPRIETARY', tags: ['PII'], confidence: 0.95, layer: 1, reasoning: 'bench', findings: [] };
const META = { program: '/usr/bin/python3', uid: 1000, user: 'bench' };

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function ref(i: number): FileRef {
  const zone = i % 10 === 0 ? 'export' : 'workspace';
  return { path: `/governed/${zone}/f${i}.csv`, sourcePath: `/srv/data/${zone}/f${i}.csv`, mount: '/governed', zone, dev: 42, ino: 1_000_000 + i };
}

/** Synthetic processes (pid ≥ 10⁶, parent init) so 100 k writers need no real forks. */
const synthetic = (pid: number): ProcessIdentity | undefined => (pid >= 1_000_000 ? { pid, startTime: '1', ppid: 1, comm: 'bench' } : undefined);

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'lacuna-bench-lineage-'));
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/**
 * The generated graph: 1 000 source files in 100 projects; every other file is written
 * by a process that read one earlier file of its project and, one time in five, a
 * shared reference source as well.
 */
function plan(n: number): Array<{ dst: number; srcs: number[] }> {
  const r = prng(7);
  const roots = Math.min(1000, Math.max(1, Math.floor(n / 100)));
  const projects = 100;
  const byProject: number[][] = Array.from({ length: projects }, () => []);
  for (let i = 0; i < roots; i++) byProject[i % projects]!.push(i);
  const out: Array<{ dst: number; srcs: number[] }> = [];
  for (let i = roots; i < n; i++) {
    const proj = byProject[i % projects]!;
    const srcs = [proj[Math.floor(r() * proj.length)]!];
    if (r() < 0.2) srcs.push(Math.floor(r() * 10)); // ten popular reference files
    proj.push(i);
    out.push({ dst: i, srcs: [...new Set(srcs)] });
  }
  return out;
}

async function buildGraph(lin: LineageStore, n: number): Promise<{ ms: number; events: number; adjacency: { up: Map<number, number[]>; down: Map<number, number[]> } }> {
  const steps = plan(n);
  const up = new Map<number, number[]>();
  const down = new Map<number, number[]>();
  const roots = n - steps.length;
  const t0 = performance.now();
  for (let i = 0; i < roots; i++) lin.recordRead(1_000_000 + i, ref(i), PROPRIETARY);
  let events = 0;
  for (const s of steps) {
    const pid = 2_000_000 + s.dst;
    for (const src of s.srcs) lin.recordRead(pid, ref(src), PROPRIETARY);
    lin.recordWrite(pid, ref(s.dst), 'create', META);
    events++;
    up.set(s.dst, s.srcs);
    for (const src of s.srcs) {
      let d = down.get(src);
      if (d === undefined) down.set(src, (d = []));
      d.push(s.dst);
    }
    if (events % 5000 === 0) await new Promise((r) => setImmediate(r)); // let batches run
  }
  await lin.flush();
  return { ms: performance.now() - t0, events, adjacency: { up, down } };
}

function memWalk(adj: Map<number, number[]>, root: number): number {
  const seen = new Set([root]);
  let frontier = [root];
  while (frontier.length > 0) {
    const next: number[] = [];
    for (const id of frontier) for (const o of adj.get(id) ?? []) if (!seen.has(o)) (seen.add(o), next.push(o));
    frontier = next;
  }
  return seen.size;
}

function timeEach(fn: () => void, reps: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    fn();
    out.push(performance.now() - t);
  }
  return out;
}

const writes: BenchScenario = async () => {
  const dir = tmp();
  try {
    // Batched: the store's own path (node upserts, edges, inheritance, event log).
    const lin = await openLineage(join(dir, 'batched'), { identify: synthetic, scanReads: false });
    const n = Math.min(NODES, 5_000);
    const built = await buildGraph(lin, n);
    await lin.close();
    const batchedRate = built.events / (built.ms / 1000);

    // Baseline: the same three records per event, one LMDB transaction (and sync) per event.
    const env = open({ path: join(dir, 'per-event.mdb') });
    const m = 500;
    const t0 = performance.now();
    for (let i = 0; i < m; i++) {
      await env.transaction(() => {
        env.put(['n', i], { path: ref(i).path, tier: 'PROPRIETARY' });
        env.put(['e', i, i + 1], { op: 'create', program: META.program, time: Date.now() });
        env.put(['v', Date.now(), i], { dst: i, srcs: [i - 1] });
      });
    }
    const perEventRate = m / ((performance.now() - t0) / 1000);
    await env.close();
    const rows: BenchRow[] = [
      {
        metric: `lineage events written (${n} writes, batched commits)`,
        value: Math.round(batchedRate),
        unit: 'events/s',
        baseline: { label: 'one LMDB transaction per event', value: Math.round(perEventRate), unit: 'events/s' },
        ratio: Number((batchedRate / perEventRate).toFixed(1)),
        note: 'higher is better; the batched path also creates nodes and applies inheritance',
      },
    ];
    return { title: 'Lineage: write throughput', command: COMMAND, rows };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

const queries: BenchScenario = async () => {
  const dir = tmp();
  try {
    const lin = await openLineage(join(dir, 'graph'), { identify: synthetic, scanReads: false });
    const built = await buildGraph(lin, NODES);
    const { up, down } = built.adjacency;
    const r = prng(11);
    const leaves = Array.from({ length: 200 }, () => NODES - 1 - Math.floor(r() * (NODES / 2)));
    const roots = Array.from({ length: 50 }, () => 10 + Math.floor(r() * 990));
    const upT = leaves.map((i) => timeEach(() => lin.upstream(ref(i).path), 1)[0]!);
    const upMem = leaves.map((i) => timeEach(() => memWalk(up, i), 1)[0]!);
    const upSize = leaves.map((i) => lin.upstream(ref(i).path).nodes.length);
    const downT = roots.map((i) => timeEach(() => lin.downstream(ref(i).path, 3), 1)[0]!);
    const impT = roots.map((i) => timeEach(() => lin.impact(ref(i).path), 1)[0]!);
    const impMem = roots.map((i) => timeEach(() => memWalk(down, i), 1)[0]!);
    const impSize = roots.map((i) => lin.impact(ref(i).path).length);
    // The worst case: a reference file that a fifth of everything derives from.
    const worst = timeEach(() => lin.impact(ref(0).path), 5);
    const worstSize = lin.impact(ref(0).path).length;
    const worstMem = timeEach(() => memWalk(down, 0), 5);
    const stats = lin.stats();
    await lin.close();
    const ms = (x: number) => Number(x.toFixed(2));
    const rows: BenchRow[] = [
      { metric: `graph build (${NODES} nodes, ${built.events} writes through the API)`, value: Math.round(built.events / (built.ms / 1000)), unit: 'events/s', note: `${stats.edges} edges, ${(stats.dbBytes / 2 ** 20).toFixed(0)} MiB on disk` },
      {
        metric: `upstream, unlimited depth (p50, median ${percentile(upSize, 50)} nodes)`,
        value: ms(percentile(upT, 50)),
        unit: 'ms',
        baseline: { label: 'in-memory adjacency walk', value: ms(percentile(upMem, 50)), unit: 'ms' },
        ratio: Number((percentile(upT, 50) / Math.max(percentile(upMem, 50), 1e-3)).toFixed(1)),
        target: '≤ 50 ms',
        note: 'lower is better; ratio = value / baseline',
      },
      { metric: 'upstream, unlimited depth (p95)', value: ms(percentile(upT, 95)), unit: 'ms', target: '≤ 50 ms' },
      { metric: 'downstream, depth 3 (p50 / p95)', value: `${ms(percentile(downT, 50))} / ${ms(percentile(downT, 95))}`, unit: 'ms', target: '≤ 50 ms' },
      {
        metric: `impact of a source (p50, median ${percentile(impSize, 50)} files)`,
        value: ms(percentile(impT, 50)),
        unit: 'ms',
        baseline: { label: 'in-memory adjacency walk', value: ms(percentile(impMem, 50)), unit: 'ms' },
        ratio: Number((percentile(impT, 50) / Math.max(percentile(impMem, 50), 1e-3)).toFixed(1)),
        target: '≤ 50 ms',
      },
      { metric: 'impact of a source (p95)', value: ms(percentile(impT, 95)), unit: 'ms', target: '≤ 50 ms' },
      {
        metric: `impact of the most-used reference file (${worstSize} files downstream)`,
        value: ms(percentile(worst, 50)),
        unit: 'ms',
        baseline: { label: 'in-memory adjacency walk', value: ms(percentile(worstMem, 50)), unit: 'ms' },
        ratio: Number((percentile(worst, 50) / Math.max(percentile(worstMem, 50), 1e-3)).toFixed(1)),
        target: '≤ 50 ms',
      },
    ];
    return { title: `Lineage: queries on a ${NODES}-node graph`, command: COMMAND, rows, notes: ['Graph: 1 000 sources in 100 projects; each derived file reads one earlier file of its project and, one time in five, one of ten shared reference files.'] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

/** Distinct CSV rows (content-defined chunks need varied content, like real data). */
function customersCsv(bytes: number): Buffer {
  const r = prng(3);
  const rows: string[] = ['id,name,email,iban'];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const row = `${i},name${Math.floor(r() * 1e6)},user${Math.floor(r() * 1e9)}@example.com,CH${Math.floor(r() * 1e15)}`;
    rows.push(row);
    size += row.length + 1;
  }
  return Buffer.from(rows.join('\n'));
}

function perCall(fn: (i: number) => void, n: number): number {
  for (let i = 0; i < Math.min(n, 1000); i++) fn(i); // warm up
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(i);
  return Number(process.hrtime.bigint() - t) / n / 1000;
}

const hotPath: BenchScenario = async () => {
  const dir = tmp();
  try {
    const lin = await openLineage(join(dir, 'hot'), { scanReads: false });
    const cold = await openLineage(join(dir, 'cold'), { scanReads: false, identityTtlMs: 0 });
    const pid = process.pid; // a real process with a real parent chain
    const files = Array.from({ length: 1000 }, (_, i) => ref(i));
    for (const f of files) lin.recordRead(pid, f, PROPRIETARY);
    cold.recordRead(pid, files[0]!, PROPRIETARY);
    const N = 200_000;
    const read = perCall((i) => lin.recordRead(pid, files[i % 1000]!, PROPRIETARY), N);
    const taint = perCall(() => lin.taintOf(pid), N);
    const taintCold = perCall(() => cold.taintOf(pid), 20_000);
    const other = perCall(() => lin.taintOf(1), N); // untainted (init)
    const dest = ref(500_000);
    lin.recordWrite(pid, dest, 'create', META);
    const write = perCall(() => lin.recordWrite(pid, dest, 'write', META), N);
    const buf = Buffer.alloc(4096, 'id,name,email\n1,ana,ana@example.com\n');
    // 8 000 × 4 KiB stays under the 64 MiB of pending bytes that would force chunking inline.
    const obs = perCall((i) => lin.observeContent(ref(600_000 + (i % 64)), (i >> 6) * 4096, buf), 8_000);
    await lin.flush();
    const corpus = randomBytes(32 * 1024 * 1024);
    const t0 = performance.now();
    chunkAll(corpus);
    const chunkMiBs = 32 / ((performance.now() - t0) / 1000);
    const t1 = performance.now();
    createHash('sha1').update(corpus).digest();
    const shaMiBs = 32 / ((performance.now() - t1) / 1000);
    // A copy in progress: an 8 MiB CSV already fingerprinted is written again 4 KiB at a
    // time, and the daemon asks copyOf after every write.
    const csv = customersCsv(8 * 1024 * 1024);
    const original = ref(800_000);
    for (let o = 0; o < csv.length; o += 65536) lin.observeContent(original, o, csv.subarray(o, o + 65536), 'read');
    await lin.flush();
    const copyDest = ref(700_000);
    const copy = perCall((i) => {
      const o = (i * 4096) % csv.length;
      lin.observeContent(copyDest, o, csv.subarray(o, o + 4096));
      lin.copyOf(copyDest);
    }, 2_000);
    const found = lin.copyOf(copyDest);
    // An ordinary write to an unmanaged zone: new content that matches nothing.
    const fresh = customersCsv(12 * 1024 * 1024).subarray(8 * 1024 * 1024);
    const plainDest = ref(710_000);
    const plain = perCall((i) => {
      const o = (i * 4096) % fresh.length;
      lin.observeContent(plainDest, o, fresh.subarray(o, o + 4096));
      lin.copyOf(plainDest);
    }, 2_000);
    await lin.close();
    await cold.close();
    const us = (x: number) => Number(x.toFixed(2));
    const rows: BenchRow[] = [
      { metric: 'recordRead (same process, 1 000 files, taint unchanged)', value: us(read), unit: 'µs/call', target: '≤ 20 µs' },
      {
        metric: 'taintOf (tainted process, parent chain from /proc)',
        value: us(taint),
        unit: 'µs/call',
        baseline: { label: 'identity re-read from /proc on every call', value: us(taintCold), unit: 'µs/call' },
        ratio: Number((taintCold / taint).toFixed(1)),
        target: '≤ 20 µs',
        note: 'ratio = baseline / value (higher is better); identity trusted for 250 ms',
      },
      { metric: 'taintOf (process with no taint anywhere in its chain)', value: us(other), unit: 'µs/call', target: '≤ 20 µs' },
      { metric: 'recordWrite (repeat write, same taint: deduplicated)', value: us(write), unit: 'µs/call', target: '≤ 20 µs' },
      { metric: 'observeContent (4 KiB write; chunking deferred to the batch)', value: us(obs), unit: 'µs/call' },
      {
        metric: 'content-defined chunking + chunk hashes (batch, off the hot path)',
        value: Math.round(chunkMiBs),
        unit: 'MiB/s',
        baseline: { label: 'SHA-1 of the same bytes (native)', value: Math.round(shaMiBs), unit: 'MiB/s' },
        ratio: Number((chunkMiBs / shaMiBs).toFixed(2)),
        note: 'higher is better',
      },
      {
        metric: 'observeContent + copyOf after every 4 KiB write of new content (no match)',
        value: us(plain),
        unit: 'µs/call',
        note: 'every write is chunked and looked up at once, so a copy is caught at its first write',
      },
      {
        metric: 'observeContent + copyOf after every 4 KiB write of a copy in progress',
        value: us(copy),
        unit: 'µs/call',
        note: `chunks and looks up only the new bytes; match found: ${found?.path === original.path ? 'yes' : 'no'}`,
      },
    ];
    return { title: 'Lineage: hot-path cost per call', command: COMMAND, rows };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

export const scenarios: BenchScenario[] = [hotPath, writes, queries];
export type { BenchSection };
