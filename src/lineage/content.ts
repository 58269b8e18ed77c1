// Content side of lineage: fingerprints of what is written (observeContent) and of
// the source files of what is read (background scans), incremental copy matching,
// and turning a match into lineage (a copy edge, the copy or the derived rule).
// The store calls batch() once per LMDB transaction.

import { CopyMatcher, copyDecision, type CopyCandidate } from './copies.js';
import { Fingerprints, type FpUpdate } from './fingerprint.js';
import type { Graph } from './graph.js';
import * as K from './keys.js';
import type { Kv } from './kv.js';
import type { EventRec, FpRec, NodeRec } from './records.js';
import { SourceScanner } from './scanner.js';

/** Bytes written after a recorded match before copyOf looks at the content again. */
const REMATCH_BYTES = 256 * 1024;

export interface Writer {
  program: string;
  user: string;
  uid: number;
  pid: number;
  run: string;
}

export interface ContentOptions {
  /** Bytes of each file fingerprinted. */
  limit: number;
  /** Scan the source file of every file read (once per session, if changed). */
  scanReads: boolean;
}

export class Content {
  private readonly fps: Fingerprints;
  private readonly matcher: CopyMatcher;
  private readonly scanner: SourceScanner;
  /** Nodes whose source file was checked for a current fingerprint this session. */
  private readonly scanned = new Set<number>();
  /** Nodes whose chunk list changed since the last batch (persisted once per batch). */
  private readonly dirty = new Set<number>();
  /** Written nodes whose stream closed: matched once more in full. */
  private readonly candidates = new Set<number>();
  /** dst → copy evidence already recorded, so repeated matches write nothing. */
  private readonly recorded = new Map<number, { src: number; similarity: number; copy: boolean }>();
  /** The last qualifying match of a node still being written. */
  private readonly last = new Map<number, CopyCandidate>();

  constructor(
    private readonly kv: Kv,
    private readonly graph: Graph,
    private readonly event: (e: EventRec) => void,
    /** Who last wrote a file (names the writer of a copy), if known. */
    private readonly writerOf: (node: number) => Writer | undefined,
    private readonly opts: ContentOptions,
  ) {
    this.fps = new Fingerprints(opts.limit, (id) => this.stored(id), () => this.apply(this.fps.process(undefined, 'none')));
    this.matcher = new CopyMatcher(kv, graph);
    this.scanner = new SourceScanner(
      {
        stamp: (id) => this.stored(id),
        feed: (id, off, buf) => {
          this.fps.observe(id, off, buf, false, true);
          this.apply(this.fps.process(id, 'none'));
        },
        done: (id, size, mtimeMs) => {
          this.apply(this.fps.process(id, 'all'));
          const rec = this.stored(id);
          if (rec !== undefined) kv.put('fpNodes', K.fpNodeKey(id), { ...rec, size, mtimeMs });
        },
      },
      opts.limit,
    );
  }

  private stored(id: number): FpRec | undefined {
    return this.kv.get('fpNodes', K.fpNodeKey(id)) as FpRec | undefined;
  }

  /** Hot path, on a read: the first one this session queues a check of the source file. */
  noteRead(n: NodeRec): void {
    if (!this.opts.scanReads || this.scanned.has(n.id)) return;
    this.scanned.add(n.id);
    this.scanner.enqueue(n.id, n.sourcePath);
  }

  /** Hot path: bytes read from or written to a file, set aside for the batch. */
  observe(n: NodeRec, offset: number, chunk: Uint8Array, written: boolean): void {
    this.fps.observe(n.id, offset, chunk, written);
  }

  /** Whether content of the node is still being chunked (a match may change). */
  inProgress(id: number): boolean {
    return this.fps.hasPending(id) || this.fps.isOpen(id);
  }

  get bufferedBytes(): number {
    return this.fps.bufferedBytes;
  }

