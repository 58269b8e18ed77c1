// The local, append-only spool: newline-delimited canonical records in segment files named by
// their first seq. One writer per state dir; writes go at a tracked offset (never O_APPEND) so a
// failed or short write can be cut back and retried without leaving a fragment in the chain.
// open() recovers a torn tail left by a crash (kept in quarantine and reported), and refuses a
// complete-but-invalid last line, which no crash produces.
import { createHash } from 'node:crypto';
import { closeSync, fdatasync, fstatSync, ftruncateSync, fsyncSync, mkdirSync, openSync, readdirSync, readSync, statSync, unlinkSync, write, writeFileSync } from 'node:fs';
import { open as openAsync, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ANCHOR_FILE, QUARANTINE_DIR, SEGMENTS_DIR, fsyncDir, readJsonIfExists, segmentFirstSeq, segmentName, writeFileAtomic } from './files.js';
import { parseRecordLine } from './record.js';
import { AuditUnavailableError, type AuditRecord } from './types.js';

export interface Segment {
  firstSeq: number;
  name: string;
  size: number;
}

export interface SpoolHead {
  seq: number;
  hash: string;
}

/** What open() cut off the end of the spool after a crash. */
export interface Recovery {
  segment: string;
  offset: number;
  discarded_bytes: number;
  discarded_sha256: string;
  quarantine_file: string;
  reason: string;
}

/** Records before the first kept segment were trimmed after PostgreSQL confirmed them; this is the last trimmed one. */
export interface Anchor {
  seq: number;
  hash: string;
}

const TAIL_SCAN_BYTES = 4 << 20;

