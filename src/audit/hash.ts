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

const RECORD_PREFIX_BYTES = Buffer.from(RECORD_PREFIX, 'latin1');
let bodyScratch = Buffer.alloc(64 << 10);
RECORD_PREFIX_BYTES.copy(bodyScratch);

/**
 * recordHash of the stored line at bytes[start, end) with the `omitLength` bytes at `omitAt` (its
 * hash member) left out: the verifier's fast path, which hashes lines as stored without decoding.
 */
export function recordHashOfLine(bytes: Buffer, start: number, end: number, omitAt: number, omitLength: number): string {
  const n = RECORD_PREFIX_BYTES.length + end - start - omitLength;
  if (bodyScratch.length < n) {
    bodyScratch = Buffer.alloc(n * 2);
    RECORD_PREFIX_BYTES.copy(bodyScratch);
  }
  bytes.copy(bodyScratch, RECORD_PREFIX_BYTES.length, start, omitAt);
  bytes.copy(bodyScratch, RECORD_PREFIX_BYTES.length + omitAt - start, omitAt + omitLength, end);
  return oneShot('sha256', bodyScratch.subarray(0, n), 'hex');
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

// The hex forms below are what the append and verify paths use, once per record: one-shot
// crypto.hash over a reused scratch buffer with hex output costs about a third of a Hash object
// with a Buffer digest (Node allocates a Buffer per digest; the hex string is cheaper). Same bytes
// hashed, same RFC 9162 values; tests pin them against merkleLeaf/merkleNode.
const leafScratch = Buffer.alloc(33); // [0x00] + 32-byte record hash
const nodeScratch = Buffer.alloc(65); // [0x01] + left + right
nodeScratch[0] = 0x01;

/** merkleLeaf as hex, from the record hash as hex. */
export function merkleLeafHex(recordHashHex: string): string {
  if (leafScratch.write(recordHashHex, 1, 'hex') !== 32) throw new TypeError('record hash is not 64 hex digits');
  return oneShot('sha256', leafScratch, 'hex');
}

/** merkleNode as hex, from two child hashes as hex. */
export function merkleNodeHex(leftHex: string, rightHex: string): string {
  if (nodeScratch.write(leftHex, 1, 'hex') !== 32 || nodeScratch.write(rightHex, 33, 'hex') !== 32) throw new TypeError('Merkle node child is not 64 hex digits');
  return oneShot('sha256', nodeScratch, 'hex');
}

export function isHashHex(s: unknown): s is string {
  return typeof s === 'string' && s.length === HASH_HEX_LENGTH && /^[0-9a-f]+$/.test(s);
}
