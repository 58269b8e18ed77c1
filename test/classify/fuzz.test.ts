// Hostile input never crashes the scanner or the classifier, and every scan stays within a
// time budget (RE2 is linear-time; validators are bounded): random bytes, random UTF-8 and
// invalid UTF-8, and pathological shapes (long digit runs, walls of '@', nested separators).
import t from 'tap';
import { compileRules, createStream, scan, scanSync, type RawFinding } from '../../src/classify/native.js';
import { loadBuiltin, toNative } from '../../src/classify/rules.js';
import { createClassifier } from '../../src/classify/index.js';

const MiB = 1024 * 1024;
// Generous for a shared 2-core machine: the scanner does ~50-500 MiB/s, so 1 MiB takes 2-20 ms.
const BUDGET_MS = 1500;
const set = compileRules(loadBuiltin().rules.map(toNative));
const classifier = createClassifier({ cacheSize: 0 });

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function randomBytes(n: number, r: () => number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

function randomUtf8(n: number, r: () => number): Buffer {
  let s = '';
  while (s.length < n) {
    const k = r();
    const cp = k < 0.6 ? 0x20 + Math.floor(r() * 0x5f) : k < 0.8 ? 0xa0 + Math.floor(r() * 0x700) : k < 0.95 ? 0x3000 + Math.floor(r() * 0x6000) : 0x1f300 + Math.floor(r() * 0x300);
    s += k < 0.05 ? '\n' : String.fromCodePoint(cp);
  }
  return Buffer.from(s, 'utf8');
}

const repeat = (unit: string, n = MiB) => Buffer.from(unit.repeat(Math.ceil(n / unit.length)).slice(0, n), 'latin1');

const pathological: [string, Buffer][] = [
  ['a 1 MiB run of digits', repeat('7')],
  ['digit groups with spaces', repeat('4556 ')],
  ['digit groups with dashes', repeat('123-45-')],
  ['a wall of @', repeat('@')],
  ['a@ repeated', repeat('a@')],
  ['dotted labels without end', repeat('a.')],
  ['dotted quads without end', repeat('1.2.')],
  ['hex and colons', repeat('ab:')],
  ['PEM headers without bodies', repeat('-----BEGIN RSA PRIVATE KEY-----\n')],
  ['JWT prefixes', repeat('eyJhbGciOi.')],
  ['assignments without values', repeat('password=')],
  ['one long line of base64', Buffer.from(randomBytes(MiB, rng(3)).toString('base64').slice(0, MiB))],
  ['invalid UTF-8 continuation bytes', repeat('\x80\xbf\xc3')],
  ['NUL bytes', Buffer.alloc(MiB)],
  ['CRLF lines of IBAN-like blocks', repeat('DE89 3704 \r\n')],
];

function timed<T>(f: () => T): [T, number] {
  const t0 = process.hrtime.bigint();
  const v = f();
  return [v, Number(process.hrtime.bigint() - t0) / 1e6];
}

t.test('random bytes never crash the scanner or the classifier and stay within budget', async (t) => {
  const r = rng(1);
  for (let i = 0; i < 12; i++) {
    const b = randomBytes(i < 10 ? 1 + Math.floor(r() * 70000) : MiB, r);
    const [, ms] = timed(() => scanSync(set, b));
    t.ok(ms < BUDGET_MS, `scan of ${b.length} random bytes took ${ms.toFixed(1)} ms`);
    const [c] = timed(() => classifier.classifyBuffer(b));
    t.ok(c.tier === 'PUBLIC' || c.tier === 'INTERNAL' || c.tier === 'PROPRIETARY');
  }
});

t.test('random and invalid UTF-8 never crash and stay within budget', async (t) => {
  const r = rng(2);
  for (let i = 0; i < 8; i++) {
    const b = randomUtf8(i < 6 ? 50000 : MiB, r);
    if (i % 2) b[Math.floor(r() * b.length)] = 0xc0; // an invalid lead byte somewhere
    const [, ms] = timed(() => scanSync(set, b));
    t.ok(ms < BUDGET_MS, `scan of ${b.length} UTF-8 bytes took ${ms.toFixed(1)} ms`);
    classifier.classifyBuffer(b);
  }
});

t.test('pathological inputs scan in linear time', async (t) => {
  for (const [name, b] of pathological) {
    const [res, ms] = timed(() => scanSync(set, b));
    t.ok(ms < BUDGET_MS, `${name}: ${ms.toFixed(1)} ms for ${b.length} bytes`);
    t.ok(Array.isArray(res));
    const [c, cms] = timed(() => classifier.classifyBuffer(b));
    t.ok(cms < BUDGET_MS * 2, `${name}: classifyBuffer ${cms.toFixed(1)} ms`);
    t.notOk(c.findings.some((f) => f.type === 'credit_card' || f.type === 'ssn' || f.type === 'private_key'), `${name}: no card, SSN or key found in noise`);
  }
});

t.test('streaming agrees with a whole-buffer scan on random input', async (t) => {
  const r = rng(9);
  const sum = (f: RawFinding[]) => f.map((x) => `${x.id}:${x.count}:${x.rejected}`).sort().join(',');
  for (let i = 0; i < 3; i++) {
    const b = Buffer.concat([randomUtf8(1_500_000, r), Buffer.from('\nSSN 536-22-8745 a.b@x-corp.com\n'), randomUtf8(900_000, r)]);
    const whole = await scan(set, b);
    const s = createStream(set);
    for (let off = 0; off < b.length; ) {
      const n = 1 + Math.floor(r() * 300_000);
      await s.write(b.subarray(off, off + n));
      off += n;
    }
    t.equal(sum((await s.finish()).findings), sum(whole));
  }
});

t.test('a rule set with many user rules still compiles and scans noise in budget', async (t) => {
  const extra = Array.from({ length: 200 }, (_, i) => ({ id: `user_${i}`, pattern: `(?i)\\bcodeword${i}[a-z]{0,8}\\b`, category: 'keyword' as const }));
  const c = createClassifier({ extraRules: extra, cacheSize: 0 });
  const b = randomUtf8(MiB, rng(4));
  const [, ms] = timed(() => c.classifyBuffer(b));
  t.ok(ms < BUDGET_MS * 2, `${ms.toFixed(1)} ms`);
  t.equal(c.classifyBuffer(Buffer.from('see codeword17alpha')).tier, 'PROPRIETARY');
});