export function listSegments(segDir: string): Segment[] {
  let names: string[];
  try {
    names = readdirSync(segDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: Segment[] = [];
  for (const name of names) {
    const firstSeq = segmentFirstSeq(name);
    if (firstSeq === null) continue;
    out.push({ firstSeq, name, size: statSync(join(segDir, name)).size });
  }
  return out.sort((a, b) => a.firstSeq - b.firstSeq);
}

export class Spool {
  readonly segDir: string;
  private segments: Segment[];
  private fd: number | null = null;
  private anchor: Anchor | undefined;

  private constructor(readonly auditDir: string, private readonly segmentBytes: number, segments: Segment[], anchor: Anchor | undefined) {
    this.segDir = join(auditDir, SEGMENTS_DIR);
    this.segments = segments;
    this.anchor = anchor;
  }

  /**
   * Open (creating if needed) the spool in auditDir, recover a torn tail and find the durable head.
   * Throws AuditUnavailableError when the directory cannot be written or the tail is corrupt.
   */
  static open(auditDir: string, segmentBytes: number): { spool: Spool; head: SpoolHead | null; recovery?: Recovery } {
    const segDir = join(auditDir, SEGMENTS_DIR);
    try {
      mkdirSync(segDir, { recursive: true, mode: 0o750 });
    } catch (err) {
      throw new AuditUnavailableError(`cannot create audit spool ${segDir}: ${(err as Error).message}`, err);
    }
    const anchor = readJsonIfExists<Anchor>(join(auditDir, ANCHOR_FILE));
    const segments = listSegments(segDir);
    const spool = new Spool(auditDir, segmentBytes, segments, anchor);
    let recovery: Recovery | undefined;
    let head: SpoolHead | null = anchor ? { seq: anchor.seq, hash: anchor.hash } : null;
    // Walk back over empty trailing segments (created by a rotation just before a crash).
    for (let i = segments.length - 1; i >= 0; i--) {
      const seg = segments[i]!;
      const r = spool.recoverTail(seg);
      if (r.recovery) recovery = r.recovery;
      if (r.head) {
        head = r.head;
        break;
      }
    }
    spool.openCurrent();
    return { spool, head, recovery };
  }

  /** Check the last lines of a segment; cut a torn tail (into quarantine); return its last valid record. */
  private recoverTail(seg: Segment): { head?: SpoolHead; recovery?: Recovery } {
    const file = join(this.segDir, seg.name);
    const fd = openSync(file, 'r+');
    try {
      const size = fstatSync(fd).size;
      const start = Math.max(0, size - TAIL_SCAN_BYTES);
      const buf = Buffer.alloc(size - start);
      readSync(fd, buf, 0, buf.length, start);
      // `end` = offset (within buf) just past the last line that is a valid record.
      let end = buf.length;
      let reason = '';
      // An unterminated last line is a torn write.
      const lastNl = buf.lastIndexOf(0x0a);
      if (lastNl + 1 < buf.length) {
        end = lastNl + 1;
        reason = 'unterminated last line';
      }
      let head: SpoolHead | undefined;
      while (end > 0) {
        const prevNl = buf.lastIndexOf(0x0a, end - 2);
        const line = buf.subarray(prevNl + 1, end - 1);
        // Blocks of zeros at the end of a file are what a power cut leaves after an extended size.
        if (line.length === 0 || line.every((b) => b === 0)) {
          end = prevNl + 1;
          reason = reason || 'zero-filled tail';
          continue;
        }
        const parsed = parseRecordLine(line.toString('utf8'));
        if (!parsed.ok || parsed.computedHash !== parsed.record.hash) {
          throw new AuditUnavailableError(
            `audit spool ${file}: last complete record at offset ${start + prevNl + 1} does not verify ` +
              `(${parsed.ok ? 'hash_mismatch' : parsed.problem}); a crash cannot cause this — refusing to append. Run \`lacuna-fs audit verify\`.`,
          );
        }
        head = { seq: parsed.record.seq, hash: parsed.record.hash };
        break;
      }
      if (start > 0 && end === 0) throw new AuditUnavailableError(`audit spool ${file}: no valid record in the last ${TAIL_SCAN_BYTES} bytes`);
      let recovery: Recovery | undefined;
      if (end < buf.length) {
        const discarded = buf.subarray(end);
        const qdir = join(this.auditDir, QUARANTINE_DIR);
        mkdirSync(qdir, { recursive: true, mode: 0o750 });
        const qfile = join(qdir, `${seg.name}.${start + end}.${Date.now()}.torn`);
        writeFileSync(qfile, discarded, { mode: 0o600 });
        ftruncateSync(fd, start + end);
        fsyncSync(fd);
        seg.size = start + end;
        recovery = {
          segment: seg.name,
          offset: start + end,
          discarded_bytes: discarded.length,
          discarded_sha256: createHash('sha256').update(discarded).digest('hex'),
          quarantine_file: qfile,
          reason,
        };
      }
      return { head, recovery };
    } finally {
      closeSync(fd);
    }
  }

  private openCurrent(): void {
    const cur = this.segments[this.segments.length - 1];
    if (cur) this.fd = openSync(join(this.segDir, cur.name), 'r+');
  }

  private rotate(firstSeq: number): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    const seg: Segment = { firstSeq, name: segmentName(firstSeq), size: 0 };
    this.fd = openSync(join(this.segDir, seg.name), 'wx', 0o640);
    fsyncDir(this.segDir); // the new name must survive a crash as much as its content
    this.segments.push(seg);
  }

  /**
   * Write whole lines for records firstSeq..lastSeq and make them durable (fdatasync).
   * On failure the segment is cut back to its previous size and the error rethrown; the caller retries.
   */
  async write(buf: Buffer, firstSeq: number): Promise<void> {
    let cur = this.segments[this.segments.length - 1];
    if (!cur || (cur.size > 0 && cur.size + buf.length > this.segmentBytes)) {
      this.rotate(firstSeq);
      cur = this.segments[this.segments.length - 1]!;
    }
    const fd = this.fd!;
    const at = cur.size;
    try {
      let off = 0;
      while (off < buf.length) {
        const n = await writeAt(fd, buf, off, at + off);
        off += n;
      }
      await datasync(fd);
    } catch (err) {
      try {
        ftruncateSync(fd, at);
      } catch {
        /* the retry writes at `at` again anyway */
      }
      throw err;
    }
    cur.size = at + buf.length;
  }

  bytes(): number {
    return this.segments.reduce((n, s) => n + s.size, 0);
  }

  segmentList(): readonly Segment[] {
    return this.segments;
  }

  /** First seq still in the spool (after trimming); 0 for an untrimmed spool. */
  firstSeq(): number {
    return this.segments[0]?.firstSeq ?? (this.anchor ? this.anchor.seq + 1 : 0);
  }

  anchorHead(): Anchor | undefined {
    return this.anchor;
  }

  /**
   * Delete whole segments whose records all have seq <= through (never the current one).
   * Writes anchor.json first so the remaining spool still links to something known.
   */
  trimThrough(through: number): number {
    let removed = 0;
    while (this.segments.length > 1) {
      const next = this.segments[1]!;
      if (next.firstSeq - 1 > through) break;
      const first = readFirstLine(join(this.segDir, next.name));
      const parsed = first === null ? null : parseRecordLine(first);
      if (!parsed || !parsed.ok) break; // never trim across something we cannot anchor
      const anchor: Anchor = { seq: next.firstSeq - 1, hash: parsed.record.prev_hash };
      writeFileAtomic(join(this.auditDir, ANCHOR_FILE), JSON.stringify(anchor) + '\n', this.auditDir);
      this.anchor = anchor;
      unlinkSync(join(this.segDir, this.segments[0]!.name));
      this.segments.shift();
      removed++;
    }
    if (removed) fsyncDir(this.segDir);
    return removed;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  /** A cursor that returns complete lines from seq `from` on; used by the PostgreSQL sink. */
  cursor(from: number): SpoolCursor {
    return new SpoolCursor(this.segDir, () => this.segments, from);
  }
}

function writeAt(fd: number, buf: Buffer, off: number, pos: number): Promise<number> {
  return new Promise((resolve, reject) => write(fd, buf, off, buf.length - off, pos, (err, n) => (err ? reject(err) : resolve(n))));
}

function datasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

function readFirstLine(file: string): string | null {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const nl = buf.subarray(0, n).indexOf(0x0a);
    return nl < 0 ? null : buf.subarray(0, nl).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** Sequential reader over the segments; positions itself at `from` lazily, then streams forward. */
export class SpoolCursor {
  private seg: Segment | undefined;
  private handle: FileHandle | undefined;
  private offset = 0;
  private chunk = 1 << 20;
  private nextSeq: number;

  constructor(private readonly segDir: string, private readonly segments: () => readonly Segment[], from: number) {
    this.nextSeq = from;
  }

  /**
   * Up to `max` lines with seq in [next, upTo], in order, each with its parsed record.
   * Precondition: records up to upTo are durable (complete lines on disk).
   */
  async next(max: number, upTo: number): Promise<CursorLine[]> {
    const out: CursorLine[] = [];
    while (out.length < max && this.nextSeq <= upTo) {
      if (!this.handle) {
        let pick: Segment | undefined;
        const segs = this.segments();
        for (const s of segs) if (s.firstSeq <= this.nextSeq) pick = s;
        // Records before the first segment were trimmed: start with what is kept.
        pick ??= segs[0];
        if (!pick) break;
        this.seg = pick;
        this.handle = await openAsync(join(this.segDir, pick.name), 'r');
        this.offset = 0;
      }
      const buf = Buffer.allocUnsafe(this.chunk);
      const { bytesRead } = await this.handle.read(buf, 0, buf.length, this.offset);
      const nl0 = buf.subarray(0, bytesRead).indexOf(0x0a);
      if (nl0 < 0) {
        if (bytesRead === this.chunk) {
          this.chunk *= 2; // one record larger than the read size
          continue;
        }
        // End of this segment's complete lines: move on if a later segment exists.
        const segs = this.segments();
        const idx = segs.findIndex((s) => s.name === this.seg!.name);
        // Still the newest segment: nothing more yet. (idx < 0: it was trimmed under us; re-pick by seq.)
        if (idx === segs.length - 1) break;
        await this.handle.close();
        this.handle = undefined;
        continue;
      }
      let pos = 0;
      let full = false;
      for (;;) {
        const nl = buf.indexOf(0x0a, pos);
        if (nl < 0 || nl >= bytesRead) break;
        const line = buf.toString('utf8', pos, nl);
        const record = JSON.parse(line) as AuditRecord;
        if (record.seq >= this.nextSeq) {
          if (record.seq > upTo || out.length >= max) {
            full = true;
            break;
          }
          out.push({ seq: record.seq, line, record });
          this.nextSeq = record.seq + 1;
          // Parsing a whole batch in one go would hold the event loop (and FUSE answers) for
          // milliseconds while a backlog drains; let other work in every 256 records.
          if (out.length % 256 === 0) await new Promise((r) => setImmediate(r));
        }
        pos = nl + 1;
      }
      this.offset += pos;
      if (full) break;
    }
    return out;
  }

  async close(): Promise<void> {
    await this.handle?.close();
    this.handle = undefined;
  }
}

export interface CursorLine {
  seq: number;
  line: string;
  record: AuditRecord;
}

/** Read-only view of a spool directory for another thread (the sink worker): segments re-listed on demand. */
export function spoolReader(auditDir: string): { cursor(from: number): SpoolCursor; firstSeq(): number } {
  const segDir = join(auditDir, SEGMENTS_DIR);
  return {
    cursor: (from) => new SpoolCursor(segDir, () => listSegments(segDir), from),
    firstSeq: () => {
      const first = listSegments(segDir)[0];
      if (first) return first.firstSeq;
      const anchor = readJsonIfExists<Anchor>(join(auditDir, ANCHOR_FILE));
      return anchor ? anchor.seq + 1 : 0;
    },
  };
}
