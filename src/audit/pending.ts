// Records appended but not yet written by the group commit, kept as the UTF-8 bytes of their
// spool lines (newline included) plus their hashes. Holding each line as a JS string until its
// batch was written made the strings outlive young-generation collections under load, and the
// promoted garbage cost more than encoding the line once at append time into a reused buffer.
// The record hash is computed here, from those bytes: the line is written with a placeholder
// hash member, hashed without it (what the verifier does) and the hash written over the
// placeholder, so a record is encoded to UTF-8 once, not once to hash and once to store.
import { recordHashOfLine } from './hash.js';
import { auditAddon } from './native-lines.js';
const INITIAL_BYTES = 256 << 10;
/** Node's Buffer method behind buf.write(s, offset, 'utf8') (lib/buffer.js); not in @types/node. */
type Utf8Writable = Buffer & { utf8Write(s: string, offset: number): number };

/** `,"hash":"` + placeholder digits + `",`: the stored hash member (74 bytes) and the comma after it. */
const HASH_MEMBER = Buffer.from(`,"hash":"${'0'.repeat(64)}",`, 'latin1');
const HASH_MEMBER_LENGTH = HASH_MEMBER.length - 1;
const HASH_DIGITS_AT = ',"hash":"'.length;

/**
 * Hash line[start, end) without its hash member at `at`, write the digits into it, return them.
 * `addon` null: the TypeScript path (the same bytes, hashed by node:crypto).
 */
export function sealLine(line: Buffer, start: number, at: number, end: number, addon = auditAddon()): string {
  if (addon !== null && typeof addon.sealRecordLine === 'function') return addon.sealRecordLine(line, start, at, end);
  const hash = recordHashOfLine(line, start, end, at, HASH_MEMBER_LENGTH);
  line.write(hash, at + HASH_DIGITS_AT, 'latin1');
  return hash;
}
/** A batch buffer larger than this (a long outage's backlog) is not kept for reuse. */
const KEEP_BYTES = 16 << 20;

export class PendingBatch {
  buf: Buffer;
  bytes = 0;
  firstSeq = -1;
  /** Hash of each record in the batch, in seq order (firstSeq + i). */
  hashes: string[] = [];

  constructor(capacity = INITIAL_BYTES) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  get count(): number {
    return this.hashes.length;
  }

  /**
   * Append the record whose members before and after "hash" are `head` and `tail` (see
   * encodeRecord) as the line `${head},"hash":"<hash>",${tail}}` and return its hash.
   */
  add(seq: number, head: string, tail: string): string {
    // A UTF-16 code unit takes at most 3 UTF-8 bytes; + the hash member, "}" and the newline.
    const room = (head.length + tail.length) * 3 + HASH_MEMBER.length + 2;
    if (this.bytes + room > this.buf.length) this.grow(this.bytes + room);
    if (this.hashes.length === 0) this.firstSeq = seq;
    const buf = this.buf;
    const start = this.bytes;
    // utf8Write: Buffer.write without its argument juggling (room is ensured above), which was
    // a tenth of an append's time.
    const at = start + (buf as Utf8Writable).utf8Write(head, start);
    HASH_MEMBER.copy(buf, at);
    let end = at + HASH_MEMBER.length;
    end += (buf as Utf8Writable).utf8Write(tail, end);
    buf[end++] = 0x7d; // }
    const hash = sealLine(buf, start, at, end);
    buf[end] = 0x0a;
    this.bytes = end + 1;
    this.hashes.push(hash);
    return hash;
  }

  /** The lines to write. */
  data(): Buffer {
    return this.buf.subarray(0, this.bytes);
  }

  private grow(need: number): void {
    const next = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
    this.buf.copy(next, 0, 0, this.bytes);
    this.buf = next;
  }

  reset(): void {
    this.bytes = 0;
    this.firstSeq = -1;
    this.hashes = [];
  }

  /** Append another batch's records (which follow this one's) to this one. */
  concat(b: PendingBatch): void {
    if (b.count === 0) return;
    if (this.count === 0) this.firstSeq = b.firstSeq;
    if (this.bytes + b.bytes > this.buf.length) this.grow(this.bytes + b.bytes);
    b.buf.copy(this.buf, this.bytes, 0, b.bytes);
    this.bytes += b.bytes;
    for (const h of b.hashes) this.hashes.push(h);
  }
}

/** The batch being filled, and one spare so that steady state allocates no new buffers. */
export class PendingQueue {
  private cur = new PendingBatch();
  private spare: PendingBatch | null = null;

  add(seq: number, head: string, tail: string): string {
    return this.cur.add(seq, head, tail);
  }

  get count(): number {
    return this.cur.count;
  }

  /** Everything pending, as one batch; new appends go to a fresh one. */
  take(): PendingBatch {
    const b = this.cur;
    this.cur = this.spare ?? new PendingBatch();
    this.spare = null;
    return b;
  }

  /** A taken batch was written: its buffer can take new records. */
  recycle(b: PendingBatch): void {
    if (b.buf.length > KEEP_BYTES) return;
    b.reset();
    this.spare = b;
  }

  /** A taken batch could not be written: it goes back in front of what was appended since. */
  restore(b: PendingBatch): void {
    b.concat(this.cur);
    this.cur = b;
  }
}
