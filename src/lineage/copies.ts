// Copy detection over the fingerprint index: which known file holds most of a file's
// chunks, and whether that makes it a copy (the copy rule) or a partial copy (the
// derived rule). Similarity is measured in bytes, not chunk counts.

import type { Chunk } from './chunker.js';
import type { Graph } from './graph.js';
import * as K from './keys.js';
import type { Kv } from './kv.js';
import type { FpRec, NodeRec } from './records.js';

/** Both ways at least this close: the file is a copy and takes its source's classification. */
export const COPY_SIMILARITY = 0.9;
/**
 * At least this much of a file from a source, or MIN_SHARED_BYTES of it, makes it
 * derived. The byte floor is set above what boilerplate shares (a licence header, a
 * CSV header line): a few KiB in common must not taint unrelated files.
 */
export const PARTIAL_SIMILARITY = 0.5;
export const MIN_SHARED_BYTES = 8192;
/** A chunk held by more files than this is boilerplate (a common header), not evidence. */
const COMMON_CHUNK = 256;

export interface CopyCandidate {
  node: NodeRec;
  similarity: number;
  coverage: number;
  shared: number;
}

interface MatchState {
  /** Chunks of the node's list already counted. */
  upto: number;
  /** Candidate node → bytes of this node found in it. */
  shared: Map<number, number>;
  /** Candidate node → its fingerprinted size (read once). */
  sizes: Map<number, number>;
}

/**
 * Finds, incrementally, the known file sharing the most bytes with a file being
 * written: each call looks up only the chunks added since the last one (plus the
 * chunk still open), so asking after every write stays cheap.
 */
export class CopyMatcher {
  private readonly state = new Map<number, MatchState>();

  constructor(
    private readonly kv: Kv,
    private readonly graph: Graph,
  ) {}

  forget(node: number): void {
    this.state.delete(node);
  }

  match(n: NodeRec, fp: FpRec | undefined, open?: Chunk): CopyCandidate | undefined {
    if (fp === undefined) return undefined;
    let st = this.state.get(n.id);
    if (st === undefined || fp.hashes.length < st.upto) {
      st = { upto: 0, shared: new Map(), sizes: new Map() };
      this.state.set(n.id, st);
    }
    for (; st.upto < fp.hashes.length; st.upto++) {
      for (const o of this.holders(fp.hashes[st.upto]!, n.id)) st.shared.set(o, (st.shared.get(o) ?? 0) + fp.sizes[st.upto]!);
    }
    const total = fp.bytes + (open?.size ?? 0);
    if (total === 0) return undefined;
    const extra = open === undefined ? [] : this.holders(open.hash, n.id);
    const ids = new Set([...st.shared.keys(), ...extra]);
    let best: CopyCandidate | undefined;
    for (const id of ids) {
      const bytes = (st.shared.get(id) ?? 0) + (extra.includes(id) ? open!.size : 0);
      const other = this.graph.node(id);
      if (other === undefined || other.copy?.src === n.id) continue; // a copy of n is not n's source
      let size = st.sizes.get(id);
      if (size === undefined) {
        size = (this.kv.get('fpNodes', K.fpNodeKey(id)) as FpRec | undefined)?.bytes ?? 0;
        st.sizes.set(id, size);
      }
      if (size === 0) continue;
      const c: CopyCandidate = { node: other, similarity: Math.min(1, bytes / total), coverage: Math.min(1, bytes / size), shared: bytes };
      if (best === undefined || better(c, best)) best = c;
    }
    return best;
  }

  /** Other nodes holding a chunk; none when the chunk is boilerplate held by too many. */
  private holders(h: number, self: number): number[] {
    const out: number[] = [];
    for (const key of this.kv.keys('fp', K.prefixRange(h))) {
      const other = (key as number[])[1]!;
      if (other === self) continue;
      if (out.length >= COMMON_CHUNK) return [];
      out.push(other);
    }
    return out;
  }
}

/** One-shot match of a node's stored fingerprint (queries from a read-only store). */
export function bestCopy(kv: Kv, graph: Graph, n: NodeRec): CopyCandidate | undefined {
  return new CopyMatcher(kv, graph).match(n, kv.get('fpNodes', K.fpNodeKey(n.id)) as FpRec | undefined);
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
