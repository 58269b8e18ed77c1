// LineageStore: the object the daemon holds. Hot-path calls (recordRead, taintOf,
// recordWrite, observeContent) touch only memory and the write-back overlay; a batch
// timer chunks observed content, detects copies, propagates inherited classification
// and commits everything in one LMDB transaction. Queries settle pending work first.

import { statSync } from 'node:fs';
import type { Classification } from '../classify/types.js';
import { Content } from './content.js';
import { bestCopy } from './copies.js';
import { Graph } from './graph.js';
import { combine, sameCls } from './inherit.js';
import * as K from './keys.js';
import { Kv } from './kv.js';
import { bootId, procStat } from './proc.js';
import { downstreamGraph, impactOf, toPublicNode, upstreamGraph } from './query.js';
import { exportEvents } from './openlineage.js';
import type { ClsRec, EventRec, NodeRec, ProcRec, RunRec } from './records.js';
import { TaintTracker, type ProcTaint } from './taint.js';
import type {
  CopyMatch,
  DerivationOp,
  DerivationOptions,
  ExportOptions,
  FileRef,
  ImpactEntry,
  InheritedClassification,
  LineageGraph,
  LineageNode,
  LineageStats,
  LineageStore,
  OpenOptions,
  ProcessMeta,
  Taint,
  WriteOp,
} from './types.js';

interface Writer extends ProcessMeta {
  pid: number;
  startTime: string;
  run: string;
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Stable error codes callers (the CLI) branch on. */
export type LineageErrorCode = 'not_found' | 'read_only' | 'closed' | 'schema_mismatch' | 'no_store' | 'locked';

export class LineageError extends Error {
  constructor(
    readonly code: LineageErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'LineageError';
  }
}

export class Lineage implements LineageStore {
  private readonly kv: Kv;
  private readonly graph: Graph;
  private readonly taint: TaintTracker;
  private readonly content: Content;
  /** Per run: (dest, op) → taint version last turned into edges; repeats are skipped. */
  private readonly written = new Map<string, Map<string, number>>();
  private readonly runsSeen = new Set<string>();
  /** Runs with lineage whose end is still to be recorded (tainted or not). */
  private readonly openRuns = new Map<string, { pid: number; startTime: string }>();
  /** Last process that wrote each file, to name the writer of a copy found by content. */
  private readonly writers = new Map<number, Writer>();
  private nextEvent: number;
  private batchTimer: NodeJS.Timeout | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private closed = false;
  /** Last error of a background batch; surfaced by flush() so it is not lost. */
  private batchError: unknown;
  private readonly retentionMs: number;

  constructor(kv: Kv, opts: OpenOptions) {
    this.kv = kv;
    this.retentionMs = (opts.eventRetentionDays ?? 365) * 86_400_000;
    this.graph = new Graph(kv, Date.now);
    this.taint = new TaintTracker((id) => this.describe(id), opts.identityTtlMs ?? 250, opts.identify);
    this.content = new Content(
      kv,
      this.graph,
      (e) => this.event(e),
      (id) => {
        const w = this.writers.get(id);
        if (w !== undefined) this.noteRun(w.pid, w.startTime, w.program, w);
        return w;
      },
      { limit: opts.fingerprintBytes ?? 64 * 1024 * 1024, scanReads: opts.scanReads !== false },
    );
    this.nextEvent = (kv.get('meta', K.metaKey.nextEvent) as number | undefined) ?? 1;
    if (!kv.readOnly) {
      this.restoreTaint();
      const batchMs = opts.batchMs ?? 50;
      this.batchTimer = setInterval(() => void this.tick(false), batchMs);
      this.batchTimer.unref();
      this.pruneTimer = setInterval(() => this.prune(), opts.pruneMs ?? 5000);
      this.pruneTimer.unref();
    }
  }

  // ---- hot path -------------------------------------------------------------------

