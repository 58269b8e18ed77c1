// The verifier's fast path over raw spool bytes: find runs of consecutive records that are intact
// on their own (each line hashes to its stored hash, links to the line before, continues its seq,
// belongs to the chain), without JSON.parse and without decoding lines to strings. ChainVerifier
// (verify.ts, pushRun) then joins the runs to the chain and checks them against the signed
// checkpoints; anything unusual goes line by line through the exact path instead.
//
// Why reading fields by position is exact here. A record's line is written by buildRecord as
// canonical text: its members in RFC 8785 order with the hash member spliced in just before
// "host", and every member after the hash is a string, a number or an array of strings. In such a
// line `,"seq":`, `,"prev_hash":"` and `,"kind":"` after the hash member can only be those
// top-level members (quotes inside strings are escaped), and the first `"chain_id":` is the
// top-level one (only "action" and "bundle_hash", both strings, sort before it). A line read here
// is only taken as such a line when its own bytes prove it: the hash member must sit exactly where
// buildRecord puts it (followed by the last `,"host":` of the line), and the rest must hash to the
// stored hash. pushRun accepts runs only up to the last signed checkpoint and only when that
// checkpoint's hash is the stored hash of its record. Going back from that record, each line's
// bytes are then the ones the writer hashed (SHA-256 collision resistance), so each prev_hash read
// by position is the true one, which in turn pins the line before it, down to the first record.
// Lines after the last checkpoint, or not of that shape, go through the exact path. The per-line
// reading and hashing is line-table.ts (the audit addon, or its TypeScript twin).
import { GENESIS, LINKS, lineTable, type LineTable } from './line-table.js';

/** Records that are intact on their own; what ChainVerifier.pushRun joins to the chain. */
export interface IntactRun {
  firstSeq: number;
  lastSeq: number;
  /** prev_hash of the first record. */
  firstPrev: string;
  /** Stored hash of the last record. */
  lastHash: string;
  /** The first record is seq 0 of kind genesis. */
  genesis: boolean;
  /** Stored hashes at the seqs the caller asked about (the checkpoints), as [seq, hash]. */
  hashesAt: [number, string][];
  /**
   * The Merkle leaves of the run as perfect subtrees, in order, as [leaf count, root]: aligned as
   * the tree aligns them and cut at every requested tree size. Null when roots are not checked.
   */
  pieces: [number, string][] | null;
}

export type ScanItem = { run: IntactRun } | { line: string; index: number };

export interface ScanOptions {
  /** The chain every record must belong to. */
  chainId: string;
  /** Records with a higher seq are handed back as lines (no signed checkpoint vouches for them). */
  trustedThrough: number;
  /** Seqs whose stored hash the caller needs (checkpoint seqs). */
  hashSeqs: readonly number[];
  /** Tree sizes where the caller compares roots; null: do not compute Merkle leaves at all. */
  cutSizes: readonly number[] | null;
  /** Read and hash lines with the audit addon when it is built (default true); false: in TypeScript. */
  native?: boolean;
}

export interface ScanResult {
  items: ScanItem[];
  /** Lines in the chunk. */
  lines: number;
}

/** The run being built: lines [firstLine, lastLine] of the table. */
class RunBuilder {
  private firstLine = -1;
  private lastLine = -1;
  private hashesAt: [number, string][] = [];

  constructor(
    private readonly o: ScanOptions,
    private readonly hashSeqs: ReadonlySet<number>,
    private readonly t: LineTable,
    private readonly bytes: Buffer,
  ) {}

  /** True if line i (which counts) continues the run: the next seq, linked to the run's last line. */
  continues(i: number): boolean {
    const last = this.lastLine;
    return last >= 0 && last === i - 1 && this.t.seqs[i] === this.t.seqs[last]! + 1 && (this.t.flags[i]! & LINKS) !== 0;
  }

  add(i: number): void {
    if (this.firstLine < 0) this.firstLine = i;
    this.lastLine = i;
    const seq = this.t.seqs[i]!;
    if (this.hashSeqs.has(seq)) this.hashesAt.push([seq, this.hex(this.t.hashAt[i]!)]);
  }

  close(items: ScanItem[]): void {
    const { firstLine, lastLine, t } = this;
    if (firstLine < 0) return;
    const firstSeq = t.seqs[firstLine]!;
    const lastSeq = t.seqs[lastLine]!;
    items.push({
      run: {
        firstSeq,
        lastSeq,
        firstPrev: this.hex(t.prevAt[firstLine]!),
        lastHash: this.hex(t.hashAt[lastLine]!),
        genesis: (t.flags[firstLine]! & GENESIS) !== 0,
        hashesAt: this.hashesAt,
        pieces: this.pieces(firstLine, firstSeq, lastSeq + 1),
      },
    });
    this.firstLine = this.lastLine = -1;
    this.hashesAt = [];
  }

  private hex(at: number): string {
    return this.bytes.toString('latin1', at, at + 64);
  }

  /** Leaves [from, end) (tree positions = seqs) as aligned perfect subtrees, cut at the requested sizes. */
  private pieces(firstLine: number, from: number, end: number): [number, string][] | null {
    const cuts = this.o.cutSizes;
    if (!cuts) return null;
    const stops = cuts.filter((s) => s > from && s < end).sort((a, b) => a - b);
    stops.push(end);
    const out: [number, string][] = [];
    let pos = from;
    for (const stop of stops) {
      while (pos < stop) {
        let size = 1;
        while (pos % (size * 2) === 0 && pos + size * 2 <= stop) size *= 2;
        out.push([size, this.t.subtreeRoot(firstLine + pos - from, size)]);
        pos += size;
      }
    }
    return out;
  }
}

/** Scan a buffer of whole lines (each ending in a newline). */
export function scanLines(buf: Buffer, o: ScanOptions): ScanResult {
  const t = lineTable(buf, o.chainId, o.cutSizes !== null, o.native ?? true);
  const items: ScanItem[] = [];
  const run = new RunBuilder(o, new Set(o.hashSeqs), t, buf);
  let start = 0;
  for (let i = 0; i < t.count; i++) {
    const seq = t.seqs[i]!;
    if (seq < 0 || seq > o.trustedThrough) {
      run.close(items);
      items.push({ line: buf.toString('utf8', start, t.ends[i]), index: i });
    } else {
      if (!run.continues(i)) run.close(items);
      run.add(i);
    }
    start = t.ends[i]! + 1;
  }
  run.close(items);
  return { items, lines: t.count };
}
