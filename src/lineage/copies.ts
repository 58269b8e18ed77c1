// Copy detection over the fingerprint index: which known file holds most of a file's
// chunks, and whether that makes it a copy (the copy rule) or a partial copy (the
// derived rule). Similarity is measured in bytes, not chunk counts.

import type { Graph } from './graph.js';
import * as K from './keys.js';
import type { Kv } from './kv.js';
import type { FpRec, NodeRec } from './records.js';

/** Both ways at least this close: the file is a copy and takes its source's classification. */
export const COPY_SIMILARITY = 0.9;
/** At least this much of a file from a source (or MIN_SHARED_BYTES of it) makes it derived. */
export const PARTIAL_SIMILARITY = 0.5;
export const MIN_SHARED_BYTES = 2048;
/** A chunk held by more files than this is boilerplate (a common header), not evidence. */
const COMMON_CHUNK = 256;

export interface CopyCandidate {
  node: NodeRec;
  similarity: number;
  coverage: number;
  shared: number;
}

/** The known file sharing the most bytes with `n`, or undefined when none shares any. */
export function bestCopy(kv: Kv, graph: Graph, n: NodeRec): CopyCandidate | undefined {
  const fp = kv.get('fpNodes', K.fpNodeKey(n.id)) as FpRec | undefined;
  if (fp === undefined || fp.bytes === 0) return undefined;
  // Bytes per distinct chunk: a repeated chunk is looked up once, weighted by all its bytes.
  const bytesOf = new Map<number, number>();
  for (let i = 0; i < fp.hashes.length; i++) {
    const h = fp.hashes[i]!;
    bytesOf.set(h, (bytesOf.get(h) ?? 0) + fp.sizes[i]!);
  }
  const shared = new Map<number, number>();
  for (const [h, bytes] of bytesOf) {
    let holders = 0;
    const hit: number[] = [];
    for (const { key } of kv.range('fp', K.prefixRange(h))) {
      const other = (key as number[])[1]!;
      if (other === n.id) continue;
      if (++holders > COMMON_CHUNK) break;
      hit.push(other);
    }
    if (holders > COMMON_CHUNK) continue;
    for (const o of hit) shared.set(o, (shared.get(o) ?? 0) + bytes);
  }
  let best: CopyCandidate | undefined;
  for (const [id, bytes] of shared) {
    const other = graph.node(id);
    const ofp = kv.get('fpNodes', K.fpNodeKey(id)) as FpRec | undefined;
    if (other === undefined || ofp === undefined || ofp.bytes === 0) continue;
    // A copy made from n (n is its source) must not become n's source in turn.
    if (other.copy?.src === n.id) continue;
    const c: CopyCandidate = {
      node: other,
      similarity: Math.min(1, bytes / fp.bytes),
      coverage: Math.min(1, bytes / ofp.bytes),
      shared: bytes,
    };
    if (best === undefined || better(c, best)) best = c;
  }
  return best;
}

function better(a: CopyCandidate, b: CopyCandidate): boolean {
  if (a.similarity !== b.similarity) return a.similarity > b.similarity;
  if (a.coverage !== b.coverage) return a.coverage > b.coverage;
  // Prefer a live file, then the older one (the original rather than an earlier copy).
  if ((a.node.deleted === undefined) !== (b.node.deleted === undefined)) return a.node.deleted === undefined;
  return a.node.created < b.node.created;
}

/** 'copy' (same classification), 'partial' (derived from it), or undefined (unrelated). */
export function copyDecision(c: CopyCandidate): 'copy' | 'partial' | undefined {
  if (c.similarity >= COPY_SIMILARITY && c.coverage >= COPY_SIMILARITY) return 'copy';
  if (c.similarity >= PARTIAL_SIMILARITY || c.shared >= MIN_SHARED_BYTES) return 'partial';
  return undefined;
}
