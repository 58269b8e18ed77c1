// Model inputs are int64 tensors. Storing into a BigInt64Array takes a BigInt per element; token
// ids and mask bits are small non-negative integers, so we write only the low 32-bit half of
// each element through an Int32Array over the same memory and leave the high half at zero.

/** Index of the low 32-bit word inside one int64 element on this machine (0 on little-endian). */
const LOW_WORD = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1 ? 0 : 1;

export interface Int64Rows {
  /** Row-major [rows, seq]; rows are padded with the pad id to the longest row. */
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  rows: number;
  seq: number;
  /** Real (unpadded) tokens per row, [CLS]/[SEP] included. */
  lengths: number[];
  /** Rows of each text, in order (texts own consecutive rows). */
  rowsPerText: number[];
}

/** The ids of one text: ids[start, start + count). */
export interface IdSpan {
  start: number;
  count: number;
}

/** Rows that `count` ids take: at most `body` ids a row, at most `maxChunks` rows, at least one. */
export function rowsFor(count: number, body: number, maxChunks: number): number {
  return Math.max(1, Math.min(maxChunks, Math.ceil(count / body)));
}

/**
 * Each span's ids as [CLS] … [SEP] rows of at most `body` ids, at most `maxChunks` rows per span
 * (the rest is dropped) and at least one, all in one padded batch with attention mask.
 */
export function chunkRows(
  ids: Int32Array,
  spans: readonly IdSpan[],
  body: number,
  maxChunks: number,
  special: { cls: number; sep: number; pad: number },
): Int64Rows {
  const lengths: number[] = [];
  const firstIds: number[] = [];
  const rowsPerText: number[] = [];
  for (const { start, count } of spans) {
    const rows = rowsFor(count, body, maxChunks);
    rowsPerText.push(rows);
    for (let r = 0; r < rows; r++) {
      lengths.push(Math.min(body, Math.max(0, count - r * body)) + 2);
      firstIds.push(start + r * body);
    }
  }
  const rows = lengths.length;
  const seq = Math.max(...lengths);
  const inputIds = new BigInt64Array(rows * seq);
  const attentionMask = new BigInt64Array(rows * seq);
  const idWords = new Int32Array(inputIds.buffer);
  const lo = LOW_WORD;
  const pad = BigInt(special.pad);
  for (let r = 0; r < rows; r++) {
    const base = r * seq;
    const len = lengths[r]!;
    const from = firstIds[r]! - 1;
    idWords[2 * base + lo] = special.cls;
    for (let j = 1; j < len - 1; j++) idWords[2 * (base + j) + lo] = ids[from + j]!;
    idWords[2 * (base + len - 1) + lo] = special.sep;
    // fill() with one BigInt is a native loop; the zeroed memory is already mask 0 and pad id 0.
    attentionMask.fill(1n, base, base + len);
    if (special.pad !== 0 && len < seq) inputIds.fill(pad, base + len, base + seq);
  }
  return { inputIds, attentionMask, rows, seq, lengths, rowsPerText };
}
