// Layer 2 of classification: a sentence-embedding model on onnxruntime-node, run in a worker
// thread, with a tier head on top. By default the shipped lacuna-embed model and its trained
// MLP head; optionally a user's ONNX export (BERT/MiniLM/BGE-shaped) + vocab.txt, whose tier
// head is built from labelled exemplars at load. Callers: src/classify/escalate.ts.

import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isTier, TIERS, type Tier } from '../types.js';
import { argmaxTier, centroidHead, fitCentroids, mlpHead, type TierHead, type TierProbs } from './head.js';
import {
  EmbeddingModelError,
  shippedModelDir,
  shippedModelSpec,
  userModelSpec,
  type ModelSpec,
  type UserModelOptions,
} from './model-files.js';
import { EmbeddingWorker, type EmbedOutput } from './worker-client.js';

export { EmbeddingModelError } from './model-files.js';
export { WordPieceTokenizer, basicTokenize, readVocab } from './tokenizer.js';
export type { TierProbs } from './head.js';

export const DEFAULT_EMBED_MAX_BYTES = 64 * 1024;

export interface EmbeddingLayerOptions {
  /** A user's ONNX sentence-embedding model; omit for the shipped lacuna-embed model. */
  model?: string;
  /** Its vocab.txt (required with `model`). */
  vocab?: string;
  lowercase?: boolean;
  maxLength?: number;
  pooling?: 'mean' | 'cls';
  outputName?: string;
  /** Expected sha256 of a user model; loading refuses a mismatch. */
  sha256?: string;
  /** JSON lines {text, tier} used to build the centroid head of a user model (default: shipped exemplars). */
  exemplars?: string;
  /** Bytes of a file the model sees (the rest is not embedded and the result is marked partial). */
  maxBytes?: number;
  /** Upper bound on [CLS]…[SEP] chunks per file (protects big user models). */
  maxChunks?: number;
  /** onnxruntime intra-op threads in the worker. */
  threads?: number;
  /** Texts coalesced into one session.run. */
  maxBatch?: number;
  /** Relative model/vocab/exemplar paths resolve against this (the config file's directory). */
  baseDir?: string;
}

export interface EmbeddingResult {
  tier: Tier;
  /** Calibrated probability of `tier`. */
  confidence: number;
  probs: TierProbs;
  tokens: number;
  chunks: number;
  /** True when only the first maxBytes were embedded. */
  truncated: boolean;
  /** Worker time of the batch (tokenise + infer + pool). */
  ms: number;
  model: string;
}

export interface EmbeddingLayerInfo {
  name: string;
  sha256: string;
  head: 'mlp' | 'centroids';
  maxBytes: number;
}

export interface EmbeddingLayer {
  readonly info: EmbeddingLayerInfo;
  /** Resolves once the worker's session and the head exist; rejects with EmbeddingModelError. */
  ready(): Promise<void>;
  embed(content: string | Buffer): Promise<EmbedOutput>;
  classify(content: string | Buffer): Promise<EmbeddingResult>;
  close(): Promise<void>;
}

export interface Exemplar {
  text: string;
  tier: Tier;
}

export function readExemplars(file: string): Exemplar[] {
  const out: Exemplar[] = [];
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (!line.trim()) return;
      const o = JSON.parse(line) as { text?: unknown; tier?: unknown };
      if (typeof o.text !== 'string' || !isTier(o.tier)) throw new RangeError(`${file}:${i + 1}: need {text, tier}`);
      out.push({ text: o.text, tier: o.tier });
    });
  return out;
}

/**
 * The first maxBytes of content as UTF-8 bytes in a buffer of their own, which the worker
 * takes over (the caller's Buffer is never handed away); a multi-byte character cut in half
 * decodes to U+FFFD in the worker, and the tokenizer drops it.
 */
function bounded(content: string | Buffer, maxBytes: number): { bytes: Uint8Array<ArrayBuffer>; truncated: boolean } {
  const buf = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const truncated = buf.length > maxBytes;
  return { bytes: new Uint8Array(truncated ? buf.subarray(0, maxBytes) : buf), truncated };
}

export function createEmbeddingLayer(opts: EmbeddingLayerOptions = {}): EmbeddingLayer {
  const maxBytes = opts.maxBytes ?? DEFAULT_EMBED_MAX_BYTES;
  let spec: ModelSpec;
  let head: TierHead | undefined;
  let exemplarFile: string | undefined;
  if (opts.model) {
    if (!opts.vocab) throw new EmbeddingModelError('model_invalid', 'classify.embeddings.vocab is required with a user model');
    spec = userModelSpec(opts as UserModelOptions, opts.baseDir);
    exemplarFile = opts.exemplars ? resolve(opts.baseDir ?? process.cwd(), opts.exemplars) : join(shippedModelDir(), 'exemplars.jsonl');
  } else {
    const shipped = shippedModelSpec();
    spec = shipped.spec;
    head = mlpHead(shipped.meta.head);
  }
  // Sized for the byte budget: a 64 KiB file of prose is ~15k tokens, ~30 chunks of 512.
  const maxChunks = opts.maxChunks ?? (opts.model ? 8 : 256);
  const worker = new EmbeddingWorker({ spec, threads: opts.threads ?? 1, maxChunks }, opts.maxBatch ?? 16);
  const info: EmbeddingLayerInfo = { name: spec.name, sha256: spec.sha256, head: head ? 'mlp' : 'centroids', maxBytes };

  let readyP: Promise<void> | undefined;
  const ready = (): Promise<void> => {
    readyP ??= (async () => {
      await worker.start();
      if (!head) {
        let ex: Exemplar[];
        try {
          ex = readExemplars(exemplarFile!);
        } catch (err) {
          throw new EmbeddingModelError('model_invalid', `exemplars ${exemplarFile}: ${(err as Error).message}`);
        }
        const embedded = await Promise.all(ex.map((e) => worker.embed(bounded(e.text, maxBytes).bytes)));
        try {
          head = centroidHead(fitCentroids(embedded.map((o, i) => ({ embedding: o.embedding, tier: ex[i]!.tier }))));
        } catch (err) {
          throw new EmbeddingModelError('model_invalid', `exemplars ${exemplarFile}: ${(err as Error).message}`);
        }
      }
    })();
    return readyP;
  };

  return {
    info,
    ready,
    async embed(content) {
      await ready();
      return worker.embed(bounded(content, maxBytes).bytes);
    },
    async classify(content) {
      await ready();
      const { bytes, truncated } = bounded(content, maxBytes);
      const out = await worker.embed(bytes);
      const probs = head!.probs(out.embedding);
      const { tier, confidence } = argmaxTier(probs);
      return { tier, confidence, probs, tokens: out.tokens, chunks: out.chunks, truncated, ms: out.ms, model: spec.name };
    },
    close: () => worker.close(),
  };
}

/** One-line reasoning for a layer-2 decision, e.g. for `lacuna-fs classify --explain`. */
export function describeEmbedding(r: EmbeddingResult): string {
  const others = TIERS.filter((t) => t !== r.tier)
    .map((t) => `${t} ${r.probs[t].toFixed(2)}`)
    .join(', ');
  return `embeddings (${r.model}): ${r.tier} p=${r.confidence.toFixed(2)} (${others}) over ${r.tokens} tokens${r.truncated ? ', first bytes only' : ''}`;
}
