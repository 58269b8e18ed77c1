// Content fingerprints of files seen through the mounts, for copy detection. The hot
// path only copies the bytes aside (observe); chunking and hashing run in the batch
// (process). Each file is a stream of content-defined chunks; a stream that goes idle
// for a batch is closed, its tail becoming the last chunk, and its list is persisted.

import { Chunker, type Chunk } from './chunker.js';
import type { FpRec } from './records.js';

interface Segment {
  offset: number;
  buf: Uint8Array;
}

interface Stream {
  chunker: Chunker;
  /** Offset the next contiguous byte would have. */
  next: number;
  hashes: number[];
  sizes: number[];
  bytes: number;
}

export interface FpUpdate {
  node: number;
  rec: FpRec;
  /** Hashes added to the node since the last update (to index). */
  added: number[];
  /** Hashes the node no longer has (content rewritten from offset 0). */
  removed: number[];
  /** Content came from a write (so the node is a copy candidate). */
  written: boolean;
}

/** Pending bytes above which observe() processes at once rather than buffer more. */
const PENDING_MAX = 64 * 1024 * 1024;

export class Fingerprints {
  private readonly pending = new Map<number, { segs: Segment[]; written: boolean }>();
  private readonly streams = new Map<number, Stream>();
  /** Nodes written since open: a read of them must be fingerprinted again. */
  private readonly writtenNodes = new Set<number>();
  private pendingBytes = 0;

  constructor(
    /** Bytes of each file that are fingerprinted (the rest is ignored). */
    private readonly limit: number,
    private readonly load: (node: number) => FpRec | undefined,
    private readonly onOverflow: () => void,
  ) {}

  /**
   * Hot path: keep the bytes for the batch. Precondition: the caller hands `chunk` over
   * (it must not be reused or changed afterwards). Reads of a file already
   * fingerprinted are skipped.
   */
  observe(node: number, offset: number, chunk: Uint8Array, written: boolean, force = false): void {
    if (offset >= this.limit || chunk.length === 0) return;
    if (written) this.writtenNodes.add(node);
    else if (!force && !this.writtenNodes.has(node) && !this.streams.has(node) && !this.pending.has(node)) {
      const rec = this.load(node);
      if (rec !== undefined && rec.bytes >= offset + chunk.length) return;
    }
    const len = Math.min(chunk.length, this.limit - offset);
    const buf = chunk.subarray(0, len);
    let p = this.pending.get(node);
    if (p === undefined) this.pending.set(node, (p = { segs: [], written }));
    p.segs.push({ offset, buf });
    p.written ||= written;
    this.pendingBytes += len;
    if (this.pendingBytes > PENDING_MAX) this.onOverflow();
  }

  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  hasPending(node: number): boolean {
    return this.pending.has(node);
  }

  /** Bytes of a node waiting to be chunked. */
  pendingOf(node: number): number {
    const p = this.pending.get(node);
    if (p === undefined) return 0;
    let n = 0;
    for (const s of p.segs) n += s.buf.length;
    return n;
  }

  /**
   * Chunks what is pending (for one node, or all). `close` says which streams then end,
   * their tail becoming a chunk: 'idle' those that received nothing in this call (the
   * batch), 'all' every one (flush), 'none' none (a query in the middle of a write).
   */
  process(node?: number, close: 'idle' | 'all' | 'none' = 'idle'): FpUpdate[] {
    const updates = new Map<number, FpUpdate>();
    const update = (id: number, s: Stream, written: boolean): FpUpdate => {
      let u = updates.get(id);
      if (u === undefined) {
        u = { node: id, rec: { hashes: s.hashes, sizes: s.sizes, bytes: s.bytes }, added: [], removed: [], written };
        updates.set(id, u);
      }
      u.written ||= written;
      return u;
    };
    const fed = new Set<number>();
    const todo = node === undefined ? [...this.pending] : this.pending.has(node) ? [[node, this.pending.get(node)!] as const] : [];
    for (const [id, p] of todo) {
      this.pending.delete(id);
      fed.add(id);
      for (const seg of p.segs) {
        this.pendingBytes -= seg.buf.length;
        let s = this.streams.get(id);
        if (s === undefined || (seg.offset === 0 && s.next > 0)) {
          const old = s === undefined ? this.load(id) : { hashes: s.hashes, sizes: s.sizes, bytes: s.bytes };
          const continues = old !== undefined && seg.offset !== 0;
          s = {
            chunker: new Chunker(),
            next: continues ? seg.offset : 0,
            hashes: continues ? old.hashes.slice() : [],
            sizes: continues ? old.sizes.slice() : [],
            bytes: continues ? old.bytes : 0,
          };
          this.streams.set(id, s);
          const u = update(id, s, p.written);
          if (!continues && old !== undefined) u.removed.push(...old.hashes);
        } else if (seg.offset !== s.next) {
          // Not contiguous (a seek, or an overwrite): end the chunk in progress there.
          const st = s;
          const u = update(id, st, p.written);
          st.chunker.end((c) => push(st, u, c));
          st.next = seg.offset;
        }
        const st = s;
        const u = update(id, st, p.written);
        st.chunker.feed(seg.buf, (c) => push(st, u, c));
        st.next = seg.offset + seg.buf.length;
      }
    }
    if (close !== 'none') {
      for (const [id, s] of this.streams) {
        if (node !== undefined && id !== node) continue;
        if (close === 'idle' && fed.has(id)) continue;
        const u = update(id, s, this.writtenNodes.has(id));
        s.chunker.end((c) => push(s, u, c));
        this.streams.delete(id);
      }
    }
    for (const u of updates.values()) {
      const s = this.streams.get(u.node);
      if (s !== undefined) u.rec = { hashes: s.hashes, sizes: s.sizes, bytes: s.bytes };
    }
    return [...updates.values()];
  }

  /** The node's chunk list as it stands (live arrays of an open stream: do not keep). */
  current(node: number): FpRec | undefined {
    const s = this.streams.get(node);
    return s === undefined ? this.load(node) : { hashes: s.hashes, sizes: s.sizes, bytes: s.bytes };
  }

  /** The chunk in progress of an open stream (hash of its bytes so far), if any. */
  openChunk(node: number): Chunk | undefined {
    return this.streams.get(node)?.chunker.peek();
  }

  /** A node was written: reads of it must be fingerprinted again. */
  wasWritten(node: number): boolean {
    return this.writtenNodes.has(node);
  }

  /** Whether the node's stream is still open (more of the file may come). */
  isOpen(node: number): boolean {
    return this.streams.has(node);
  }
}

function push(s: Stream, u: FpUpdate, c: Chunk): void {
  s.hashes.push(c.hash);
  s.sizes.push(c.size);
  s.bytes += c.size;
  u.added.push(c.hash);
  u.rec = { hashes: s.hashes, sizes: s.sizes, bytes: s.bytes };
}
