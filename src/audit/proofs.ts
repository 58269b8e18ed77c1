// RFC 9162 proofs over the chain for `lacuna-fs audit prove`: that record N is included in the
// tree a signed checkpoint vouches for, and that an older checkpoint's tree is a prefix of a newer
// one (nothing before it was rewritten). Proof documents are self-contained JSON a third party
// can check with the public key; verification here recomputes the roots before answering.
import type { KeyObject } from 'node:crypto';
import { checkCheckpoint, type Checkpoint } from './checkpoint.js';
import { merkleLeaf } from './hash.js';
import { consistencyProof, inclusionProof, treeHead, verifyConsistency, verifyInclusion } from './merkle.js';

export interface InclusionProofDoc {
  type: 'inclusion';
  chain_id: string;
  seq: number;
  record_hash: string;
  tree_size: number;
  root: string;
  proof: string[];
  checkpoint: Checkpoint;
}

export interface ConsistencyProofDoc {
  type: 'consistency';
  chain_id: string;
  old_size: number;
  new_size: number;
  old_root: string;
  new_root: string;
  proof: string[];
  old_checkpoint: Checkpoint;
  new_checkpoint: Checkpoint;
}

export class ProofError extends Error {
  constructor(readonly code: 'no_checkpoint' | 'missing_records' | 'root_mismatch' | 'bad_signature' | 'out_of_range', message: string) {
    super(message);
    this.name = 'ProofError';
  }
}

function checkSigned(c: Checkpoint, key: { publicKey: KeyObject; keyId: string } | undefined): void {
  if (!key) return;
  const p = checkCheckpoint(c, key.publicKey, key.keyId);
  if (p) throw new ProofError('bad_signature', `checkpoint at seq ${c.seq}: ${p.detail}`);
}

/**
 * Precondition: `recordHashes[i]` is the stored hash of record i, from genesis, of a chain that
 * verifies (run verify first). The tree is rebuilt and must equal the signed root.
 */
function leavesFor(recordHashes: string[], c: Checkpoint): Buffer[] {
  if (recordHashes.length < c.tree_size) throw new ProofError('missing_records', `the checkpoint covers ${c.tree_size} records, only ${recordHashes.length} are available from genesis`);
  const leaves = recordHashes.slice(0, c.tree_size).map(merkleLeaf);
  const root = treeHead(leaves).toString('hex');
  if (root !== c.root) throw new ProofError('root_mismatch', `records 0..${c.seq} give root ${root}, the checkpoint signed ${c.root}`);
  return leaves;
}

/** Inclusion of record `seq` in the tree of checkpoint `c` (default: the first checkpoint at or after seq). */
export function proveInclusion(recordHashes: string[], checkpoints: Checkpoint[], seq: number, key?: { publicKey: KeyObject; keyId: string }, atCheckpoint?: number): InclusionProofDoc {
  const sorted = [...checkpoints].sort((a, b) => a.seq - b.seq);
  const c = atCheckpoint !== undefined ? sorted.find((k) => k.seq === atCheckpoint) : sorted.find((k) => k.seq >= seq);
  if (!c) throw new ProofError('no_checkpoint', atCheckpoint !== undefined ? `no checkpoint at seq ${atCheckpoint}` : `no checkpoint covers seq ${seq} yet`);
  if (seq > c.seq) throw new ProofError('out_of_range', `seq ${seq} is after checkpoint ${c.seq}`);
  checkSigned(c, key);
  const leaves = leavesFor(recordHashes, c);
  const proof = inclusionProof(leaves, seq);
  return { type: 'inclusion', chain_id: c.chain_id, seq, record_hash: recordHashes[seq]!, tree_size: c.tree_size, root: c.root, proof: proof.map((b) => b.toString('hex')), checkpoint: c };
}

export function proveConsistency(recordHashes: string[], checkpoints: Checkpoint[], oldSeq: number, newSeq: number, key?: { publicKey: KeyObject; keyId: string }): ConsistencyProofDoc {
  const o = checkpoints.find((k) => k.seq === oldSeq);
  const n = checkpoints.find((k) => k.seq === newSeq);
  if (!o || !n) throw new ProofError('no_checkpoint', `need checkpoints at seq ${oldSeq} and ${newSeq}`);
  if (o.seq > n.seq) throw new ProofError('out_of_range', 'the old checkpoint must not be newer than the new one');
  checkSigned(o, key);
  checkSigned(n, key);
  leavesFor(recordHashes, o);
  const leaves = leavesFor(recordHashes, n);
  const proof = consistencyProof(leaves, o.tree_size);
  return { type: 'consistency', chain_id: n.chain_id, old_size: o.tree_size, new_size: n.tree_size, old_root: o.root, new_root: n.root, proof: proof.map((b) => b.toString('hex')), old_checkpoint: o, new_checkpoint: n };
}

/** Check a proof document alone (no records needed): signatures, then the RFC 9162 recomputation. */
export function checkProof(doc: InclusionProofDoc | ConsistencyProofDoc, key: { publicKey: KeyObject; keyId: string }): { ok: boolean; detail: string } {
  try {
    if (doc.type === 'inclusion') {
      checkSigned(doc.checkpoint, key);
      if (doc.checkpoint.root !== doc.root || doc.checkpoint.tree_size !== doc.tree_size) return { ok: false, detail: 'proof root is not the signed checkpoint root' };
      const ok = verifyInclusion(merkleLeaf(doc.record_hash), doc.seq, doc.tree_size, doc.proof.map((h) => Buffer.from(h, 'hex')), Buffer.from(doc.root, 'hex'));
      return { ok, detail: ok ? `record ${doc.seq} (${doc.record_hash}) is in the signed tree of size ${doc.tree_size}` : 'inclusion proof does not recompute the signed root' };
    }
    checkSigned(doc.old_checkpoint, key);
    checkSigned(doc.new_checkpoint, key);
    if (doc.old_checkpoint.root !== doc.old_root || doc.new_checkpoint.root !== doc.new_root) return { ok: false, detail: 'proof roots are not the signed checkpoint roots' };
    const ok = verifyConsistency(doc.old_size, doc.new_size, doc.proof.map((h) => Buffer.from(h, 'hex')), Buffer.from(doc.old_root, 'hex'), Buffer.from(doc.new_root, 'hex'));
    return { ok, detail: ok ? `the tree of size ${doc.old_size} is a prefix of the tree of size ${doc.new_size}` : 'consistency proof does not recompute both signed roots' };
  } catch (err) {
    return { ok: false, detail: (err as Error).message };
  }
}
