// The native scanner's contract: errors carry a code (never an empty result), the streaming
// scanner finds exactly what a whole-buffer scan finds whatever the chunking (matches across
// chunk and window boundaries included), gaps make later lines unknown, binary mode scans
// printable runs only.
import t from 'tap';
import { compileRules, createStream, scan, scanSync, syncMaxBytes, type RawFinding } from '../../src/classify/native.js';
import { ClassifyError } from '../../src/classify/errors.js';
import { loadBuiltin, toNative } from '../../src/classify/rules.js';

const { rules } = loadBuiltin();
const set = compileRules(rules.map(toNative));
const id = (name: string) => rules.findIndex((r) => r.id === name);
const counts = (f: RawFinding[]) => Object.fromEntries(f.filter((x) => x.count > 0).map((x) => [x.id, x.count]));

function rng(seed: number) {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
}

/** ~3 MiB of filler with a key every ~997 bytes: keys sit across every chunk and window boundary. */
function plantedCorpus(): { buf: Buffer; planted: number } {
  const filler = 'lorem ipsum dolor sit amet, consectetur adipiscing elit 1234 5678\n';
  const secret = '\naws_access_key_id = AKIA4QZ7R2MXL6TJPB3N\n';
  const parts: string[] = [];
  let len = 0;
  let planted = 0;
  let next = 997;
  while (len < 3 * 1024 * 1024) {
    if (len >= next) {
      parts.push(secret);
      len += secret.length;
      planted++;
      next += 997;
    } else {
      const piece = filler.slice(0, Math.min(filler.length, next - len));
      parts.push(piece);
      len += piece.length;
    }
  }
  return { buf: Buffer.from(parts.join('')), planted };
}

t.test('compileRules names the offending rule and why', async (t) => {
  let err: ClassifyError | undefined;
  try {
    compileRules([{ id: 'ok', pattern: 'abc' }, { id: 'broken_rule', pattern: '(unclosed' }]);
  } catch (e) {
    err = e as ClassifyError;
  }
  t.equal(err?.code, 'rule_invalid');
  t.equal(err?.detail.ruleId, 'broken_rule');
  t.match(err?.message, /broken_rule.*missing \)/);
  t.throws(() => compileRules([{ id: 'v', pattern: 'x', validator: 'nope' }]), { code: 'rule_invalid' });
  t.throws(() => compileRules([{ id: 'g', pattern: '(a)', group: 2 }]), { code: 'rule_invalid' });
  t.throws(() => compileRules([{ id: 'bad' } as never]), { code: 'rule_invalid' });
});

t.test('RE2 refuses backtracking constructs instead of running them', async (t) => {
  t.throws(() => compileRules([{ id: 'backref', pattern: '(a+)\\1' }]), { code: 'rule_invalid' });
  t.throws(() => compileRules([{ id: 'lookahead', pattern: 'a(?=b)' }]), { code: 'rule_invalid' });
});

t.test('scanSync refuses buffers above its limit with input_too_large; scan() takes them', async (t) => {
  const big = Buffer.alloc(syncMaxBytes() + 1, 0x61);
  t.throws(() => scanSync(set, big), { code: 'input_too_large' });
  const r = await scan(set, Buffer.concat([big, Buffer.from(' SSN 536-22-8745 ')]));
  t.equal(r.find((f) => f.rule === id('ssn'))?.count, 1);
});

t.test('scan rejects a non-Buffer argument with a TypeError', async (t) => {
  t.throws(() => scanSync(set, 'text' as unknown as Buffer), TypeError);
  t.throws(() => scanSync({} as never, Buffer.from('x')), TypeError);
});

t.test('a streamed scan finds exactly what a whole-buffer scan finds, for any chunking', async (t) => {
  const { buf, planted } = plantedCorpus();
  const whole = await scan(set, buf);
  t.equal(whole.find((f) => f.rule === id('aws_access_key'))?.count, planted, 'whole-buffer scan sees every planted key');
  const rand = rng(7);
  for (const sizes of [[65536], [1], [4093], [1048576], 'random'] as const) {
    const s = createStream(set);
    let off = 0;
    let k = 0;
    // 1-byte chunks would take too long over 3 MiB: only the first 20 KB go byte by byte.
    while (off < buf.length) {
      const n = sizes === 'random' ? 1 + Math.floor(rand() * 200000) : sizes[0] === 1 && off > 20000 ? 65536 : sizes[0]!;
      await s.write(buf.subarray(off, off + n));
      off += n;
      k++;
    }
    const out = await s.finish();
    t.same(counts(out.findings), counts(whole), `chunks of ${String(sizes)} (${k} writes)`);
    t.equal(out.bytesScanned, buf.length);
    const lines = out.findings.find((f) => f.rule === id('aws_access_key'))!.lines;
    const wl = whole.find((f) => f.rule === id('aws_access_key'))!.lines;
    t.same(lines, wl, 'line numbers agree with the whole-buffer scan');
  }
});

