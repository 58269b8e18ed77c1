// Signed checkpoints: an Ed25519 signature over (chain, seq, head hash, time, Merkle root). They
// are what makes deleting the *tail* of the log detectable: a checkpoint names a seq and hash that
// must still be present. Stored one per line in <stateDir>/audit/checkpoints.jsonl and in PostgreSQL.
import { sign, verify as edVerify, type KeyObject } from 'node:crypto';
import { canonicalText, normalize, type JsonValue } from './canonical.js';
import { checkpointDigest, isHashHex } from './hash.js';
import type { SigningKey } from './keys.js';

export interface Checkpoint {
  v: 1;
  type: 'checkpoint';
  chain_id: string;
  host: string;
  /** The chain head the checkpoint vouches for. */
  seq: number;
  hash: string;
  time: string;
  /** RFC 9162 tree over records 0..seq (tree_size = seq + 1). */
  tree_size: number;
  root: string;
  key_id: string;
  /** base64 Ed25519 signature over checkpointDigest(canonical body without sig/frontier). */
  sig: string;
}

/** A stored checkpoint line also carries the Merkle frontier so a restart can resume the tree; it is not signed. */
export interface StoredCheckpoint extends Checkpoint {
  frontier?: string[];
}

export type UnsignedCheckpoint = Omit<Checkpoint, 'sig' | 'v' | 'type' | 'key_id'>;

function signedBody(c: Omit<Checkpoint, 'sig'> | Checkpoint): string {
  const { sig: _s, frontier: _f, ...body } = c as StoredCheckpoint;
  return canonicalText(normalize(body) as { [k: string]: JsonValue });
}

export function signCheckpoint(c: UnsignedCheckpoint, key: SigningKey): Checkpoint {
  const body: Omit<Checkpoint, 'sig'> = { v: 1, type: 'checkpoint', ...c, key_id: key.keyId };
  const sig = sign(null, checkpointDigest(signedBody(body)), key.privateKey).toString('base64');
  return { ...body, sig };
}

export type CheckpointProblem = 'malformed' | 'unknown_key' | 'bad_signature';

/** Check shape, key id and signature; pure. Returns null when the checkpoint is good. */
export function checkCheckpoint(c: unknown, publicKey: KeyObject, keyId: string): { problem: CheckpointProblem; detail: string } | null {
  if (c === null || typeof c !== 'object') return { problem: 'malformed', detail: 'not an object' };
  const k = c as Partial<Checkpoint>;
  if (k.type !== 'checkpoint' || !Number.isSafeInteger(k.seq) || !isHashHex(k.hash) || !isHashHex(k.root) ||
      typeof k.sig !== 'string' || typeof k.chain_id !== 'string' || k.tree_size !== (k.seq ?? -2) + 1) {
    return { problem: 'malformed', detail: 'missing or inconsistent checkpoint fields' };
  }
  if (k.key_id !== keyId) return { problem: 'unknown_key', detail: `signed by key ${k.key_id}, verifying with ${keyId}` };
  let ok = false;
  try {
    ok = edVerify(null, checkpointDigest(signedBody(k as Checkpoint)), publicKey, Buffer.from(k.sig, 'base64'));
  } catch {
    ok = false;
  }
  return ok ? null : { problem: 'bad_signature', detail: `signature does not match checkpoint at seq ${k.seq}` };
}

export function checkpointLine(c: StoredCheckpoint): string {
  return canonicalText(normalize(c) as { [k: string]: JsonValue });
}
