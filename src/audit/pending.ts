// Records appended but not yet written by the group commit, kept as the UTF-8 bytes of their
// spool lines (newline included) plus their hashes. Holding each line as a JS string until its
// batch was written made the strings outlive young-generation collections under load, and the
// promoted garbage cost more than encoding the line once at append time into a reused buffer.
const INITIAL_BYTES = 256 << 10;
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

  add(seq: number, hash: string, line: string): void {
    // A UTF-16 code unit takes at most 3 UTF-8 bytes; +1 for the newline.
    const room = line.length * 3 + 1;
    if (this.bytes + room > this.buf.length) this.grow(this.bytes + room);
    if (this.hashes.length === 0) this.firstSeq = seq;
    this.bytes += this.buf.write(line, this.bytes, 'utf8');
    this.buf[this.bytes++] = 0x0a;
    this.hashes.push(hash);
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

  add(seq: number, hash: string, line: string): void {
    this.cur.add(seq, hash, line);
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
