// The audit addon's line table (native/audit/record_lines.cc) must be exactly the TypeScript one
// (line-table.ts): same lines, same records counted, same offsets, flags and Merkle roots, on real
// chains and on random damage to them (flipped bytes, planted member names, newlines, moved hash
// members, unicode). Its digests must be SHA-256 as node:crypto computes it.
import t from 'tap';
import { createHash } from 'node:crypto';
import { buildRecord } from '../../src/audit/record.js';
import { ZERO_HASH, merkleLeafHex } from '../../src/audit/hash.js';
import { perfectSubtreeRoot } from '../../src/audit/merkle.js';
import { GENESIS, LINKS, lineTable, scriptLineTable, type LineTable } from '../../src/audit/line-table.js';
import { auditAddon } from '../../src/audit/native-lines.js';
import { scanLines } from '../../src/audit/intact-runs.js';

const addon = auditAddon();
if (!addon) {
  t.fail('audit addon not built: run `npm run build:native`');
  process.exit(1);
}

/** Deterministic PRNG so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = Math.imul(s ^ (s >>> 15), 1 | s);
    x ^= x + Math.imul(x ^ (x >>> 7), 61 | x);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const CHAIN = 'vm-5e1f00d7';
const WORDS = ['alice', 'bøb', '日本', 'a"b', 'x\\y', ',"host":', ',"seq":7,', '"chain_id":', ',"prev_hash":"', '\n', 'genesis"', ',"kind":"'];

function chain(n: number, r: () => number): string[] {
  const lines: string[] = [];
  let prev = ZERO_HASH;
  for (let seq = 0; seq < n; seq++) {
    const w = () => WORDS[Math.floor(r() * WORDS.length)]!;
    const e = seq === 0
      ? { kind: 'genesis' as const, details: { format: 'lacuna-fs/audit/v1', note: w() } }
      : { kind: 'decision' as const, user: w(), paths: [`/d/${w()}`, `/e/${seq}`], decision: r() < 0.5 ? 'deny' : 'allow', reasoning: w(), ...(r() < 0.3 ? { details: { hash: w(), host: w(), seq } } : {}) };
    const b = buildRecord(e, { chainId: CHAIN, host: r() < 0.5 ? 'vm' : w(), seq, prevHash: prev });
    lines.push(b.line);
    prev = b.record.hash;
  }
  return lines;
}

const PLANTS = [',"host":"x"', ',"seq":', ',"seq":12}', '"chain_id":"vm-5e1f00d7",', ',"prev_hash":"', ',"hash":"', '\n', '"', '0', '}', 'é'];

/** Random damage of the kinds that could trip a by-position reader. */
function damage(text: string, r: () => number): string {
  const at = Math.floor(r() * text.length);
  switch (Math.floor(r() * 5)) {
    case 0: return text.slice(0, at) + String.fromCharCode(32 + Math.floor(r() * 95)) + text.slice(at + 1);
    case 1: return text.slice(0, at) + PLANTS[Math.floor(r() * PLANTS.length)]! + text.slice(at);
    case 2: return text.slice(0, at) + text.slice(at + 1 + Math.floor(r() * 80));
    case 3: { // move a hash member to the front of its line
      const m = /,("hash":"[0-9a-f]{64}")/.exec(text.slice(at));
      return m ? text.slice(0, at) + text.slice(at).replace(m[0], '').replace(/^[^{]*\{/, (h) => `${h}${m[1]},`) : text;
    }
    default: return text.slice(0, at); // cut (possibly mid-line)
  }
}

function rows(tb: LineTable) {
  const out = [];
  for (let i = 0; i < tb.count; i++) {
    const counts = tb.seqs[i]! >= 0;
    out.push([tb.ends[i], tb.seqs[i], tb.flags[i], counts ? tb.hashAt[i] : 0, counts ? tb.prevAt[i] : 0]);
  }
  return out;
}

/** Roots of every aligned perfect subtree inside each maximal stretch of counted lines. */
function roots(tb: LineTable): string[] {
  const out: string[] = [];
  for (let i = 0; i < tb.count; ) {
    if (tb.seqs[i]! < 0) { i++; continue; }
    let j = i;
    while (j < tb.count && tb.seqs[j]! >= 0) j++;
    for (let size = 1; size <= j - i; size *= 2) for (let f = i; f + size <= j; f += size) out.push(`${f}+${size}:${tb.subtreeRoot(f, size)}`);
    i = j;
  }
  return out;
}

t.test('native and TypeScript tables agree on intact chains', async (t) => {
  const r = rng(1);
  for (const n of [1, 2, 7, 33]) {
    const buf = Buffer.from(`${chain(n, r).join('\n')}\n`);
    const js = scriptLineTable(buf, CHAIN, true);
    const nat = lineTable(buf, CHAIN, true, true);
    t.same(rows(nat), rows(js), `${n} records: same rows`);
    t.ok(Array.from(js.seqs).every((s, i) => s === i), 'every record counts');
    t.equal(js.flags[0]! & GENESIS, GENESIS, 'genesis flagged');
    t.ok(Array.from(js.flags).slice(1).every((f) => (f & LINKS) !== 0), 'every record links to the one before');
    t.same(roots(nat), roots(js), `${n} records: same Merkle subtree roots`);
  }
});

t.test('native and TypeScript tables agree on randomly damaged chains', async (t) => {
  const r = rng(7);
  let differing = 0;
  for (let round = 0; round < 300; round++) {
    let text = `${chain(2 + Math.floor(r() * 10), r).join('\n')}\n`;
    for (let k = Math.floor(r() * 4); k > 0; k--) text = damage(text, r);
    const buf = Buffer.from(text);
    const js = scriptLineTable(buf, CHAIN, true);
    const nat = lineTable(buf, CHAIN, true, true);
    const same = JSON.stringify(rows(nat)) === JSON.stringify(rows(js)) && JSON.stringify(roots(nat)) === JSON.stringify(roots(js));
    if (!same) {
      differing++;
      t.same({ rows: rows(nat), roots: roots(nat) }, { rows: rows(js), roots: roots(js) }, `round ${round}: ${JSON.stringify(text)}`);
    }
    // Another chain's lines never count.
    t.ok(lineTable(buf, 'vm-other', false, true).seqs.every((s) => s === -1), `round ${round}: foreign chain id`);
  }
  t.equal(differing, 0, '300 damaged chains: identical tables');
});

t.test('scanLines gives the same runs either way', async (t) => {
  const r = rng(11);
  for (let round = 0; round < 60; round++) {
    let text = `${chain(20, r).join('\n')}\n`;
    if (round % 2) text = damage(text, r);
    const buf = Buffer.from(text);
    const o = { chainId: CHAIN, trustedThrough: 15, hashSeqs: [4, 9, 15], cutSizes: [5, 10, 16] };
    t.same(scanLines(buf, { ...o, native: true }), scanLines(buf, { ...o, native: false }), `round ${round}`);
  }
});

t.test('the addon hashes as node:crypto does: record hashes, leaves and subtree roots on random input', async (t) => {
  const r = rng(3);
  for (let round = 0; round < 50; round++) {
    // A line that counts only if the addon's record hash is SHA-256 over prefix + body.
    const body = Array.from({ length: Math.floor(r() * 3000) }, () => String.fromCharCode(32 + Math.floor(r() * 95))).join('').replace(/["\\]/g, '_');
    const head = `{"chain_id":"${CHAIN}","x":"${body}"`;
    const tail = `"host":"h","kind":"decision","prev_hash":"${ZERO_HASH}","seq":${round + 1}}`;
    const hash = createHash('sha256').update(`lacuna-fs/audit/v1/record\0${head},${tail}`).digest('hex');
    const tb = lineTable(Buffer.from(`${head},"hash":"${hash}",${tail}\n`), CHAIN, true, true);
    t.equal(tb.seqs[0], round + 1, `round ${round}: counted (record hash agrees)`);
    t.equal(tb.subtreeRoot(0, 1), merkleLeafHex(hash), `round ${round}: leaf agrees`);
  }
  const leaves = Array.from({ length: 64 }, (_, i) => createHash('sha256').update(`leaf ${i}`).digest());
  const hex = leaves.map((l) => l.toString('hex'));
  const packed = Buffer.concat(leaves);
  for (const size of [1, 2, 4, 8, 16, 32, 64]) {
    for (const first of new Set([0, Math.min(size, 64 - size), 64 - size])) t.equal(addon.merkleSubtreeRoot(packed, first, size), perfectSubtreeRoot(hex, first, size), `subtree ${first}+${size}`);
  }
  t.throws(() => addon.merkleSubtreeRoot(packed, 0, 3), RangeError, 'not a power of two');
  t.throws(() => addon.merkleSubtreeRoot(packed, 60, 8), RangeError, 'past the leaves');
  t.throws(() => addon.scanRecordLines('x' as unknown as Uint8Array, Buffer.alloc(0), false), TypeError);
});
