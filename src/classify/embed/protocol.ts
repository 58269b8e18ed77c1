// Messages between the main thread (worker-client.ts) and the layer-2 worker (worker.ts).
// Texts go in as strings (copied); embeddings come back as transferred Float32Arrays.

import type { ModelSpec } from './model-files.js';

export interface WorkerInit {
  spec: ModelSpec;
  threads: number;
  /** At most this many [CLS]…[SEP] chunks per text; the byte budget normally binds first. */
  maxChunks: number;
}

export interface WorkerRequest {
  id: number;
  texts: string[];
}

export type WorkerReply =
  | { type: 'ready'; inputNames: string[]; outputNames: string[] }
  | { type: 'init-error'; message: string }
  | { type: 'result'; id: number; embeddings: Float32Array[]; tokens: number[]; chunks: number[]; ms: number }
  | { type: 'error'; id: number; message: string };
