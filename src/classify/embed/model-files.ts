// Locates and verifies the files of an embedding model: the shipped lacuna-embed model (checked
// against its committed sha256 before a session is created) or a user's ONNX export + vocab.txt.
// Pure file handling; no onnxruntime here, so the main thread can validate config cheaply.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Tier } from '../types.js';

export class EmbeddingModelError extends Error {
  constructor(
    readonly code: 'model_not_found' | 'model_checksum_mismatch' | 'model_invalid' | 'model_load_failed',
    message: string,
  ) {
    super(message);
    this.name = 'EmbeddingModelError';
  }
}

export interface MlpHead {
  type: 'mlp';
  W1: number[][];
  b1: number[];
  W2: number[][];
  b2: number[];
  temperature: number;
}

export interface ShippedMetadata {
  name: string;
  version: number;
  labels: Tier[];
  onnx: { file: string; sha256: string; inputs: string[]; output: string; pooled: boolean };
  tokenizer: { vocab: string; lowercase: boolean; maxLength: number };
  dim: number;
  head: MlpHead;
  centroids: Record<Tier, number[]>;
  training: Record<string, unknown>;
  metrics: Record<string, number>;
}

/** Everything the worker needs to build a session and a tokenizer. */
export interface ModelSpec {
  name: string;
  modelPath: string;
  vocabPath: string;
  lowercase: boolean;
  maxLength: number;
  /** Output to read; undefined = the first output. */
  outputName?: string;
  /** 'mean' pools a [batch, seq, dim] output with the attention mask; 'cls' takes token 0. */
  pooling: 'mean' | 'cls';
  /** sha256 of the .onnx file as loaded (cache keys depend on it). */
  sha256: string;
}

/**
 * The shipped model directory. Under tsc the code runs from dist/src/classify/embed while the
 * model stays in src/classify/embed/model, so look beside this file first, then in the source tree.
 */
export function shippedModelDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'model'), resolve(here, '../../../../src/classify/embed/model')];
  for (const c of candidates) if (existsSync(join(c, 'metadata.json'))) return c;
  throw new EmbeddingModelError('model_not_found', `shipped embedding model not found in ${candidates.join(' or ')}`);
}

export function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

export function loadShippedMetadata(dir = shippedModelDir()): ShippedMetadata {
  const meta = JSON.parse(readFileSync(join(dir, 'metadata.json'), 'utf8')) as ShippedMetadata;
  if (!meta.head || meta.head.type !== 'mlp' || !Array.isArray(meta.labels) || meta.labels.length !== 3) {
    throw new EmbeddingModelError('model_invalid', `${dir}/metadata.json: missing or unknown head`);
  }
  return meta;
}

/** Verifies the shipped .onnx against both the .sha256 file and metadata before anything loads it. */
export function shippedModelSpec(dir = shippedModelDir()): { spec: ModelSpec; meta: ShippedMetadata } {
  const meta = loadShippedMetadata(dir);
  const modelPath = join(dir, meta.onnx.file);
  const sumFile = `${modelPath}.sha256`;
  if (!existsSync(modelPath) || !existsSync(sumFile)) {
    throw new EmbeddingModelError('model_not_found', `${modelPath} or its .sha256 is missing`);
  }
  const expected = readFileSync(sumFile, 'utf8').trim().split(/\s+/)[0] ?? '';
  const actual = sha256File(modelPath);
  if (actual !== expected || actual !== meta.onnx.sha256) {
    throw new EmbeddingModelError(
      'model_checksum_mismatch',
      `${modelPath}: sha256 ${actual}, expected ${expected} (metadata ${meta.onnx.sha256})`,
    );
  }
  return {
    meta,
    spec: {
      name: `${meta.name}@${meta.version}`,
      modelPath,
      vocabPath: join(dir, meta.tokenizer.vocab),
      lowercase: meta.tokenizer.lowercase,
      maxLength: meta.tokenizer.maxLength,
      outputName: meta.onnx.output,
      pooling: 'mean',
      sha256: actual,
    },
  };
}

export interface UserModelOptions {
  model: string;
  vocab: string;
  lowercase?: boolean;
  maxLength?: number;
  outputName?: string;
  pooling?: 'mean' | 'cls';
  /** Optional expected sha256 of the .onnx; a mismatch refuses to load. */
  sha256?: string;
}

export function userModelSpec(o: UserModelOptions, baseDir = process.cwd()): ModelSpec {
  const modelPath = isAbsolute(o.model) ? o.model : resolve(baseDir, o.model);
  const vocabPath = isAbsolute(o.vocab) ? o.vocab : resolve(baseDir, o.vocab);
  for (const f of [modelPath, vocabPath]) {
    if (!existsSync(f)) throw new EmbeddingModelError('model_not_found', `${f} does not exist`);
  }
  const actual = sha256File(modelPath);
  if (o.sha256 && o.sha256.toLowerCase() !== actual) {
    throw new EmbeddingModelError('model_checksum_mismatch', `${modelPath}: sha256 ${actual}, expected ${o.sha256}`);
  }
  return {
    name: `user:${modelPath}`,
    modelPath,
    vocabPath,
    lowercase: o.lowercase ?? true,
    maxLength: o.maxLength ?? 256,
    outputName: o.outputName,
    pooling: o.pooling ?? 'mean',
    sha256: actual,
  };
}
