// The one canonical encoding: RFC 8785 output for the inputs audit records meet, strict refusal
// of inputs with no single meaning, and the hash splice in buildRecord equal to a full re-encoding.
import t from 'tap';
import { createRequire } from 'node:module';
import { canonicalize, isPlainJson, normalize } from '../../src/audit/canonical.js';
import { buildRecord, parseRecordLine, quickVerifyLine } from '../../src/audit/record.js';
import { ZERO_HASH } from '../../src/audit/hash.js';
import { AuditRecordError } from '../../src/audit/types.js';

const jcs = createRequire(import.meta.url)('canonicalize') as (v: unknown) => string;

t.test('numbers take their ECMAScript shortest form, as RFC 8785 requires', async (t) => {
  t.equal(canonicalize({ a: 1e21, b: 1e-7, c: 0.1, d: -0, e: 100, f: 1.5e300, g: 2 ** 53 }), '{"a":1e+21,"b":1e-7,"c":0.1,"d":0,"e":100,"f":1.5e+300,"g":9007199254740992}');
});

t.test('bigints become decimal strings instead of rounding or throwing', async (t) => {
  t.equal(canonicalize({ ino: 2n ** 64n - 1n }), '{"ino":"18446744073709551615"}');
});

t.test('keys sort by UTF-16 code units, strings keep non-ASCII as is and escape controls', async (t) => {
  t.equal(canonicalize({ 'é': 1, z: 2, A: 3, '\u{1F600}': 4, '\uFB01': 5 }), '{"A":3,"z":2,"é":1,"\u{1F600}":4,"\uFB01":5}');
  t.equal(canonicalize({ s: 'a\u0000b\n"\\' }), '{"s":"a\\u0000b\\n\\"\\\\"}');
});

t.test('undefined members vanish, undefined array items become null, Dates become ISO strings', async (t) => {
  t.equal(canonicalize({ a: undefined, b: [undefined, 1], c: new Date(0) }), '{"b":[null,1],"c":"1970-01-01T00:00:00.000Z"}');
});

t.test('values with no single JSON meaning are refused with AuditRecordError', async (t) => {
  for (const bad of [{ x: NaN }, { x: Infinity }, { x: () => 1 }, { x: Symbol('s') }, { x: new Map() }, { x: new Set([1]) }, { x: new Date(NaN) }]) {
    t.throws(() => normalize(bad), AuditRecordError);
  }
  const cyc: Record<string, unknown> = {};
  cyc.self = cyc;
  t.throws(() => normalize(cyc), AuditRecordError);
  t.notOk(isPlainJson(cyc), 'a cycle is not plain data');
});

t.test('the canonical form agrees with the canonicalize package on plain data', async (t) => {
  const samples = [{ b: [1, 'x', { d: null, c: true }], a: 0.30000000000000004 }, { 'ü': 'ü', u: '\u2028' }, [], {}, 'x', 12];
  for (const s of samples) t.equal(canonicalize(s), jcs(s));
});

t.test('a built record line equals the full canonical encoding of the record and re-parses to the same hash', async (t) => {
  const weird = ['', 'host', ',"host":', '"}', '\\', 'x"y', '\u{1F600}', '\ud800'];
  for (let i = 0; i < 200; i++) {
    const w = weird[i % weird.length]!;
    const { record, line } = buildRecord(
      {
        kind: 'decision', user: w, program: w, paths: [w, `/p/${i}`], zones: [w], reasoning: w, decision: 'deny',
        classification: { tier: 'INTERNAL', tags: [w] },
        details: { host: w, nested: { host: { host: w } }, n: i, big: BigInt(i) * 10n ** 20n, list: [w, { host: 1 }] },
      },
      { chainId: `c${w}`, host: w || 'h', seq: i, prevHash: ZERO_HASH },
    );
    t.equal(line, jcs(record), `line ${i} is the canonical form`);
    const p = parseRecordLine(line);
    t.ok(p.ok && p.computedHash === record.hash, `line ${i} re-hashes to its hash`);
    t.ok(quickVerifyLine(line), `line ${i} passes the verifier's fast path`);
    t.notOk(quickVerifyLine(line.replace('"seq":', '"seq": ')), `a re-spaced line ${i} does not`);
  }
});

t.test('members outside the inline shapes take the general encoder and still give the canonical form', async (t) => {
  const pos = { chainId: 'c', host: 'h', seq: 3, prevHash: ZERO_HASH };
  const odd = [
    { kind: 'decision' as const, classification: { tier: 'INTERNAL', tags: ['PII'], confidence: 0.25 } },
    { kind: 'decision' as const, classification: Object.assign(Object.create(null), { tags: [], tier: 'PUBLIC' }) },
    { kind: 'decision' as const, uid: -0, pid: 0 },
    { kind: 'decision' as const, paths: ['a', , 'b'] as string[] },
    { kind: 'decision' as const, details: { when: new Date(0), ino: 2n ** 64n } },
  ];
  for (const e of odd) {
    let built;
    try {
      built = buildRecord(e, pos);
    } catch (err) {
      t.type(err, AuditRecordError, 'refused loudly');
      continue;
    }
    t.equal(built.line, jcs(normalize(built.record)), `${JSON.stringify(e, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))}`);
    t.ok(quickVerifyLine(built.line));
  }
  t.equal(buildRecord({ kind: 'decision', uid: -0 }, pos).record.uid, 0, 'negative zero is stored as 0');
});

t.test('typed event fields are checked: a caller bug fails loudly instead of writing an unqueryable record', async (t) => {
  const pos = { chainId: 'c', host: 'h', seq: 1, prevHash: ZERO_HASH };
  t.throws(() => buildRecord({ kind: 'decision', paths: 'not-an-array' } as never, pos), AuditRecordError);
  t.throws(() => buildRecord({ kind: 'decision', uid: 1.5 }, pos), AuditRecordError);
  t.throws(() => buildRecord({ kind: 'decision', time: 'yesterday' }, pos), AuditRecordError);
  t.throws(() => buildRecord({ kind: 'nonsense' } as never, pos), AuditRecordError);
  t.equal(buildRecord({ kind: 'decision', time: '2026-01-02T03:04:05+02:00' }, pos).record.time, '2026-01-02T01:04:05.000Z', 'times are stored in one UTC form');
});
