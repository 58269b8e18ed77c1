// A deliberately naive verifier, used only by tests to cross-check src/audit/verify.ts. It loads
// everything into arrays, re-implements the format from the spec (docs/AUDIT.md) with node:crypto
// and the `canonicalize` package directly, shares no code with src/audit, and answers only
// "intact?" and "lowest seq at which something is wrong".
import { createHash, createPublicKey, verify } from 'node:crypto';
import { createRequire } from 'node:module';

const canonicalize = createRequire(import.meta.url)('canonicalize') as (v: unknown) => string;

const sha = (...parts: (string | Buffer)[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

function mth(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return sha('');
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return sha(Buffer.from([1]), mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

export function referenceVerify(lines: string[], checkpoints: Record<string, unknown>[], publicKeyPem: string): { ok: boolean; firstBadSeq: number | null } {
  const bad: number[] = [];
  const recs: (Record<string, unknown> | null)[] = lines.map((l) => {
    try {
      return JSON.parse(l);
    } catch {
      return null;
    }
  });
  recs.forEach((r, i) => {
    if (!r) return void bad.push(i);
    const seq = r.seq as number;
    if (canonicalize(r) !== lines[i]) bad.push(seq);
    const { hash, ...body } = r;
    if (sha('lacuna-fs/audit/v1/record\0', canonicalize(body)).toString('hex') !== hash) bad.push(seq);
    if (seq !== i) bad.push(Math.min(i, seq));
    const prev = i === 0 ? '0'.repeat(64) : recs[i - 1]?.hash;
    if (r.prev_hash !== prev) bad.push(i);
    if (i === 0 && r.kind !== 'genesis') bad.push(0);
  });
  const key = createPublicKey(publicKeyPem);
  for (const c of checkpoints) {
    const { sig, frontier: _f, ...body } = c;
    const digest = sha('lacuna-fs/audit/v1/checkpoint\0', canonicalize(body));
    const seq = c.seq as number;
    if (!verify(null, digest, key, Buffer.from(String(sig), 'base64'))) {
      bad.push(seq);
      continue;
    }
    if (seq >= recs.length) {
      bad.push(recs.length);
      continue;
    }
    if (recs[seq]?.hash !== c.hash) bad.push(seq);
    const leaves = recs.slice(0, seq + 1).map((r) => sha(Buffer.from([0]), Buffer.from(String(r?.hash ?? ''), 'hex')));
    if (mth(leaves).toString('hex') !== c.root) bad.push(seq);
  }
  return bad.length === 0 ? { ok: true, firstBadSeq: null } : { ok: false, firstBadSeq: Math.min(...bad) };
}
