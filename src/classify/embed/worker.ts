// Worker-thread entry for layer 2: owns the one onnxruntime session and the tokenizer, so
// tokenising 64 KiB and running the model never block the FUSE event loop. Each request is a
// batch of texts; all their chunks run as one padded batch, pooled, then recombined per text.

import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { ModelSpec } from './model-files.js';
import { WordPieceTokenizer } from './tokenizer.js';
import { poolChunks } from './pool.js';
import type { WorkerInit, WorkerReply, WorkerRequest } from './protocol.js';

const init = workerData as WorkerInit;
const port = parentPort!;

async function start(spec: ModelSpec): Promise<{ session: ort.InferenceSession; tok: WordPieceTokenizer }> {
  const tok = WordPieceTokenizer.fromFile(spec.vocabPath, { lowercase: spec.lowercase, maxLength: spec.maxLength });
  // One intra-op thread: the daemon shares the CPU with the kernel's FUSE traffic and other
  // workers; our models are small enough that parallel kernels buy nothing.
  const session = await ort.InferenceSession.create(spec.modelPath, {
    executionProviders: ['cpu'],
    intraOpNumThreads: init.threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  return { session, tok };
}

async function embed(
  session: ort.InferenceSession,
  tok: WordPieceTokenizer,
  spec: ModelSpec,
  texts: string[],
): Promise<Extract<WorkerReply, { type: 'result' }>> {
  const t0 = performance.now();
  const encoded = texts.map((t) => tok.encodeChunks(t, init.maxChunks));
  const rows = encoded.reduce((n, e) => n + e.rows, 0);
  let ids: BigInt64Array;
  let mask: BigInt64Array;
  let seq: number;
  if (encoded.length === 1) {
    // The common case (one file): feed the tokenizer's arrays as they are, no copy.
    ({ inputIds: ids, attentionMask: mask, seq } = encoded[0]!);
  } else {
    seq = Math.max(...encoded.map((e) => e.seq));
    ids = new BigInt64Array(rows * seq).fill(BigInt(tok.padId));
    mask = new BigInt64Array(rows * seq);
    let r = 0;
    for (const e of encoded) {
      for (let i = 0; i < e.rows; i++, r++) {
        ids.set(e.inputIds.subarray(i * e.seq, (i + 1) * e.seq), r * seq);
        mask.set(e.attentionMask.subarray(i * e.seq, (i + 1) * e.seq), r * seq);
      }
    }
  }
  const feeds: Record<string, ort.Tensor> = {};
  for (const name of session.inputNames) {
    // Single-segment input: token types are all zero, allocated only for models that take them.
    const data = name === 'input_ids' ? ids : name === 'attention_mask' ? mask : name === 'token_type_ids' ? new BigInt64Array(rows * seq) : undefined;
    if (!data) throw new Error(`model input "${name}" is not one of input_ids, attention_mask, token_type_ids`);
    feeds[name] = new ort.Tensor('int64', data, [rows, seq]);
  }
  const out = await session.run(feeds);
  const name = spec.outputName ?? session.outputNames[0]!;
  const tensor = out[name];
  if (!tensor) throw new Error(`model has no output "${name}" (outputs: ${session.outputNames.join(', ')})`);
  const pooledRows = poolChunks(tensor.data as Float32Array, tensor.dims as number[], mask, rows, seq, spec.pooling);
  const embeddings: Float32Array[] = [];
  const tokens: number[] = [];
  const chunks: number[] = [];
  let r = 0;
  for (const e of encoded) {
    const dim = pooledRows.dim;
    const v = new Float32Array(dim);
    let total = 0;
    // Chunk means weighted by their token counts = the mean over every token of the text.
    for (let i = 0; i < e.rows; i++, r++) {
      const w = e.lengths[i]!;
      total += w;
      const row = pooledRows.data.subarray(r * dim, (r + 1) * dim);
      for (let k = 0; k < dim; k++) v[k]! += w * row[k]!;
    }
    for (let k = 0; k < dim; k++) v[k]! /= total;
    embeddings.push(v);
    tokens.push(total);
    chunks.push(e.rows);
  }
  return { type: 'result', id: 0, embeddings, tokens, chunks, ms: performance.now() - t0 };
}

start(init.spec).then(
  ({ session, tok }) => {
    port.postMessage({
      type: 'ready',
      inputNames: [...session.inputNames],
      outputNames: [...session.outputNames],
    } satisfies WorkerReply);
    port.on('message', (req: WorkerRequest) => {
      embed(session, tok, init.spec, req.texts).then(
        (res) => {
          res.id = req.id;
          port.postMessage(res, res.embeddings.map((e) => e.buffer as ArrayBuffer));
        },
        (err: unknown) => port.postMessage({ type: 'error', id: req.id, message: String((err as Error)?.message ?? err) } satisfies WorkerReply),
      );
    });
  },
  (err: unknown) => {
    port.postMessage({ type: 'init-error', message: String((err as Error)?.message ?? err) } satisfies WorkerReply);
  },
);
