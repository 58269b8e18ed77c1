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
// Lines after the last checkpoint, or not of that shape, go through the exact path.
import { merkleLeafHex, recordHashOfLine } from './hash.js';
import { perfectSubtreeRoot } from './merkle.js';

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
}

export interface ScanResult {
  items: ScanItem[];
  /** Lines in the chunk. */
  lines: number;
}

const HASH_AT = ',"hash":"';
const HOST_AT = ',"host":';
const SEQ_AT = ',"seq":';
const PREV_AT = ',"prev_hash":"';
const KIND_AT = ',"kind":"';
const CHAIN_AT = '"chain_id":';

interface LineFacts {
  seq: number;
  hash: string;
  prev: string;
  genesis: boolean;
}

/**
 * The facts the chain needs from the line at [start, end), or null when the line is not provably
 * a record as buildRecord writes it (then the exact path judges it). `text` is the chunk decoded
 * as latin1, one char per byte, so its string offsets are byte offsets into `bytes`: searching a
 * string is much cheaper than Buffer.indexOf, and every pattern is ASCII (UTF-8 multi-byte
 * sequences contain no ASCII bytes, so they cannot fake one).
 */
function lineFacts(text: string, bytes: Buffer, start: number, end: number, chainMember: string): LineFacts | null {
  // The hash member sits right before the last `,"host":`, as buildRecord splices it. (Forward
  // searches only: String.prototype.lastIndexOf is a plain loop, some 40 times slower here.)
  let host = text.indexOf(HOST_AT, start);
  if (host < 0 || host >= end) return null;
  for (let next = text.indexOf(HOST_AT, host + 1); next !== -1 && next < end; next = text.indexOf(HOST_AT, host + 1)) host = next;
  const at = host - 74;
  if (at <= start || !text.startsWith(HASH_AT, at) || text.charCodeAt(at + 73) !== 0x22) return null;
  const tail = host;
  const c = text.indexOf(CHAIN_AT, start);
  if (c <= start || c > at) return null;
  const before = text.charCodeAt(c - 1);
  if ((before !== 0x7b && before !== 0x2c) || !text.startsWith(chainMember, c + CHAIN_AT.length)) return null;
  // After the hash member a record has only flat members: the first occurrence is the member.
  const s = text.indexOf(SEQ_AT, tail);
  if (s < 0 || s >= end) return null;
  const digits = s + SEQ_AT.length;
  let i = digits;
  let seq = 0;
  for (let d = text.charCodeAt(i); d >= 0x30 && d <= 0x39; d = text.charCodeAt(++i)) seq = seq * 10 + d - 0x30;
  const stop = text.charCodeAt(i);
  if (i === digits || i - digits > 15 || (text.charCodeAt(digits) === 0x30 && i - digits > 1) || (stop !== 0x2c && stop !== 0x7d) || i >= end) return null;
  const p = text.indexOf(PREV_AT, tail);
  if (p < 0 || p > s || text.charCodeAt(p + PREV_AT.length + 64) !== 0x22) return null;
  // Not checked for hex here: a prev_hash only ever counts by being equal to a computed hash.
  const prev = text.slice(p + PREV_AT.length, p + PREV_AT.length + 64);
  const stored = text.slice(at + 9, at + 73);
  // The body the hash covers: the line without its hash member.
  if (recordHashOfLine(bytes, start, end, at, 74) !== stored) return null;
  let genesis = false;
  if (seq === 0) {
    const k = text.indexOf(KIND_AT, tail);
    genesis = k >= 0 && k < p && text.startsWith('genesis"', k + KIND_AT.length);
  }
  return { seq, hash: stored, prev, genesis };
}

class RunBuilder {
  private first: LineFacts | null = null;
  private last: LineFacts | null = null;
  private hashesAt: [number, string][] = [];
  private leaves: string[] = [];

  constructor(private readonly o: ScanOptions, private readonly hashSeqs: ReadonlySet<number>) {}

  /** True if the line continues the run. */
  continues(f: LineFacts): boolean {
    const last = this.last;
    return last !== null && f.seq === last.seq + 1 && f.prev === last.hash;
  }

  add(f: LineFacts): void {
    this.first ??= f;
    this.last = f;
    if (this.hashSeqs.has(f.seq)) this.hashesAt.push([f.seq, f.hash]);
    if (this.o.cutSizes) this.leaves.push(merkleLeafHex(f.hash));
  }

  close(items: ScanItem[]): void {
    const { first, last } = this;
    if (!first || !last) return;
    items.push({
      run: { firstSeq: first.seq, lastSeq: last.seq, firstPrev: first.prev, lastHash: last.hash, genesis: first.genesis, hashesAt: this.hashesAt, pieces: this.pieces(first.seq, last.seq + 1) },
    });
    this.first = this.last = null;
    this.hashesAt = [];
    this.leaves = [];
  }

  /** Leaves [from, end) (tree positions = seqs) as aligned perfect subtrees, cut at the requested sizes. */
  private pieces(from: number, end: number): [number, string][] | null {
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
        out.push([size, perfectSubtreeRoot(this.leaves, pos - from, size)]);
        pos += size;
      }
    }
    return out;
  }
}

/** Scan a buffer of whole lines (each ending in a newline). */
export function scanLines(buf: Buffer, o: ScanOptions): ScanResult {
  const text = buf.toString('latin1');
  // The chain id member's value and the comma after it (a record always has members after it).
  const chainMember = Buffer.from(`${JSON.stringify(o.chainId)},`).toString('latin1');
  const items: ScanItem[] = [];
  const run = new RunBuilder(o, new Set(o.hashSeqs));
  let start = 0;
  let index = 0;
  while (start < text.length) {
    let nl = text.indexOf('\n', start);
    if (nl < 0) nl = text.length;
    const f = lineFacts(text, buf, start, nl, chainMember);
    if (f === null || f.seq > o.trustedThrough) {
      run.close(items);
      items.push({ line: buf.toString('utf8', start, nl), index });
    } else {
      if (!run.continues(f)) run.close(items);
      run.add(f);
    }
    start = nl + 1;
    index++;
  }
  run.close(items);
  return { items, lines: index };
}