  recordRead(pid: number, file: FileRef, cls: Classification): void {
    this.writable();
    const n = this.graph.resolve(file);
    const c: ClsRec = { tier: cls.tier, tags: [...cls.tags].sort(), conf: cls.confidence };
    if (!sameCls(n.content, c)) this.graph.setContent(n, c);
    this.content.noteRead(n);
    const st = this.taint.identify(pid);
    if (st === undefined) return; // exited before we got here: nothing left to taint
    // The process holds the file's effective classification: a report that scans PUBLIC
    // but was derived from PROPRIETARY data taints its reader PROPRIETARY.
    const e = this.graph.eff(n) ?? c;
    this.taint.add(st, { node: n.id, tier: e.tier, tags: e.tags, conf: e.conf });
  }

  taintOf(pid: number): Taint {
    return this.taint.taintOf(pid);
  }

  recordWrite(pid: number, dest: FileRef, op: WriteOp, meta: ProcessMeta): void {
    this.writable();
    const n = this.graph.resolve(dest, op === 'create');
    const st = this.taint.identify(pid);
    if (st === undefined) return;
    const run = K.runKeyOf(st.pid, st.startTime);
    const w = this.writers.get(n.id);
    if (w === undefined || w.run !== run) {
      if (this.writers.size >= 100_000) this.writers.clear(); // bounded: only names copies
      this.writers.set(n.id, { ...meta, pid: st.pid, startTime: st.startTime, run });
    }
    const t = this.taint.taintOf(pid);
    if (t.sources.length === 0) return;
    let seen = this.written.get(run);
    if (seen === undefined) this.written.set(run, (seen = new Map()));
    const dk = `${n.id}:${op}`;
    if (seen.get(dk) === t.version) return; // the same process wrote here with the same taint
    seen.set(dk, t.version);

    const srcs = t.sources.filter((s) => s.node !== n.id); // rewriting a file you read is no new source
    if (srcs.length === 0) return;
    const time = Date.now();
    let derived: ClsRec | undefined;
    for (const s of srcs) {
      this.graph.edge(s.node, n.id, { op, program: meta.program, user: meta.user, uid: meta.uid, pid: st.pid, run, time });
      derived = combine(derived, s);
    }
    this.graph.inherit(n, derived, srcs.map((s) => s.node));
    this.noteRun(st.pid, st.startTime, meta.program, meta);
    this.event({ kind: 'write', time, op, run, pid: st.pid, program: meta.program, user: meta.user, uid: meta.uid, dst: n.id, srcs: srcs.map((s) => s.node) });
  }

  recordRename(from: FileRef, to: FileRef, meta: ProcessMeta): void {
    this.writable();
    // A directory: what lived below it follows. (Cheap when nothing did: one range read.)
    const below = this.graph.moveTree(from, to);
    const n = this.graph.find(from);
    if (n === undefined || n.deleted !== undefined) {
      // Nothing known under the old name: a file starts its lineage under the new one;
      // a directory is not a node.
      if (below === 0 && !isDirectory(to.sourcePath)) this.graph.resolve(to, true);
      return;
    }
    const oldPath = n.path;
    this.graph.move(n, to);
    this.event({ kind: 'rename', time: Date.now(), run: '', program: meta.program, user: meta.user, uid: meta.uid, node: n.id, from: oldPath, to: to.path });
  }

