// Main-thread handle on the sink worker (sink-worker.ts): forwards spool progress, mirrors the
// worker's status for stats(), hands confirmations to the log (which saves sink.json and trims),
// relays log lines, and restarts the worker if it dies. The daemon's event loop only posts messages.
import { Worker } from 'node:worker_threads';
import type { SinkStatus } from './sink.js';
import type { FromWorker, SinkWorkerData, ToWorker } from './sink-worker.js';

export interface SinkProxyOptions {
  data: Omit<SinkWorkerData, 'durableSeq' | 'lastCheckpointSeq'>;
  durableSeq: () => number;
  lastCheckpointSeq: () => number;
  onConfirmed: (seq: number) => void;
  log: { info(o: object, m: string): void; warn(o: object, m: string): void; error(o: object, m: string): void };
}

// Under the TypeScript test loader this module is .ts and so is the worker beside it.
const WORKER_URL = new URL(`./sink-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

export class SinkProxy {
  private worker: Worker | null = null;
  private st: SinkStatus;
  private stopping = false;
  private stopped: Promise<void> | null = null;
  private resolveStopped: (() => void) | null = null;
  private restartTimer: NodeJS.Timeout | null = null;

  constructor(private readonly o: SinkProxyOptions) {
    this.st = { state: 'down', confirmedSeq: o.data.confirmedSeq };
  }

  start(): void {
    if (this.worker || this.stopping) return;
    const w = new Worker(WORKER_URL, { workerData: { ...this.o.data, confirmedSeq: this.st.confirmedSeq, durableSeq: this.o.durableSeq(), lastCheckpointSeq: this.o.lastCheckpointSeq() } satisfies SinkWorkerData });
    this.worker = w;
    w.unref(); // the daemon's lifetime is not the sink's business; close() stops it explicitly
    w.on('message', (m: FromWorker) => {
      switch (m.type) {
        case 'confirmed':
          this.o.onConfirmed(m.seq);
          break;
        case 'status':
          this.st = { state: m.state, confirmedSeq: m.confirmedSeq, ...(m.lastError !== undefined ? { lastError: m.lastError } : {}) };
          break;
        case 'log':
          this.o.log[m.level](m.obj, m.msg);
          break;
        case 'stopped':
          this.resolveStopped?.();
          break;
      }
    });
    w.on('error', (err) => {
      this.st = { ...this.st, state: 'down', lastError: `sink worker failed: ${err.message}` };
      this.o.log.error({ err: err.message }, 'audit sink worker failed; restarting it');
    });
    w.on('exit', () => {
      this.worker = null;
      this.resolveStopped?.();
      if (!this.stopping) {
        // Records stay in the spool; a new worker resumes from the last confirmation.
        this.restartTimer = setTimeout(() => this.start(), 1000);
        this.restartTimer.unref();
      }
    });
  }

  /** The spool moved (new durable records or a new checkpoint). */
  notify(): void {
    this.worker?.postMessage({ type: 'progress', durableSeq: this.o.durableSeq(), lastCheckpointSeq: this.o.lastCheckpointSeq() } satisfies ToWorker);
  }

  status(): SinkStatus {
    return this.st;
  }

  /** Let the worker drain for up to drainMs, then end it (terminating it if it does not answer). */
  async stop(drainMs: number): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const w = this.worker;
    if (!w) return;
    this.stopped ??= new Promise<void>((resolve) => (this.resolveStopped = resolve));
    w.ref(); // close() awaits this: the process must stay up until the worker answered
    this.notify();
    w.postMessage({ type: 'stop', drainMs } satisfies ToWorker);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), drainMs + 5000)));
    const outcome = await Promise.race([this.stopped, timeout]);
    clearTimeout(timer);
    if (outcome === 'timeout') await w.terminate();
    else if (this.worker) await new Promise((r) => w.once('exit', r));
  }
}
