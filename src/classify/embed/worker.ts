// Worker-thread entry for layer 2: owns the one onnxruntime session and the tokenizer, so
// tokenising 64 KiB and running the model never block the FUSE event loop. Each request is a
// batch of texts; their chunks run as padded batches of up to ROWS_PER_RUN rows, are pooled,
// then recombined per text.

import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { ModelSpec } from './model-files.js';
import { WordPieceTokenizer } from './tokenizer.js';
import { poolChunks } from './pool.js';
import type { WorkerInit, WorkerReply, WorkerRequest } from './protocol.js';

const init = workerData as WorkerInit;
// Rows (of up to 512 tokens) per session.run. Texts asked for together share runs up to this
// size, which spreads the per-run overhead of small files; beyond it a run buys nothing (the
// shipped model is a lookup and a masked mean) and its intermediate [rows, seq, dim] tensor
// falls out of cache: 16 files of 64 KiB in one run of ~480 rows took ~1.5× the CPU of
// one run per file. A 64 KiB document is ~30 rows, so it runs on its own.
const ROWS_PER_RUN = 32;
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
    // Memory patterns are planned per input shape, and ours changes with every document (rows
    // × seq); measured on the shipped model at 64 KiB, session.run takes ~25% less CPU without.
    enableMemPattern: false,
  });
  return { session, tok };
}

async function embed(
  session: ort.InferenceSession,
  tok: WordPieceTokenizer,
  spec: ModelSpec,
  docs: Uint8Array[],
): Promise<Extract<WorkerReply, { type: 'result' }>> {
  const t0 = performance.now();
  // Tokenised from the UTF-8 bytes, never built as a string; a character cut by the byte
  // budget decodes to U+FFFD, which the tokenizer drops.
  const batches = tok.encodeBatches(docs, init.maxChunks, ROWS_PER_RUN);
  const embeddings: Float32Array[] = [];
  const tokens: number[] = [];
  const chunks: number[] = [];
  for (const batch of batches) {
    const { inputIds: ids, attentionMask: mask, rows, seq } = batch;
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
    let r = 0;
    for (const textRows of batch.rowsPerText) {
      const dim = pooledRows.dim;
      const v = new Float32Array(dim);
      let total = 0;
      // Chunk means weighted by their token counts = the mean over every token of the text.
      for (let i = 0; i < textRows; i++, r++) {
        const w = batch.lengths[r]!;
        total += w;
        const row = pooledRows.data.subarray(r * dim, (r + 1) * dim);
        for (let k = 0; k < dim; k++) v[k]! += w * row[k]!;
      }
      for (let k = 0; k < dim; k++) v[k]! /= total;
      embeddings.push(v);
      tokens.push(total);
      chunks.push(textRows);
    }
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
      embed(session, tok, init.spec, req.docs).then(
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
