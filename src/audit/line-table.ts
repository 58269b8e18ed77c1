// Per-line facts of a chunk of spool bytes, for the verifier's fast path (intact-runs.ts): where
// each line ends, and for lines laid out exactly as the writer lays them out and hashing to their
// stored hash, their seq, where their stored hash and prev_hash sit, whether they are the genesis
// record, whether they link to the line before, and their Merkle leaves. Built by the audit addon
// in one call per chunk when it is loaded (native/audit/record_lines.cc), by the TypeScript below
// otherwise; both follow the same rules and the tests hold them equal on random lines. Why a line
// read this way is read exactly is explained in intact-runs.ts.
import { merkleLeafHex, recordHashOfLine } from './hash.js';
import { perfectSubtreeRoot } from './merkle.js';
import { auditAddon } from './native-lines.js';

/** flags: the record is seq 0 of kind genesis. */
export const GENESIS = 1;
/** flags: prev_hash equals the stored hash of the line right before, which itself counts. */
export const LINKS = 2;

export interface LineTable {
  /** Lines in the chunk (a last line without a newline counts). */
  count: number;
  /** Offset of each line's end (its newline, or the chunk's end). */
  ends: Uint32Array;
  /** The record's seq, or -1 when the line does not count (the exact path judges it). */
  seqs: Float64Array;
  flags: Uint8Array;
  /** Offsets of the 64 hex digits of the stored hash and of prev_hash (lines that count). */
  hashAt: Uint32Array;
  prevAt: Uint32Array;
  /** Root (hex) of the perfect Merkle subtree over the leaves of lines [first, first + count); needs leaves. */
  subtreeRoot(first: number, count: number): string;
}

const HASH_AT = ',"hash":"';
const HOST_AT = ',"host":';
const SEQ_AT = ',"seq":';
const PREV_AT = ',"prev_hash":"';
const KIND_AT = ',"kind":"';
const CHAIN_AT = '"chain_id":';

/** The chain id member's value and the comma after it (a record always has members after it), as UTF-8. */
export function chainMemberBytes(chainId: string): Buffer {
  return Buffer.from(`${JSON.stringify(chainId)},`);
}

/**
 * The facts of the line at [start, end) into row i of the table, or false when the line does not
 * provably count. `text` is the chunk decoded as latin1, one char per byte, so its string offsets
 * are byte offsets into `bytes`: searching a string is much cheaper than Buffer.indexOf, and every
 * pattern is ASCII (UTF-8 multi-byte sequences contain no ASCII bytes, so they cannot fake one).
 */
function lineFacts(t: LineTable, i: number, text: string, bytes: Buffer, start: number, end: number, chainMember: string): boolean {
  // The hash member sits right before the last `,"host":`, as buildRecord splices it. (Forward
  // searches only: String.prototype.lastIndexOf is a plain loop, some 40 times slower here.)
  let host = text.indexOf(HOST_AT, start);
  if (host < 0 || host >= end) return false;
  for (let next = text.indexOf(HOST_AT, host + 1); next !== -1 && next < end; next = text.indexOf(HOST_AT, host + 1)) host = next;
  const at = host - 74;
  if (at <= start || !text.startsWith(HASH_AT, at) || text.charCodeAt(at + 73) !== 0x22) return false;
  const tail = host;
  const c = text.indexOf(CHAIN_AT, start);
  if (c <= start || c > at) return false;
  const before = text.charCodeAt(c - 1);
  if ((before !== 0x7b && before !== 0x2c) || !text.startsWith(chainMember, c + CHAIN_AT.length)) return false;
  // After the hash member a record has only flat members: the first occurrence is the member.
  const s = text.indexOf(SEQ_AT, tail);
  if (s < 0 || s >= end) return false;
  const digits = s + SEQ_AT.length;
  let k = digits;
  let seq = 0;
  for (let d = text.charCodeAt(k); d >= 0x30 && d <= 0x39; d = text.charCodeAt(++k)) seq = seq * 10 + d - 0x30;
  const stop = text.charCodeAt(k);
  if (k === digits || k - digits > 15 || (text.charCodeAt(digits) === 0x30 && k - digits > 1) || (stop !== 0x2c && stop !== 0x7d) || k >= end) return false;
  const p = text.indexOf(PREV_AT, tail);
  // Not checked for hex here: a prev_hash only ever counts by being equal to a computed hash.
  if (p < 0 || p > s || text.charCodeAt(p + PREV_AT.length + 64) !== 0x22) return false;
  const stored = text.slice(at + 9, at + 73);
  // The body the hash covers: the line without its hash member.
  if (recordHashOfLine(bytes, start, end, at, 74) !== stored) return false;
  let genesis = false;
  if (seq === 0) {
    const g = text.indexOf(KIND_AT, tail);
    genesis = g >= 0 && g < p && text.startsWith('genesis"', g + KIND_AT.length);
  }
  t.seqs[i] = seq;
  t.hashAt[i] = at + 9;
  t.prevAt[i] = p + PREV_AT.length;
  t.flags[i] = genesis ? GENESIS : 0;
  return true;
}

/** The line table built in TypeScript (the reference the addon is tested against). */
export function scriptLineTable(bytes: Buffer, chainId: string, withLeaves: boolean): LineTable {
  const text = bytes.toString('latin1');
  const chainMember = chainMemberBytes(chainId).toString('latin1');
  let count = 0;
  for (let s = 0; s < text.length; count++) {
    const nl = text.indexOf('\n', s);
    s = nl < 0 ? text.length : nl + 1;
  }
  const leaves: string[] = [];
  const t: LineTable = {
    count,
    ends: new Uint32Array(count),
    seqs: new Float64Array(count),
    flags: new Uint8Array(count),
    hashAt: new Uint32Array(count),
    prevAt: new Uint32Array(count),
    subtreeRoot: (first, n) => perfectSubtreeRoot(leaves, first, n),
  };
  let start = 0;
  let lastHash: string | null = null;
  for (let i = 0; i < count; i++) {
    let nl = text.indexOf('\n', start);
    if (nl < 0) nl = text.length;
    t.ends[i] = nl;
    if (lineFacts(t, i, text, bytes, start, nl, chainMember)) {
      const hash = text.slice(t.hashAt[i], t.hashAt[i]! + 64);
      if (lastHash !== null && text.startsWith(lastHash, t.prevAt[i])) t.flags[i]! |= LINKS;
      if (withLeaves) leaves[i] = merkleLeafHex(hash);
      lastHash = hash;
    } else {
      t.seqs[i] = -1;
      lastHash = null;
    }
    start = nl + 1;
  }
  return t;
}

/** The line table by the addon when it is loaded and `native` is not false, in TypeScript otherwise. */
export function lineTable(bytes: Buffer, chainId: string, withLeaves: boolean, native = true): LineTable {
  const addon = native ? auditAddon() : null;
  if (!addon) return scriptLineTable(bytes, chainId, withLeaves);
  const n = addon.scanRecordLines(bytes, chainMemberBytes(chainId), withLeaves);
  return {
    count: n.ends.length,
    ends: n.ends,
    seqs: n.seqs,
    flags: n.flags,
    hashAt: n.hashAt,
    prevAt: n.prevAt,
    subtreeRoot: (first, count) => addon.merkleSubtreeRoot(n.leaves, first, count),
  };
}
