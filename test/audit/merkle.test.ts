// RFC 9162 Merkle tree: the compact frontier the chain keeps gives the same head as the recursive
// definition, and inclusion / consistency proofs verify, and fail when tampered with.
import t from 'tap';
import { createHash } from 'node:crypto';
import { MerkleFrontier, consistencyProof, inclusionProof, perfectSubtreeRoot, treeHead, verifyConsistency, verifyInclusion } from '../../src/audit/merkle.js';
import { merkleLeaf, merkleLeafHex, merkleNode, merkleNodeHex } from '../../src/audit/hash.js';
import { auditAddon } from '../../src/audit/native-lines.js';

const hashes = Array.from({ length: 70 }, (_, i) => createHash('sha256').update(`r${i}`).digest('hex'));
const leaves = hashes.map(merkleLeaf);

t.test('the frontier root equals the recursive tree head for every size up to 70', async (t) => {
  const f = new MerkleFrontier();
  t.equal(f.root(), treeHead([]).toString('hex'), 'empty tree');
  for (let n = 1; n <= hashes.length; n++) {
    f.push(hashes[n - 1]!);
    t.equal(f.root(), treeHead(leaves.slice(0, n)).toString('hex'), `size ${n}`);
  }
  const resumed = MerkleFrontier.fromHex(f.size, f.toHex());
  t.equal(resumed.root(), f.root(), 'a frontier saved in a checkpoint resumes the same tree');
});

t.test('the hex leaf and node hashes are the Buffer ones, and refuse what is not 64 hex digits', async (t) => {
  for (let i = 0; i + 1 < hashes.length; i++) {
    t.equal(merkleLeafHex(hashes[i]!), leaves[i]!.toString('hex'));
    t.equal(merkleNodeHex(leaves[i]!.toString('hex'), leaves[i + 1]!.toString('hex')), merkleNode(leaves[i]!, leaves[i + 1]!).toString('hex'));
  }
  t.throws(() => merkleLeafHex('zz'.repeat(32)), TypeError);
  t.throws(() => merkleNodeHex('ab', hashes[0]!), TypeError);
});

t.test('subtrees computed elsewhere and pushed whole give the same roots as pushing their leaves', async (t) => {
  const leafHex = hashes.map((h) => merkleLeafHex(h));
  // Split 0..70 the way a verify worker does: greedy aligned powers of two, cut at some sizes.
  for (const cuts of [[], [1], [3, 17], [32, 33, 64], [5, 6, 7, 8, 9]]) {
    const f = new MerkleFrontier();
    let pos = 0;
    for (const end of [...cuts, hashes.length]) {
      while (pos < end) {
        let size = 1;
        while (pos % (size * 2) === 0 && pos + size * 2 <= end) size *= 2;
        f.pushSubtree(perfectSubtreeRoot(leafHex, pos, size), size);
        pos += size;
        t.equal(f.root(), treeHead(leaves.slice(0, pos)).toString('hex'), `cuts ${cuts.join(',')}: size ${pos}`);
      }
    }
  }
  const f = new MerkleFrontier();
  f.push(hashes[0]!);
  t.throws(() => f.pushSubtree(leafHex[1]!, 2), RangeError, 'a subtree not aligned to the tree is refused');
  t.throws(() => f.pushSubtree(leafHex[1]!, 3), RangeError, 'a subtree size must be a power of two');
});

t.test('a batch pushed at once (as the writer does per group commit) gives the frontier of pushing it record by record', async (t) => {
  // Batches of every length up to 70 after frontiers of sizes 0..40, so batches start at every
  // alignment and split into many subtree shapes.
  for (const start of [0, 1, 2, 3, 5, 8, 13, 16, 31, 40]) {
    for (let n = 0; n + start <= hashes.length; n++) {
      const one = new MerkleFrontier();
      const all = new MerkleFrontier();
      for (const h of hashes.slice(0, start)) {
        one.push(h);
        all.push(h);
      }
      for (const h of hashes.slice(start, start + n)) one.push(h);
      all.pushAll(hashes.slice(start, start + n));
      if (all.size !== one.size || all.root() !== one.root() || all.toHex().join() !== one.toHex().join()) {
        t.fail(`batch of ${n} after ${start}`);
        return;
      }
    }
  }
  t.pass('every batch length at every start');
});

t.test('the addon\'s leaf hashes of concatenated record hashes are the TypeScript ones, and it refuses what is not hex', { skip: auditAddon() === null && 'audit addon not built' }, async (t) => {
  const addon = auditAddon()!;
  const got = addon.merkleLeavesOfHashes(hashes.join(''));
  t.equal(got.length, 32 * hashes.length);
  t.same(hashes.map((_, i) => got.toString('hex', 32 * i, 32 * i + 32)), hashes.map(merkleLeafHex));
  t.equal(addon.merkleLeavesOfHashes('').length, 0);
  t.throws(() => addon.merkleLeavesOfHashes('ab'), RangeError, 'a length that is not whole hashes');
  t.throws(() => addon.merkleLeavesOfHashes('Z'.repeat(64)), RangeError, 'not hex');
  t.throws(() => addon.merkleLeavesOfHashes(hashes[0]!.toUpperCase()), RangeError, 'upper case is not what the chain writes');
});

t.test('the RFC 9162 test vector: tree head of the empty tree is SHA-256 of nothing', async (t) => {
  t.equal(treeHead([]).toString('hex'), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
});

t.test('inclusion proofs verify for every leaf of trees up to 20 and fail when a path node is flipped', async (t) => {
  for (let n = 1; n <= 20; n++) {
    const root = treeHead(leaves.slice(0, n));
    for (let m = 0; m < n; m++) {
      const proof = inclusionProof(leaves.slice(0, n), m);
      if (!verifyInclusion(leaves[m]!, m, n, proof, root)) t.fail(`inclusion ${m} in ${n}`);
      if (proof.length) {
        const bad = proof.map((p, i) => (i === 0 ? Buffer.from(p.map((b) => b ^ 1)) : p));
        if (verifyInclusion(leaves[m]!, m, n, bad, root)) t.fail(`tampered inclusion ${m} in ${n} accepted`);
      }
      if (n > 1 && verifyInclusion(leaves[(m + 1) % n]!, m, n, proof, root)) t.fail(`wrong leaf accepted at ${m} in ${n}`);
    }
  }
  t.pass('all inclusion proofs behave');
});

t.test('consistency proofs verify between every pair of sizes up to 20 and fail against a rewritten history', async (t) => {
  for (let n = 1; n <= 20; n++) {
    const newRoot = treeHead(leaves.slice(0, n));
    for (let m = 1; m <= n; m++) {
      const oldRoot = treeHead(leaves.slice(0, m));
      const proof = consistencyProof(leaves.slice(0, n), m);
      if (!verifyConsistency(m, n, proof, oldRoot, newRoot)) t.fail(`consistency ${m} -> ${n}`);
      if (m < n) {
        const forged = treeHead([merkleLeaf('f'.repeat(64)), ...leaves.slice(1, m)]);
        if (verifyConsistency(m, n, proof, forged, newRoot)) t.fail(`rewritten history ${m} -> ${n} accepted`);
      }
    }
  }
  t.pass('all consistency proofs behave');
});
