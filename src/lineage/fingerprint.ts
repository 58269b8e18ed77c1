// Content fingerprints of files seen through the mounts, for copy detection. The hot
// path only copies the bytes aside (observe); chunking and hashing run in the batch
// (process). Each file is a stream of content-defined chunks; a stream that goes idle
// for a batch is closed, its tail becoming the last chunk, and its list is persisted.

import { Chunker, type Chunk } from './chunker.js';
import type { FpRec } from './records.js';

interface Segment {
  offset: number;
  buf: Buffer;
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

  /** Hot path: copy the bytes aside. Reads of a file already fingerprinted are skipped. */
  observe(node: number, offset: number, chunk: Uint8Array, written: boolean): void {
    if (offset >= this.limit || chunk.length === 0) return;
    if (written) this.writtenNodes.add(node);
    else if (!this.writtenNodes.has(node) && !this.streams.has(node) && !this.pending.has(node)) {
      const rec = this.load(node);
      if (rec !== undefined && rec.bytes >= offset + chunk.length) return;
    }
    const len = Math.min(chunk.length, this.limit - offset);
    const buf = Buffer.from(chunk.subarray(0, len)); // FUSE reuses its buffers
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
    return this.pending.has(node) || this.streams.has(node);
  }

  /**
   * Chunks what is pending. Streams that received nothing since the last call are
   * closed (their tail becomes a chunk); `closeNode` closes that node's stream now.
   */
  process(closeNode?: number): FpUpdate[] {
    const updates = new Map<number, FpUpdate>();
    const update = (node: number, s: Stream, written: boolean): FpUpdate => {
      let u = updates.get(node);
      if (u === undefined) {
        u = { node, rec: { hashes: s.hashes, sizes: s.sizes, bytes: s.bytes }, added: [], removed: [], written };
        updates.set(node, u);
      }
      u.written ||= written;
      return u;
    };
    const fed = new Set<number>();
    const only = closeNode === undefined ? this.pending : new Map([...this.pending].filter(([n]) => n === closeNode));
    for (const [node, p] of only) {
      this.pending.delete(node);
      fed.add(node);
      for (const seg of p.segs) {
        this.pendingBytes -= seg.buf.length;
        let s = this.streams.get(node);
        if (s === undefined || (seg.offset === 0 && s.next > 0)) {
          const old = s === undefined ? this.load(node) : { hashes: s.hashes, sizes: s.sizes, bytes: s.bytes };
          const continues = old !== undefined && seg.offset !== 0;
          s = {
            chunker: new Chunker(),
            next: continues ? seg.offset : 0,
            hashes: continues ? old.hashes.slice() : [],
            sizes: continues ? old.sizes.slice() : [],
            bytes: continues ? old.bytes : 0,
          };
          this.streams.set(node, s);
          const u = update(node, s, p.written);
          if (!continues && old !== undefined) u.removed.push(...old.hashes);
          u.rec = { hashes: s.hashes, sizes: s.sizes, bytes: s.bytes };
        } else if (seg.offset !== s.next) {
          // Not contiguous (a seek, or an overwrite): end the chunk in progress there.
          const u = update(node, s, p.written);
          s.chunker.end((c) => push(s!, u, c));
          s.next = seg.offset;
        }
        const u = update(node, s, p.written);
        const st = s;
        st.chunker.feed(seg.buf, (c) => push(st, u, c));
        st.next = seg.offset + seg.buf.length;
      }
    }
    for (const [node, s] of this.streams) {
      if (closeNode === undefined ? fed.has(node) : node !== closeNode) continue;
      const u = update(node, s, this.writtenNodes.has(node));
      s.chunker.end((c) => push(s, u, c));
      this.streams.delete(node);
    }
    for (const u of updates.values()) {
      const s = this.streams.get(u.node);
      if (s !== undefined) u.rec = { hashes: s.hashes, sizes: s.sizes, bytes: s.bytes };
    }
    return [...updates.values()];
  }
}

function push(s: Stream, u: FpUpdate, c: Chunk): void {
  s.hashes.push(c.hash);
  s.sizes.push(c.size);
  s.bytes += c.size;
  u.added.push(c.hash);
  u.rec = { hashes: s.hashes, sizes: s.sizes, bytes: s.bytes };
}
