// Content-defined chunking for copy detection. A gear rolling hash picks chunk
// boundaries from the content itself, so a copy that starts at another offset (a
// header added, rows dropped) still shares most chunks with its source; each chunk is
// named by a 53-bit hash computed in the same pass. The tables and constants are part
// of the persisted format: changing them orphans every stored fingerprint.

/** Chunks are at least MIN and at most MAX bytes; boundaries average about 1 KiB apart. */
export const CHUNK_MIN = 128;
export const CHUNK_MAX = 8192;
/** Top 10 bits of the 32-bit gear hash: each depends on the last 22..32 bytes. */
const BOUNDARY_MASK = 0xffc00000 | 0;

const GEAR = (() => {
  // mulberry32 with a fixed seed: deterministic across runs and versions.
  const g = new Int32Array(256);
  let s = 0x6c61636e; // "lacn"
  for (let i = 0; i < 256; i++) {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    g[i] = t ^ (t >>> 14);
  }
  return g;
})();

const H1 = 0xdeadbeef | 0;
const H2 = 0x41c6ce57 | 0;

export interface Chunk {
  hash: number;
  size: number;
}

/** A streaming chunker over one contiguous byte range of a file. */
export class Chunker {
  private gear = 0;
  private h1 = H1;
  private h2 = H2;
  private len = 0;

  /** Feeds bytes; calls emit for every chunk completed inside them. */
  feed(buf: Uint8Array, emit: (c: Chunk) => void): void {
    let gear = this.gear;
    let h1 = this.h1;
    let h2 = this.h2;
    let len = this.len;
    for (let i = 0; i < buf.length; i++) {
      const b = buf[i]!;
      gear = ((gear << 1) + GEAR[b]!) | 0;
      h1 = Math.imul(h1 ^ b, 2654435761);
      h2 = Math.imul(h2 ^ b, 1597334677);
      len++;
      if ((len >= CHUNK_MIN && (gear & BOUNDARY_MASK) === 0) || len >= CHUNK_MAX) {
        emit({ hash: finish(h1, h2), size: len });
        gear = 0;
        h1 = H1;
        h2 = H2;
        len = 0;
      }
    }
    this.gear = gear;
    this.h1 = h1;
    this.h2 = h2;
    this.len = len;
  }

  /** Ends the range: the bytes since the last boundary become the final chunk. */
  end(emit: (c: Chunk) => void): void {
    if (this.len > 0) emit({ hash: finish(this.h1, this.h2), size: this.len });
    this.gear = 0;
    this.h1 = H1;
    this.h2 = H2;
    this.len = 0;
  }

  /** The chunk in progress as if it ended here, without ending it. */
  peek(): Chunk | undefined {
    return this.len > 0 ? { hash: finish(this.h1, this.h2), size: this.len } : undefined;
  }
}

// cyrb53-style avalanche of two 32-bit lanes into a 53-bit integer (exact in a double).
function finish(a: number, b: number): number {
  let h1 = Math.imul(a ^ (a >>> 16), 2246822507);
  h1 ^= Math.imul(b ^ (b >>> 13), 3266489909);
  let h2 = Math.imul(b ^ (b >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** Chunks of a whole buffer (tests, and fingerprinting a file in one go). */
export function chunkAll(buf: Uint8Array): Chunk[] {
  const out: Chunk[] = [];
  const c = new Chunker();
  c.feed(buf, (x) => out.push(x));
  c.end((x) => out.push(x));
  return out;
}