  /**
   * Lineage of an output the daemon produced itself (`lacuna-fs anonymize IN OUT`):
   * there is no tainted writer to learn the sources from, so they are named. Every
   * source gets an edge to `dest` with `op`, attributed to this process (`meta` names
   * the job), and one event, so upstream/downstream/impact and the OpenLineage export
   * show it. `dest` inherits the sources' effective classification; with
   * `opts.aggregate` (forced for 'anonymize') it is marked an aggregate first, so what
   * it inherits is capped at INTERNAL with DERIVED_FROM_<TAG> tags. Precondition: the
   * sources' classification is known to lineage (read through a mount, or derived);
   * a source lineage has never seen becomes a node that contributes nothing until it is.
   */
  recordDerivation(sources: FileRef[], dest: FileRef, op: DerivationOp, meta: ProcessMeta, opts: DerivationOptions = {}): void {
    this.writable();
    if (this.graph.hasRaised) this.graph.settle(); // sources contribute what they hold now
    const n = this.graph.resolve(dest);
    if (op === 'anonymize' || opts.aggregate === true) this.graph.markAggregate(n);
    const srcs = new Map<number, NodeRec>();
    for (const s of sources) {
      const sn = this.graph.resolve(s);
      if (sn.id !== n.id) srcs.set(sn.id, sn);
    }
    if (srcs.size === 0) return;
    const pid = process.pid;
    const startTime = procStat(pid, true)?.startTime ?? '0';
    const run = K.runKeyOf(pid, startTime);
    const time = Date.now();
    let derived: ClsRec | undefined;
    for (const s of srcs.values()) {
      this.graph.edge(s.id, n.id, { op, program: meta.program, user: meta.user, uid: meta.uid, pid, run, time });
      derived = combine(derived, this.graph.eff(s));
    }
    const ids = [...srcs.keys()];
    this.graph.inherit(n, derived, ids);
    this.noteRun(pid, startTime, meta.program, meta);
    this.event({ kind: 'write', time, op, run, pid, program: meta.program, user: meta.user, uid: meta.uid, dst: n.id, srcs: ids });
  }

  recordUnlink(file: FileRef): void {
    this.writable();
    const n = this.graph.byPath(file.path) ?? this.graph.find(file);
    if (n === undefined || n.deleted !== undefined) return;
    this.graph.unlink(n, file.path);
    this.event({ kind: 'unlink', time: Date.now(), node: n.id, path: file.path });
  }

  /**
   * Keeps bytes for fingerprinting (chunking happens in the batch). Precondition: the
   * caller hands `chunk` over — a buffer FUSE will reuse must be copied first, since the
   * store holds it until the next batch. `kind` says whether the bytes were read from or
   * written to the file; reads of a file already fingerprinted are skipped.
   */
  observeContent(file: FileRef, offset: number, chunk: Buffer, kind: 'read' | 'write' = 'write'): void {
    this.writable();
    this.content.observe(this.graph.resolve(file), offset, chunk, kind === 'write');
  }

  markAggregate(file: FileRef): void {
    this.writable();
    this.graph.markAggregate(this.graph.resolve(file));
  }

  // ---- classification -------------------------------------------------------------

  /**
   * The known file this one is a copy or partial copy of, from the content observed so
   * far (the chunk still being written included). Cheap enough to ask after every
   * write: only chunks added since the last call are looked up. A match that passes
   * the thresholds is also recorded (copy edge, inherited classification).
   */
  copyOf(file: FileRef): CopyMatch | undefined {
    const n = this.graph.find(file);
    if (n === undefined) return undefined;
    const m = this.kv.readOnly ? bestCopy(this.kv, this.graph, n) : this.content.match(n);
    return m && { path: m.node.path, similarity: m.similarity, coverage: m.coverage };
  }

  inherited(file: FileRef): InheritedClassification | undefined {
    const n = this.graph.find(file);
    if (n === undefined) return undefined;
    if (!this.kv.readOnly) {
      if (this.content.inProgress(n.id)) this.content.match(n);
      if (this.graph.hasRaised) this.graph.settle();
    }
    const rec = this.graph.inheritedRec(n);
    if (rec === undefined) return undefined;
    const sources = this.sourcePaths(n);
    const how = n.copy !== undefined ? 'a copy of' : n.aggregate ? 'an aggregate of' : 'derived from';
    return {
      tier: rec.tier,
      tags: rec.tags,
      confidence: rec.conf,
      layer: 0,
      reasoning: `${how} ${sources.join(', ')}`,
      findings: [],
      sources,
    };
  }

