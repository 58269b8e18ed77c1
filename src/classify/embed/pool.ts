// Pooling of a model output into one vector per input row: pass-through for sentence-level
// outputs [rows, dim], attention-masked mean or [CLS] for token-level outputs [rows, seq, dim]
// (the usual last_hidden_state of a BERT/MiniLM/BGE export).

export function poolChunks(
  data: Float32Array,
  dims: readonly number[],
  mask: BigInt64Array,
  rows: number,
  seq: number,
  pooling: 'mean' | 'cls',
): { data: Float32Array; dim: number } {
  if (dims.length === 2) {
    if (dims[0] !== rows) throw new Error(`model output has ${dims[0]} rows, expected ${rows}`);
    return { data, dim: dims[1]! };
  }
  if (dims.length !== 3 || dims[0] !== rows || dims[1] !== seq) {
    throw new Error(`model output shape [${dims.join(', ')}] is neither [batch, dim] nor [batch, seq, dim]`);
  }
  const dim = dims[2]!;
  const out = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    const o = out.subarray(r * dim, (r + 1) * dim);
    if (pooling === 'cls') {
      o.set(data.subarray(r * seq * dim, r * seq * dim + dim));
      continue;
    }
    let n = 0;
    for (let t = 0; t < seq; t++) {
      if (mask[r * seq + t] === 0n) continue;
      n++;
      const base = (r * seq + t) * dim;
      for (let k = 0; k < dim; k++) o[k]! += data[base + k]!;
    }
    if (n > 0) for (let k = 0; k < dim; k++) o[k]! /= n;
  }
  return { data: out, dim };
}