t.test('after a skipped gap, no match spans the gap and later lines are unknown (0)', async (t) => {
  const s = createStream(set);
  await s.write(Buffer.from('line one\nSSN 536-22'));
  await s.skip(1000);
  await s.write(Buffer.from('-8745\nSSN 521-44-1234\n'));
  const out = await s.finish();
  const ssn = out.findings.find((f) => f.rule === id('ssn'));
  t.equal(ssn?.count, 1, 'the SSN split by the gap is not reassembled');
  t.same(ssn?.lines, [0]);
});

t.test('stream operations must be awaited one at a time, and nothing follows finish()', async (t) => {
  const s = createStream(set);
  const p = s.write(Buffer.alloc(1 << 20, 0x20));
  await t.rejects(s.write(Buffer.from('x')), { code: 'scanner_busy' });
  await p;
  await s.finish();
  await t.rejects(s.write(Buffer.from('x')), { code: 'stream_finished' });
});

t.test('binary mode scans printable runs and reports no line numbers', async (t) => {
  const b = Buffer.concat([Buffer.from([0, 1, 2, 255, 254]), Buffer.from('aws_access_key_id=AKIA4QZ7R2MXL6TJPB3N'), Buffer.from([0, 0, 7, 0x0a, 0x80])]);
  const f = scanSync(set, b, { binary: true }).find((x) => x.rule === id('aws_access_key'));
  t.equal(f?.count, 1);
  t.same(f?.lines, [0]);
  // A key split by a non-printable byte is two runs, not one key.
  const split = Buffer.concat([Buffer.from('AKIA4QZ7R2'), Buffer.from([0]), Buffer.from('MXL6TJPB3N')]);
  t.equal(scanSync(set, split, { binary: true }).find((x) => x.rule === id('aws_access_key'))?.count ?? 0, 0);
});

t.test('distinct counts values, not occurrences', async (t) => {
  const text = Array(10).fill('maria.gonzalez@acme-corp.com').join('\n') + '\nolivia.chen@northwind.io\n';
  const f = scanSync(set, Buffer.from(text)).find((x) => x.rule === id('email'))!;
  t.equal(f.count, 11);
  t.equal(f.distinct, 2);
  t.same(f.lines, [1, 2, 3, 4, 5], 'only the first five lines are kept');
});

t.test('findings come back whole through the packed N-API result, from scanSync, scan and streams', async (t) => {
  // Several rules with hits, one with rejections only, a saturated one, no lines and five lines:
  // every field of every finding, in rule order, the same from the three entry points.
  const small = compileRules([
    { id: 'kw', pattern: '(?i)\\binternal use only\\b' },
    { id: 'ssn', pattern: '\\b[0-9]{3}-[0-9]{2}-[0-9]{4}\\b', validator: 'ssn' },
    { id: 'never', pattern: 'zzqq[0-9]' },
    { id: 'email', pattern: '[a-z]+@[a-z]+\\.com', validator: 'email' },
  ]);
  const text = ['000-12-3456', 'internal use only', 'x', 'a@acme.com b@acme.com', 'c@acme.com', 'd@acme.com', 'e@acme.com', 'f@acme.com'].join('\n');
  const expected: RawFinding[] = [
    { rule: 0, id: 'kw', count: 1, distinct: 1, rejected: 0, lines: [2], saturated: false },
    { rule: 1, id: 'ssn', count: 0, distinct: 0, rejected: 1, lines: [], saturated: false },
    { rule: 3, id: 'email', count: 3, distinct: 3, rejected: 0, lines: [4, 4, 5], saturated: true },
  ];
  const buf = Buffer.from(text);
  t.same(scanSync(small, buf, { candidateCap: 3 }), expected, 'scanSync');
  t.same(await scan(small, buf, { candidateCap: 3 }), expected, 'scan');
  const st = createStream(small, { candidateCap: 3 });
  await st.write(buf);
  t.same((await st.finish()).findings, expected, 'stream');
  const uncapped = scanSync(small, buf);
  t.same(uncapped[2], { rule: 3, id: 'email', count: 6, distinct: 6, rejected: 0, lines: [4, 4, 5, 6, 7], saturated: false }, 'five lines kept, not saturated');
  t.same(scanSync(small, Buffer.from('nothing here')), [], 'no findings: an empty list');
});