  private sourcePaths(n: NodeRec): string[] {
    const ids = new Set(n.inh?.srcs ?? []);
    if (n.copy !== undefined) ids.add(n.copy.src);
    const out: string[] = [];
    for (const id of ids) {
      const s = this.graph.node(id);
      if (s !== undefined) out.push(s.path);
    }
    return out.sort();
  }

  // ---- queries --------------------------------------------------------------------

  node(path: string): LineageNode | undefined {
    this.settle();
    const n = this.graph.byPath(path);
    return n && toPublicNode(this.graph, n);
  }

  upstream(path: string, depth = Infinity): LineageGraph {
    return upstreamGraph(this.graph, this.root(path), depth);
  }

  downstream(path: string, depth = Infinity): LineageGraph {
    return downstreamGraph(this.graph, this.root(path), depth);
  }

  impact(path: string): ImpactEntry[] {
    return impactOf(this.graph, this.root(path));
  }

  async *exportOpenLineage(opts: ExportOptions = {}): AsyncIterable<object> {
    if (!this.kv.readOnly) await this.flush();
    yield* exportEvents(this.kv, this.graph, opts);
  }

  private root(path: string): NodeRec {
    this.settle();
    const n = this.graph.byPath(path);
    if (n === undefined) throw new LineageError('not_found', `no lineage recorded for ${path}`);
    return n;
  }

  private settle(): void {
    if (!this.kv.readOnly && this.graph.hasRaised) this.graph.settle();
  }

  stats(): LineageStats {
    const h = this.kv.status;
    const out: LineageStats = {
      processes: this.taint.procs.size,
      nodes: this.graph.nodeCount,
      edges: this.kv.count('edgesIn'),
      pendingWrites: this.kv.pendingWrites + (this.content.bufferedBytes > 0 ? 1 : 0),
      dbBytes: this.kv.fileBytes(),
      healthy: h.healthy,
      failedCommits: h.failedCommits,
      droppedWrites: h.droppedWrites,
    };
    if (h.lastError !== undefined) out.lastError = h.lastError;
    if (h.lastErrorAt !== undefined) out.lastErrorAt = new Date(h.lastErrorAt).toISOString();
    return out;
  }

  // ---- batching -------------------------------------------------------------------

  async flush(): Promise<void> {
    if (this.kv.readOnly) return;
    await this.content.idle();
    await this.tick(true);
    if (this.batchError !== undefined) {
      const e = this.batchError;
      this.batchError = undefined;
      throw e;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.batchTimer) clearInterval(this.batchTimer);
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    await this.content.stop();
    try {
      await this.flush();
    } finally {
      this.closed = true;
      await this.kv.close();
    }
  }

  /**
   * One batch: fingerprints, copies, propagation, taint persistence, one commit. A
   * failed commit (a full disk) of a timer batch is not an error to surface later: the
   * writes stay pending, the Kv retries with backoff and stats() shows it. A flush
   * (`all`) commits now and its caller gets the failure.
   */
  private tick(all: boolean): Promise<void> {
    const run = async (): Promise<void> => {
      try {
        this.content.batch(all);
        this.closeRuns(this.taint.drainEnded());
        if (this.graph.hasRaised) this.graph.settle();
        this.persistTaint();
      } catch (e) {
        this.batchError = e;
      }
      try {
        await this.kv.commit({ ifDue: !all });
      } catch (e) {
        if (all) this.batchError = e;
      }
    };
    // Batches never overlap; a flush waits for the one in progress and then runs its own.
    const next = (this.ticking ?? Promise.resolve()).then(run);
    this.ticking = next;
    return next;
  }

  private persistTaint(): void {
    const boot = bootId();
    for (const run of this.taint.dirty) {
      const p = this.taint.procs.get(run);
      if (p === undefined) {
        this.kv.del('procs', K.procKey(run));
        continue;
      }
      const rec: ProcRec = { run, boot, pid: p.pid, startTime: p.startTime, ppid: p.ppid, sources: [...p.sources.values()] };
      this.kv.put('procs', K.procKey(run), rec);
    }
    this.taint.dirty.clear();
  }

