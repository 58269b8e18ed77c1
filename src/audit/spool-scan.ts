// Reads the spool's segments in chunks of whole lines and has each chunk scanned for intact runs
// (intact-runs.ts): by worker threads when the caller asks for them, in this thread otherwise.
// Results come back in file order whatever order the workers finish in, with at most a few chunks
// in flight so memory stays bounded on a spool of any size.
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { scanLines, type ScanOptions, type ScanResult } from './intact-runs.js';
import type { Segment } from './spool.js';
import type { ScanReply, ScanRequest } from './verify-worker.js';

export type SpoolScanEvent =
  | { segment: string; result: ScanResult }
  /** Bytes after the last newline of a segment; `last`: of the newest segment (a write in progress or a torn tail). */
  | { segment: string; unterminated: string; last: boolean };

/** Bytes read per chunk: large enough that messaging costs nothing next to hashing it. */
export const CHUNK_BYTES = 1 << 20;

// Under the TypeScript test loader this module is .ts and so is the worker beside it.
const WORKER_URL = new URL(`./verify-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

class ScanPool {
  private readonly workers: Worker[] = [];
  private readonly waiting = new Map<number, { resolve: (r: ScanResult) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private failure: Error | null = null;

  constructor(size: number, private readonly options: ScanOptions) {
    for (let i = 0; i < size; i++) {
      const w = new Worker(WORKER_URL);
      w.on('message', (m: ScanReply) => {
        const p = this.waiting.get(m.id);
        this.waiting.delete(m.id);
        if (m.result) p?.resolve(m.result);
        else p?.reject(new Error(`verify worker: ${m.error}`));
      });
      w.on('error', (err) => this.fail(err));
      w.on('exit', (code) => this.fail(new Error(`verify worker exited with code ${code}`)));
      this.workers.push(w);
    }
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const p of this.waiting.values()) p.reject(err);
    this.waiting.clear();
  }

  /** `bytes` must own its ArrayBuffer: it is moved to the worker, not copied. */
  scan(bytes: Buffer): Promise<ScanResult> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const w = this.workers[id % this.workers.length]!;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      w.postMessage({ id, bytes, options: this.options } satisfies ScanRequest, [bytes.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    this.failure ??= new Error('verify workers closed');
    await Promise.all(this.workers.map((w) => w.removeAllListeners('exit').terminate()));
  }
}

/** Scan every segment in order. `workers` = 0 scans in this thread. */
export async function* scanSpool(segDir: string, segments: readonly Segment[], options: ScanOptions, workers: number, chunkBytes = CHUNK_BYTES): AsyncGenerator<SpoolScanEvent> {
  const pool = workers > 0 ? new ScanPool(workers, options) : null;
  const maxInFlight = Math.max(2, workers * 3);
  const queue: Promise<SpoolScanEvent>[] = [];
  // A rejected chunk may sit in the queue until its turn; its error is raised then.
  const enqueue = (p: Promise<SpoolScanEvent>) => {
    p.catch(() => {});
    queue.push(p);
  };
  // Scanned here, a chunk is done with before the read after next, so two buffers take turns
  // (less garbage); a chunk moved to a worker needs its own ArrayBuffer (never the shared pool).
  const turns: (Buffer | null)[] = [null, null];
  let turn = 0;
  const chunkBuffer = (size: number): Buffer => {
    if (pool) return Buffer.allocUnsafeSlow(size);
    turn ^= 1;
    let b = turns[turn];
    if (!b || b.length < size) b = turns[turn] = Buffer.allocUnsafeSlow(size);
    return b;
  };
  try {
    for (const seg of segments) {
      const last = seg === segments[segments.length - 1];
      const fh = await open(join(segDir, seg.name), 'r');
      // The next chunk is read (in libuv's thread pool) while this one is scanned.
      const readFrom = async (carry: Buffer | null, pos: number) => {
        const carried = carry?.length ?? 0;
        const buf = chunkBuffer(carried + chunkBytes);
        carry?.copy(buf);
        const { bytesRead } = await fh.read(buf, carried, chunkBytes, pos);
        return { buf, bytesRead, n: carried + bytesRead, next: pos + bytesRead };
      };
      // A failed read is raised where it is awaited, not as an unhandled rejection meanwhile.
      const prefetch = (carry: Buffer | null, pos: number) => {
        const r = readFrom(carry, pos);
        r.catch(() => {});
        return r;
      };
      let reading: ReturnType<typeof readFrom> | null = null;
      try {
        reading = prefetch(null, 0);
        for (;;) {
          const { buf, bytesRead, n, next }: Awaited<ReturnType<typeof readFrom>> = await reading;
          reading = null;
          if (bytesRead === 0) {
            if (n > 0) enqueue(Promise.resolve({ segment: seg.name, unterminated: buf.toString('utf8', 0, n), last }));
            break;
          }
          const cut: number = buf.lastIndexOf(0x0a, n - 1) + 1;
          if (cut === 0) {
            reading = prefetch(buf.subarray(0, n), next); // one line longer than a chunk: read on
            continue;
          }
          reading = prefetch(cut < n ? buf.subarray(cut, n) : null, next);
          const lines = buf.subarray(0, cut);
          const segment = seg.name;
          enqueue(pool ? pool.scan(lines).then((result) => ({ segment, result })) : Promise.resolve({ segment, result: scanLines(lines, options) }));
          while (queue.length >= maxInFlight) yield await queue.shift()!;
        }
      } finally {
        await reading?.catch(() => {}); // never close the file under a read in flight
        await fh.close();
      }
    }
    while (queue.length > 0) yield await queue.shift()!;
  } finally {
    await pool?.close();
  }
}
