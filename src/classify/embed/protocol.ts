// Messages between the main thread (worker-client.ts) and the layer-2 worker (worker.ts).
// Documents go in as UTF-8 bytes and embeddings come back as Float32Arrays, both transferred
// (moved, not copied); the worker tokenises the bytes as they are, so no string is ever built.

import type { ModelSpec } from './model-files.js';

export interface WorkerInit {
  spec: ModelSpec;
  threads: number;
  /** At most this many [CLS]…[SEP] chunks per text; the byte budget normally binds first. */
  maxChunks: number;
}

export interface WorkerRequest {
  id: number;
  /** UTF-8 documents; each view's buffer is in the transfer list and belongs to the worker now. */
  docs: Uint8Array[];
}

export type WorkerReply =
  | { type: 'ready'; inputNames: string[]; outputNames: string[] }
  | { type: 'init-error'; message: string }
  | { type: 'result'; id: number; embeddings: Float32Array[]; tokens: number[]; chunks: number[]; ms: number }
  | { type: 'error'; id: number; message: string };