  /**
   * Best match of a node now (chunks so far and the one still open); records it when it
   * qualifies. Once a file is known to be a copy or partial copy, later calls answer from
   * that until REMATCH_BYTES more have been written (the batch keeps chunking meanwhile):
   * the decision the caller needs cannot get weaker, since inheritance only grows.
   */
  match(n: NodeRec): CopyCandidate | undefined {
    const known = this.last.get(n.id);
    if (known !== undefined && this.fps.pendingOf(n.id) < REMATCH_BYTES) return known;
    if (this.fps.hasPending(n.id)) this.apply(this.fps.process(n.id, 'none'));
    const m = this.matcher.match(n, this.fps.current(n.id), this.fps.openChunk(n.id));
    if (m !== undefined) this.record(n, m);
    return m;
  }

  /** Batch step: chunk what is pending, close idle streams (all with `all`), match, persist. */
  batch(all: boolean): void {
    this.apply(this.fps.process(undefined, all ? 'all' : 'idle'));
    for (const id of this.candidates) {
      this.candidates.delete(id);
      const n = this.graph.node(id);
      if (n === undefined) continue;
      const m = this.matcher.match(n, this.fps.current(id));
      this.matcher.forget(id);
      if (m !== undefined) this.record(n, m);
      this.recorded.delete(id);
      this.last.delete(id);
    }
    for (const id of this.dirty) {
      const cur = this.fps.current(id);
      // A snapshot: the open stream keeps appending to its arrays.
      if (cur !== undefined) this.kv.put('fpNodes', K.fpNodeKey(id), { hashes: cur.hashes.slice(), sizes: cur.sizes.slice(), bytes: cur.bytes } satisfies FpRec);
    }
    this.dirty.clear();
  }

  /** Resolves when queued source scans are done. */
  idle(): Promise<void> {
    return this.scanner.idle();
  }

  stop(): Promise<void> {
    return this.scanner.stop();
  }

  /** Indexes new chunks now (so other files match against them); lists go out per batch. */
  private apply(updates: FpUpdate[]): void {
    for (const u of updates) {
      for (const h of u.removed) this.kv.del('fp', K.fpKey(h, u.node));
      for (const h of u.added) this.kv.put('fp', K.fpKey(h, u.node), 1);
      if (u.removed.length > 0) {
        this.matcher.forget(u.node);
        this.recorded.delete(u.node);
        this.last.delete(u.node);
      }
      if (this.fps.isOpen(u.node)) {
        this.dirty.add(u.node);
      } else {
        // The stream ended: its arrays are final and belong to us now.
        this.kv.put('fpNodes', K.fpNodeKey(u.node), u.rec);
        this.dirty.delete(u.node);
        if (u.written) this.candidates.add(u.node);
      }
    }
  }

  /** Turns copy evidence into lineage: a copy edge, and the copy or the derived rule. */
  private record(n: NodeRec, m: CopyCandidate): void {
    const d = copyDecision(m);
    if (d === undefined) return;
    this.last.set(n.id, m);
    const prev = this.recorded.get(n.id);
    if (prev !== undefined && prev.src === m.node.id && (prev.copy || d === 'partial') && m.similarity - prev.similarity < 0.05) return;
    this.recorded.set(n.id, { src: m.node.id, similarity: m.similarity, copy: d === 'copy' });
    const time = Date.now();
    // The writer, when known, is who made the copy (a process that never read the source
    // through a mount: that is why content had to tell).
    const w = this.writerOf(n.id) ?? { program: '', user: '', uid: -1, pid: 0, run: '' };
    const who = { program: w.program, user: w.user, uid: w.uid, pid: w.pid, run: w.run };
    const fresh = this.graph.edge(m.node.id, n.id, { op: 'copy', ...who, time, similarity: m.similarity });
    if (d === 'copy') this.graph.setCopy(n, { src: m.node.id, similarity: m.similarity, coverage: m.coverage });
    else this.graph.inherit(n, this.graph.eff(m.node), [m.node.id]);
    if (fresh) this.event({ kind: 'write', time, op: 'copy', ...who, dst: n.id, srcs: [m.node.id], similarity: m.similarity });
  }
}