  private restoreTaint(): void {
    const boot = bootId();
    for (const { value } of this.kv.range('procs', K.fullRange())) {
      const rec = value as ProcRec;
      const p: ProcTaint = {
        run: rec.run,
        pid: rec.pid,
        startTime: rec.startTime,
        ppid: rec.ppid,
        sources: new Map(rec.sources.map((s) => [s.node, { ...s, conf: (s as { conf?: number }).conf ?? 1 }])),
      };
      if (rec.boot === boot) this.taint.restore(p);
      else this.kv.del('procs', K.procKey(rec.run));
    }
    this.prune(); // those that died while the daemon was down
  }

  /**
   * Deletes events (and runs that ended) before `before` (default: now minus the
   * retention), at most `max` per call so a sweep never holds the event loop long.
   * Returns how many events went. Nodes and edges are kept.
   */
  expireEvents(before?: Date, max = 10_000): number {
    this.writable();
    if (before === undefined && this.retentionMs <= 0) return 0; // kept forever
    const cutoff = before?.getTime() ?? Date.now() - this.retentionMs;
    let n = 0;
    for (const { key } of this.kv.range('events', K.timeBefore(cutoff))) {
      if (n >= max) break;
      this.kv.del('events', key);
      n++;
    }
    let r = 0;
    for (const { key } of this.kv.range('runEnds', K.timeBefore(cutoff))) {
      if (r >= max) break;
      this.kv.del('runEnds', key);
      this.kv.del('runs', K.runKey((key as [number, string])[1]));
      r++;
    }
    return n;
  }

  /** Drops the taint of dead processes and closes their runs; expires old events. */
  private prune(): void {
    if (this.closed) return;
    if (this.retentionMs > 0) this.expireEvents();
    this.closeRuns(this.taint.prune());
    // Writers that were never tainted (a copy found by content) end without taint to expire.
    const gone: Array<{ run: string }> = [];
    for (const [run, r] of this.openRuns) {
      if (this.taint.procs.has(run)) continue;
      if (procStat(r.pid, true)?.startTime !== r.startTime) gone.push({ run });
    }
    this.closeRuns(gone);
  }

  private closeRuns(ended: Array<{ run: string }>): void {
    const t = Date.now();
    for (const p of ended) {
      this.openRuns.delete(p.run);
      this.written.delete(p.run);
      this.runsSeen.delete(p.run);
      const r = this.kv.get('runs', K.runKey(p.run)) as RunRec | undefined;
      if (r !== undefined && r.end === undefined) {
        this.kv.put('runs', K.runKey(p.run), { ...r, end: t } satisfies RunRec);
        this.kv.put('runEnds', K.runEndKey(t, p.run), 1);
      }
    }
  }

  /** Records a run (process) the first time it writes lineage. */
  private noteRun(pid: number, startTime: string, program: string, meta: ProcessMeta): void {
    const run = K.runKeyOf(pid, startTime);
    if (this.runsSeen.has(run)) return;
    this.runsSeen.add(run);
    this.openRuns.set(run, { pid, startTime });
    if (this.kv.get('runs', K.runKey(run)) !== undefined) return;
    const rec: RunRec = { run, pid, startTime, program, user: meta.user, uid: meta.uid, first: Date.now() };
    this.kv.put('runs', K.runKey(run), rec);
  }

  private event(e: EventRec): void {
    const seq = this.nextEvent++;
    this.kv.put('meta', K.metaKey.nextEvent, this.nextEvent);
    this.kv.put('events', K.eventKey(e.time, seq), e);
  }

  private describe(id: number): { path: string; mount: string; zone: string } | undefined {
    const n = this.graph.node(id);
    return n && { path: n.path, mount: n.mount, zone: n.zone };
  }

  private writable(): void {
    if (this.closed) throw new LineageError('closed', 'lineage store is closed');
    if (this.kv.readOnly) throw new LineageError('read_only', 'lineage store is open read-only');
  }
}

