// Background fingerprinting of governed files that are read. The daemon reports what
// processes write (observeContent); what they read may be served from the page cache
// or read in ways the mount never sees in full, so the first read of a file in a
// session queues a scan of its source file here: one file at a time, 1 MiB per step,
// yielding to the event loop between steps. A file is rescanned when its size or
// mtime changed since its fingerprint was taken.

import { open, stat } from 'node:fs/promises';

const STEP = 1024 * 1024;

export interface ScanSink {
  /** Stored size/mtime of the node's fingerprint, if it has one. */
  stamp(node: number): { bytes: number; size?: number; mtimeMs?: number } | undefined;
  /** Bytes of the file at an offset (in order, from 0). */
  feed(node: number, offset: number, buf: Buffer): void;
  /** The whole file (up to the limit) was fed. */
  done(node: number, size: number, mtimeMs: number): void;
}

export class SourceScanner {
  private readonly queue = new Map<number, string>();
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly sink: ScanSink,
    private readonly limit: number,
  ) {}

  /** Hot path: remember the file; the scan happens later. */
  enqueue(node: number, sourcePath: string): void {
    if (this.stopped) return;
    this.queue.set(node, sourcePath);
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
    });
  }

  get queued(): number {
    return this.queue.size;
  }

  /** Resolves when every queued scan has finished. */
  async idle(): Promise<void> {
    while (this.running !== undefined) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.queue.clear();
    await this.idle();
  }

  private async drain(): Promise<void> {
    await new Promise((r) => setImmediate(r)); // never on the caller's stack
    while (this.queue.size > 0 && !this.stopped) {
      const [node, path] = this.queue.entries().next().value as [number, string];
      this.queue.delete(node);
      try {
        await this.scan(node, path);
      } catch {
        // gone, unreadable or replaced mid-scan: it is scanned again on its next read
      }
    }
  }

  private async scan(node: number, path: string): Promise<void> {
    const st = await stat(path);
    if (!st.isFile()) return;
    const have = this.sink.stamp(node);
    // Current already: taken from this very file (same size and mtime), or, for a file
    // fingerprinted from its writes, as many bytes as the file now holds.
    if (have !== undefined && (have.mtimeMs === undefined ? have.bytes === Math.min(st.size, this.limit) : have.mtimeMs === st.mtimeMs && have.size === st.size)) return;
    const fh = await open(path, 'r');
    try {
      const end = Math.min(st.size, this.limit);
      for (let off = 0; off < end && !this.stopped; ) {
        const buf = Buffer.allocUnsafe(Math.min(STEP, end - off));
        const { bytesRead } = await fh.read(buf, 0, buf.length, off);
        if (bytesRead === 0) break;
        this.sink.feed(node, off, buf.subarray(0, bytesRead));
        off += bytesRead;
      }
    } finally {
      await fh.close();
    }
    if (!this.stopped) this.sink.done(node, st.size, st.mtimeMs);
  }
}
