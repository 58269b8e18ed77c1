// RFC 9162 Merkle tree head over the chain's record hashes, kept as a compact frontier (one
// perfect-subtree root per set bit of the size), so a checkpoint can sign the root of all
// records since genesis with O(log n) state. Proof helpers work on a full leaf list.
import { merkleLeafHex, merkleNode, merkleNodeHex } from './hash.js';
import { createHash } from 'node:crypto';
import { auditAddon } from './native-lines.js';

const EMPTY_ROOT = createHash('sha256').digest();
const EMPTY_ROOT_HEX = EMPTY_ROOT.toString('hex');

export class MerkleFrontier {
  /**
   * Roots of perfect subtrees as hex, largest (leftmost) first; sizes follow from the bits of
   * `size`. Hex because every record pushes here and hex digests are the cheap ones (hash.ts).
   */
  private roots: string[];
  size: number;

  constructor(size = 0, roots: string[] = []) {
    if (roots.length !== popcount(size)) throw new Error(`frontier of size ${size} needs ${popcount(size)} roots, got ${roots.length}`);
    this.size = size;
    this.roots = roots;
  }

  static fromHex(size: number, hex: string[]): MerkleFrontier {
    return new MerkleFrontier(size, [...hex]);
  }

  toHex(): string[] {
    return [...this.roots];
  }

  clone(): MerkleFrontier {
    return new MerkleFrontier(this.size, [...this.roots]);
  }

  push(recordHashHex: string): void {
    this.pushSubtree(merkleLeafHex(recordHashHex), 1);
  }

  /**
   * push() each of `recordHashesHex`, in order. With the audit addon the leaves are hashed in one
   * native call and the batch is merged as aligned perfect subtrees, so a group-commit batch costs
   * O(log n) JavaScript hash calls instead of about two per record; the frontier is the same.
   */
  pushAll(recordHashesHex: readonly string[]): void {
    const n = recordHashesHex.length;
    const addon = auditAddon();
    if (addon === null || typeof addon.merkleLeavesOfHashes !== 'function' || n < 4) {
      for (const h of recordHashesHex) this.push(h);
      return;
    }
    const leaves = addon.merkleLeavesOfHashes(recordHashesHex.join(''));
    for (let i = 0; i < n; ) {
      // The largest power of two that fits in what is left and starts where the tree would put it.
      let count = 1;
      while (count * 2 <= n - i && this.size % (count * 2) === 0) count *= 2;
      const root = count === 1 ? leaves.toString('hex', 32 * i, 32 * i + 32) : addon.merkleSubtreeRoot(leaves, i, count);
      this.pushSubtree(root, count);
      i += count;
    }
  }

  /**
   * Append a perfect subtree of `count` leaves (a power of two) whose root was computed elsewhere
   * (a verify worker). Precondition: size is a multiple of count, i.e. the subtree sits where the
   * tree itself would put it, so merging it equals pushing its leaves one by one.
   */
  pushSubtree(rootHex: string, count: number): void {
    if (count < 1 || (count & (count - 1)) !== 0 || this.size % count !== 0) throw new RangeError(`subtree of ${count} leaves cannot follow ${this.size}`);
    let node = rootHex;
    // Merge while the new subtree equals the last one in size: the trailing 1-bits of size / count.
    for (let s = this.size / count; s % 2 === 1; s = (s - 1) / 2) node = merkleNodeHex(this.roots.pop()!, node);
    this.roots.push(node);
    this.size += count;
  }

  /** Merkle tree head of the leaves pushed so far (RFC 9162 MTH). */
  root(): string {
    if (this.roots.length === 0) return EMPTY_ROOT_HEX;
    let r = this.roots[this.roots.length - 1]!;
    for (let i = this.roots.length - 2; i >= 0; i--) r = merkleNodeHex(this.roots[i]!, r);
    return r;
  }
}

/**
 * Root of the perfect subtree over `count` consecutive leaf hashes (hex) starting at `from`;
 * count is a power of two. Iterative, pairwise: what a frontier would compute pushing them.
 */
export function perfectSubtreeRoot(leaves: readonly string[], from: number, count: number): string {
  const level = leaves.slice(from, from + count);
  for (let n = count; n > 1; n /= 2) {
    for (let i = 0; i < n / 2; i++) level[i] = merkleNodeHex(level[2 * i]!, level[2 * i + 1]!);
  }
  return level[0]!;
}

function popcount(n: number): number {
  let c = 0;
  for (let x = n; x > 0; x = Math.floor(x / 2)) c += x % 2;
  return c;
}

/** MTH over a list of leaf hashes (RFC 9162 §2.1.1), recursive: used for proofs and tests. */
export function treeHead(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return EMPTY_ROOT;
  if (leaves.length === 1) return leaves[0]!;
  const k = largestPowerOfTwoBelow(leaves.length);
  return merkleNode(treeHead(leaves.slice(0, k)), treeHead(leaves.slice(k)));
}

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** Inclusion proof of leaf m in the tree of all `leaves` (RFC 9162 §2.1.3.1). */
export function inclusionProof(leaves: Buffer[], m: number): Buffer[] {
  if (m < 0 || m >= leaves.length) throw new RangeError(`leaf ${m} outside tree of ${leaves.length}`);
  if (leaves.length === 1) return [];
  const k = largestPowerOfTwoBelow(leaves.length);
  return m < k
    ? [...inclusionProof(leaves.slice(0, k), m), treeHead(leaves.slice(k))]
    : [...inclusionProof(leaves.slice(k), m - k), treeHead(leaves.slice(0, k))];
}

/** Verify an inclusion proof (RFC 9162 §2.1.3.2): recompute the root from the path, then compare. */
export function verifyInclusion(leaf: Buffer, m: number, size: number, proof: Buffer[], root: Buffer): boolean {
  if (m >= size) return false;
  let fn = m;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = merkleNode(p, r);
      if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      r = merkleNode(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}

/** Consistency proof between the first m leaves and all of them (RFC 9162 §2.1.4.1). */
export function consistencyProof(leaves: Buffer[], m: number): Buffer[] {
  if (m <= 0 || m > leaves.length) throw new RangeError(`old size ${m} outside 1..${leaves.length}`);
  return subproof(leaves, m, true);
}

function subproof(leaves: Buffer[], m: number, complete: boolean): Buffer[] {
  const n = leaves.length;
  if (m === n) return complete ? [] : [treeHead(leaves)];
  const k = largestPowerOfTwoBelow(n);
  if (m <= k) return [...subproof(leaves.slice(0, k), m, complete), treeHead(leaves.slice(k))];
  return [...subproof(leaves.slice(k), m - k, false), treeHead(leaves.slice(0, k))];
}

/** Verify a consistency proof (RFC 9162 §2.1.4.2). */
export function verifyConsistency(m: number, n: number, proof: Buffer[], oldRoot: Buffer, newRoot: Buffer): boolean {
  if (m > n || m < 1) return false;
  if (m === n) return proof.length === 0 && oldRoot.equals(newRoot);
  if (proof.length === 0) return false;
  let path = proof;
  if ((m & (m - 1)) === 0) path = [oldRoot, ...proof]; // m is a power of two: the old root is the first node
  if (path.length === 0) return false;
  let fn = m - 1;
  let sn = n - 1;
  while (fn % 2 === 1) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = merkleNode(c, fr);
      sr = merkleNode(c, sr);
      while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      sr = merkleNode(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && fr.equals(oldRoot) && sr.equals(newRoot);
}
