// The single hash function of the audit area: SHA-256 with a distinct domain prefix for each
// thing hashed, so a record can never be passed off as a checkpoint or a Merkle node (and vice
// versa). Merkle prefixes are RFC 9162's 0x00 (leaf) and 0x01 (node); the others are ASCII tags
// that cannot start with those bytes.
import { createHash, hash as oneShot } from 'node:crypto';

export const HASH_HEX_LENGTH = 64;
/** prev_hash of the genesis record. */
export const ZERO_HASH = '0'.repeat(HASH_HEX_LENGTH);

/** ASCII, so its UTF-8 bytes are these characters; prepended as a string for the one-shot hash. */
const RECORD_PREFIX = 'lacuna-fs/audit/v1/record\0';
const CHECKPOINT_PREFIX = Buffer.from('lacuna-fs/audit/v1/checkpoint\0', 'latin1');
const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

/** Hash of a record: over the RFC 8785 text of the record without its `hash` member. */
export function recordHash(canonicalBody: string): string {
  // One-shot crypto.hash: no Hash object per record (the hot path hashes every append).
  return oneShot('sha256', RECORD_PREFIX + canonicalBody, 'hex');
}

/** Digest that a checkpoint signature covers: the RFC 8785 text of the checkpoint without `sig`. */
export function checkpointDigest(canonicalBody: string): Buffer {
  return createHash('sha256').update(CHECKPOINT_PREFIX).update(canonicalBody, 'utf8').digest();
}

/** RFC 9162 leaf hash; the leaf data is the 32 raw bytes of the record hash. */
export function merkleLeaf(recordHashHex: string): Buffer {
  return createHash('sha256').update(LEAF_PREFIX).update(Buffer.from(recordHashHex, 'hex')).digest();
}

/** RFC 9162 interior node hash. */
export function merkleNode(left: Buffer, right: Buffer): Buffer {
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

export function isHashHex(s: unknown): s is string {
  return typeof s === 'string' && s.length === HASH_HEX_LENGTH && /^[0-9a-f]+$/.test(s);
}
