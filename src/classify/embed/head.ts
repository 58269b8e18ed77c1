// Tier heads: turn a sentence embedding into calibrated tier probabilities. The shipped model
// carries a trained MLP head (metadata.json); a user's embedding model gets a centroid head
// built from labelled exemplars, with its temperature fitted on those exemplars.
// Pure functions on plain arrays, so they are tested without onnxruntime.

import { TIERS, type Tier } from '../types.js';
import type { MlpHead } from './model-files.js';

export type TierProbs = Record<Tier, number>;

export interface TierHead {
  readonly kind: 'mlp' | 'centroids';
  /** Probabilities over TIERS (sum 1), already temperature-scaled. */
  probs(embedding: Float32Array | number[]): TierProbs;
}

export function softmax(logits: number[], temperature = 1): number[] {
  const z = logits.map((l) => l / temperature);
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

function toProbs(p: number[]): TierProbs {
  return { PUBLIC: p[0]!, INTERNAL: p[1]!, PROPRIETARY: p[2]! };
}

export function argmaxTier(p: TierProbs): { tier: Tier; confidence: number } {
  let tier: Tier = 'PUBLIC';
  for (const t of TIERS) if (p[t] > p[tier]) tier = t;
  return { tier, confidence: p[tier] };
}

export function mlpHead(h: MlpHead): TierHead {
  const hidden = h.b1.length;
  const inDim = h.W1.length;
  return {
    kind: 'mlp',
    probs(x) {
      if (x.length !== inDim) throw new RangeError(`embedding has ${x.length} dims, head expects ${inDim}`);
      const a = new Array<number>(hidden).fill(0);
      for (let i = 0; i < inDim; i++) {
        const xi = x[i]!;
        if (xi === 0) continue;
        const row = h.W1[i]!;
        for (let j = 0; j < hidden; j++) a[j]! += xi * row[j]!;
      }
      const logits = [...h.b2];
      for (let j = 0; j < hidden; j++) {
        const v = Math.max(0, a[j]! + h.b1[j]!);
        if (v === 0) continue;
        const row = h.W2[j]!;
        for (let k = 0; k < logits.length; k++) logits[k]! += v * row[k]!;
      }
      return toProbs(softmax(logits, h.temperature));
    },
  };
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

export interface CentroidHeadData {
  centroids: Record<Tier, number[]>;
  temperature: number;
}

export function centroidHead(d: CentroidHeadData): TierHead {
  return {
    kind: 'centroids',
    probs(x) {
      return toProbs(softmax(TIERS.map((t) => cosine(x, d.centroids[t])), d.temperature));
    },
  };
}

/**
 * Centroids (mean embedding per tier) and the temperature that minimises the negative
 * log-likelihood of the exemplars' own labels. Every tier needs at least one exemplar.
 */
export function fitCentroids(examples: { embedding: ArrayLike<number>; tier: Tier }[]): CentroidHeadData {
  const dim = examples[0]?.embedding.length ?? 0;
  const sums = {} as Record<Tier, number[]>;
  const counts = {} as Record<Tier, number>;
  for (const t of TIERS) {
    sums[t] = new Array<number>(dim).fill(0);
    counts[t] = 0;
  }
  for (const e of examples) {
    counts[e.tier]++;
    const s = sums[e.tier];
    for (let i = 0; i < dim; i++) s[i]! += e.embedding[i]!;
  }
  for (const t of TIERS) {
    if (counts[t] === 0) throw new RangeError(`no exemplar for tier ${t}`);
    sums[t] = sums[t].map((v) => v / counts[t]);
  }
  const sims = examples.map((e) => TIERS.map((t) => cosine(e.embedding, sums[t])));
  let best = { temperature: 1, nll: Infinity };
  for (let i = 0; i <= 80; i++) {
    const temperature = Math.exp(Math.log(0.005) + (i / 80) * (Math.log(2) - Math.log(0.005)));
    let nll = 0;
    examples.forEach((e, k) => {
      nll -= Math.log(softmax(sims[k]!, temperature)[TIERS.indexOf(e.tier)]! + 1e-12);
    });
    if (nll < best.nll) best = { temperature, nll };
  }
  return { centroids: sums, temperature: best.temperature };
}
