// Main-thread side of the layer-2 worker: starts it once, coalesces requests made in the same
// tick into one batch (one session.run), and fails every pending request if the worker dies,
// restarting it on the next request. Nothing here blocks the event loop.

import { Worker } from 'node:worker_threads';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorkerInit, WorkerReply, WorkerRequest } from './protocol.js';
import { EmbeddingModelError } from './model-files.js';

export interface EmbedOutput {
  embedding: Float32Array;
  tokens: number;
  chunks: number;
  /** Worker-side time for the whole batch this text rode in. */
  ms: number;
}

interface Pending {
  doc: Uint8Array<ArrayBuffer>;
  resolve: (v: EmbedOutput) => void;
  reject: (e: Error) => void;
}

// Under tap's TypeScript loader this module is a .ts file and so is the worker; under dist/ both are .js.
const WORKER_URL = new URL(`./worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

export class EmbeddingWorker {
  private worker?: Worker;
  private ready?: Promise<{ inputNames: string[]; outputNames: string[] }>;
  private queue: Pending[] = [];
  private inflight = new Map<number, Pending[]>();
  private nextId = 1;
  private scheduled = false;
  private closed = false;

  constructor(
    private readonly init: WorkerInit,
    private readonly maxBatch = 16,
  ) {}

  /** Starts the worker (idempotent) and resolves when its session exists; rejects on load failure. */
  start(): Promise<{ inputNames: string[]; outputNames: string[] }> {
    if (this.closed) return Promise.reject(new Error('embedding worker is closed'));
    if (this.ready) return this.ready;
    const w = new Worker(WORKER_URL, { workerData: this.init });
    // The daemon must be able to exit while the model is idle.
    w.unref();
    this.worker = w;
    this.ready = new Promise((resolve, reject) => {
      const onReply = (m: WorkerReply): void => {
        if (m.type === 'ready') resolve({ inputNames: m.inputNames, outputNames: m.outputNames });
        else if (m.type === 'init-error') reject(new EmbeddingModelError('model_load_failed', `${this.init.spec.modelPath}: ${m.message}`));
        else this.settle(m);
      };
      w.on('message', onReply);
      w.on('error', (err) => {
        reject(err);
        this.fail(err);
      });
      w.on('exit', (code) => {
        if (this.worker === w) {
          this.worker = undefined;
          this.ready = undefined;
        }
        reject(new Error(`embedding worker exited (${code}) before it was ready`));
        this.fail(new Error(`embedding worker exited with code ${code}`));
      });
    });
    // Avoid an unhandled rejection when nobody awaits start() directly.
    this.ready.catch(() => undefined);
    return this.ready;
  }

  /**
   * Embeds a document given as text or UTF-8 bytes. Bytes that are the whole of their own
   * ArrayBuffer are moved to the worker (detached here, so the caller must not reuse them);
   * anything else, e.g. a Buffer from Node's shared pool, is copied first.
   */
  embed(content: string | Uint8Array): Promise<EmbedOutput> {
    const doc = typeof content === 'string' ? new TextEncoder().encode(content) : owned(content);
    return new Promise((resolve, reject) => {
      this.queue.push({ doc, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    if (this.queue.length === 0) return;
    this.start().then(
      () => {
        while (this.queue.length > 0) {
          const batch = this.queue.splice(0, this.maxBatch);
          const id = this.nextId++;
          this.inflight.set(id, batch);
          this.worker!.ref();
          const docs = batch.map((p) => p.doc);
          this.worker!.postMessage({ id, docs } satisfies WorkerRequest, docs.map((d) => d.buffer));
        }
      },
      (err: Error) => {
        const q = this.queue.splice(0);
        for (const p of q) p.reject(err);
      },
    );
  }

  private settle(m: WorkerReply): void {
    if (m.type !== 'result' && m.type !== 'error') return;
    const batch = this.inflight.get(m.id);
    if (!batch) return;
    this.inflight.delete(m.id);
    if (this.inflight.size === 0) this.worker?.unref();
    if (m.type === 'error') {
      for (const p of batch) p.reject(new Error(m.message));
      return;
    }
    batch.forEach((p, i) => p.resolve({ embedding: m.embeddings[i]!, tokens: m.tokens[i]!, chunks: m.chunks[i]!, ms: m.ms }));
  }

  private fail(err: Error): void {
    for (const batch of this.inflight.values()) for (const p of batch) p.reject(err);
    this.inflight.clear();
  }

  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = undefined;
    this.fail(new Error('embedding worker closed'));
    for (const p of this.queue.splice(0)) p.reject(new Error('embedding worker closed'));
    if (w) await w.terminate();
  }
}

/** `bytes` as a view that owns its whole ArrayBuffer (transferable without touching anyone else's memory). */
function owned(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const buf = bytes.buffer;
  if (buf instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === buf.byteLength) return bytes as Uint8Array<ArrayBuffer>;
  return new Uint8Array(bytes);
}
