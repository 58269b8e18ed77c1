// createClassifier's behaviour as the daemon relies on it: cache by (dev, ino, size, mtime)
// with invalidation, the byte budget on huge files, path-rule floors, user rules, the
// escalation hook (only when layer 1 is not decisive, never on the sync path), binary files,
// and reasoning that never echoes what it found.
import t from 'tap';
import { appendFileSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClassifier, DECISIVE, type Classification } from '../../src/classify/index.js';

const dir = mkdtempSync(join(tmpdir(), 'lacuna-classify-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, content: string | Buffer) => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};

t.test('classifyBuffer: validated PII and secrets make a file PROPRIETARY with tags and line numbers', async (t) => {
  const c = createClassifier();
  const r = c.classifyBuffer(Buffer.from('hello\nSSN 536-22-8745\nAPI_KEY=9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c\n'));
  t.equal(r.tier, 'PROPRIETARY');
  t.same(r.tags, ['PII', 'SECRET']);
  t.equal(r.layer, 1);
  t.ok(r.confidence >= DECISIVE);
  t.same(r.findings.find((f) => f.type === 'ssn'), { type: 'ssn', category: 'pii', count: 1, lines: [2] });
  t.same(r.findings.find((f) => f.type === 'generic_secret'), { type: 'generic_secret', category: 'secret', count: 1, lines: [3] });
  t.match(r.reasoning, /US social security number \(line 2\)/);
});

t.test('reasoning and findings never contain the matched values', async (t) => {
  const c = createClassifier();
  const secrets = ['536-22-8745', 'AKIA4QZ7R2MXL6TJPB3N', '4556 7375 8689 9855', 'maria.gonzalez@acme-corp.com', 'Tr0ub4dor&3xK9'];
  const r = c.classifyBuffer(Buffer.from(`ssn ${secrets[0]}\nkey ${secrets[1]}\ncard ${secrets[2]}\nmail ${secrets[3]}\nDB_PASSWORD=${secrets[4]}\n`));
  const out = JSON.stringify(r);
  for (const s of secrets) t.notOk(out.includes(s), `output does not contain ${s.slice(0, 4)}...`);
  t.equal(r.findings.length, 5);
});

t.test('nothing found: PUBLIC with low confidence (so layers 2/3 may lift it)', async (t) => {
  const r = createClassifier().classifyBuffer(Buffer.from('The quick brown fox jumps over the lazy dog.\n'));
  t.equal(r.tier, 'PUBLIC');
  t.ok(r.confidence < DECISIVE);
  t.same(r.findings, []);
});

t.test('keywords: "internal use only" gives INTERNAL, strong markings PROPRIETARY, one weak word nothing', async (t) => {
  const c = createClassifier();
  t.equal(c.classifyBuffer(Buffer.from('Roadmap. For internal use only.')).tier, 'INTERNAL');
  const p = c.classifyBuffer(Buffer.from('STRICTLY CONFIDENTIAL\nboard notes'));
  t.equal(p.tier, 'PROPRIETARY');
  t.same(p.tags, ['CONFIDENTIAL']);
  t.equal(c.classifyBuffer(Buffer.from('the data is confidential')).tier, 'PUBLIC');
});

t.test('weak PII needs three distinct values or corroboration', async (t) => {
  const c = createClassifier();
  const one = c.classifyBuffer(Buffer.from('maintainer: olivia.chen@northwind.io'));
  t.equal(one.tier, 'PUBLIC');
  t.equal(one.findings[0]?.type, 'email', 'the weak finding is still reported');
  const same = c.classifyBuffer(Buffer.from(Array(5).fill('olivia.chen@northwind.io').join('\n')));
  t.equal(same.tier, 'PUBLIC', 'one address repeated is still one person');
  const three = c.classifyBuffer(Buffer.from('a.b@x-corp.com\nc.d@x-corp.com\ne.f@x-corp.com\n'));
  t.equal(three.tier, 'PROPRIETARY');
  t.same(three.tags, ['PII']);
  const labelled = c.classifyBuffer(Buffer.from('Emergency contact: Ana\nMobile: 07700 912345\n'));
  t.equal(labelled.tier, 'PROPRIETARY');
});

t.test('CSV headers naming PII columns count as evidence when there are data rows', async (t) => {
  const c = createClassifier();
  const masked = c.classifyBuffer(Buffer.from('id,ssn,dob\n1,***-**-1234,19**-**-**\n'), { path: '/x/members.csv' });
  t.equal(masked.tier, 'PROPRIETARY');
  t.ok(masked.findings.some((f) => f.category === 'column' && f.type === 'ssn'));
  const empty = c.classifyBuffer(Buffer.from('id,ssn,dob\n'), { path: '/x/template.csv' });
  t.equal(empty.tier, 'PUBLIC', 'a header with no rows is a template');
  const prose = c.classifyBuffer(Buffer.from('Email, phone and name are fields we never store.\nWe, the team, agree.\nOne more, line here, ok.'));
  t.notOk(prose.findings.some((f) => f.category === 'column'), 'prose with commas is not a table');
});

t.test('path rules set a floor by source path (layer 0 when they decide) and add tags', async (t) => {
  const c = createClassifier({ pathRules: [{ glob: '/srv/data/finance/**', minTier: 'INTERNAL', tags: ['finance'] }, { glob: '/srv/data/hr', minTier: 'PROPRIETARY' }] });
  const fin = c.classifyBuffer(Buffer.from('hello'), { path: '/srv/data/finance/q3/report.txt' });
  t.equal(fin.tier, 'INTERNAL');
  t.equal(fin.layer, 0);
  t.same(fin.tags, ['FINANCE']);
  t.match(fin.reasoning, /path rule \/srv\/data\/finance\/\*\* sets at least INTERNAL/);
  t.equal(c.classifyBuffer(Buffer.from('hello'), { path: '/srv/data/hr/a/b.txt' }).tier, 'PROPRIETARY', 'a plain directory glob covers its subtree');
  t.equal(c.classifyBuffer(Buffer.from('hello'), { path: '/srv/data/hrx/b.txt' }).tier, 'PUBLIC');
  const content = c.classifyBuffer(Buffer.from('SSN 536-22-8745'), { path: '/srv/data/finance/x' });
  t.equal(content.tier, 'PROPRIETARY');
  t.equal(content.layer, 1, 'content decided, not the path');
});

t.test('user rules from config compile with the built-ins; a bad one is refused with its id', async (t) => {
  const c = createClassifier({ extraRules: [{ id: 'project_codename', pattern: '(?i)\\bproject heron\\b', category: 'keyword', tier: 'PROPRIETARY', weight: 1 }] });
  t.equal(c.classifyBuffer(Buffer.from('Notes on Project Heron')).tier, 'PROPRIETARY');
  t.throws(() => createClassifier({ extraRules: [{ id: 'bad_one', pattern: '(a+)\\1', category: 'pii' }] }), { code: 'rule_invalid', message: /bad_one/ });
  t.throws(() => createClassifier({ extraRules: [{ id: 'email', pattern: 'x', category: 'pii' }] }), { code: 'rule_invalid', message: /already used/ });
  t.throws(() => createClassifier({ extraRules: [{ id: 'x', pattern: 'x', category: 'pii', validator: 'magic' }] }), { code: 'rule_invalid' });
});

t.test('classifyFile caches by (dev, ino, size, mtime): repeated opens hit, writes and invalidate miss', async (t) => {
  const c = createClassifier();
  const p = file('cache.txt', 'SSN 536-22-8745\n');
  const a = await c.classifyFile(p);
  const b = await c.classifyFile(p);
  t.equal(a.tier, 'PROPRIETARY');
  t.same(b, a);
  t.same(c.stats(), { cacheSize: 1, hits: 1, misses: 1, inflight: 0, rules: c.rules().length });
  writeFileSync(p, 'nothing here\n');
  utimesSync(p, new Date(), new Date(Date.now() + 5000));
  t.equal((await c.classifyFile(p)).tier, 'PUBLIC', 'a changed file is rescanned');
  const st = statSync(p);
  c.invalidate(st.dev, st.ino);
  await c.classifyFile(p);
  t.equal(c.stats().misses, 3, 'invalidate forces a rescan');
  t.equal(c.stats().hits, 1);
});

t.test('concurrent classifyFile calls for one file share one scan', async (t) => {
  let calls = 0;
  const c = createClassifier({ escalate: async (l1) => { calls++; return l1; } });
  const p = file('concurrent.txt', 'plain text\n');
  const rs = await Promise.all([c.classifyFile(p), c.classifyFile(p), c.classifyFile(p)]);
  t.equal(calls, 1);
  t.same(rs[1], rs[0]);
});

t.test('huge files: the byte budget scans head and tail only and says so', async (t) => {
  const c = createClassifier({ maxScanBytes: 256 * 1024 });
  const filler = Buffer.alloc(1024 * 1024, 'lorem ipsum dolor sit amet\n');
  const middle = file('middle.txt', Buffer.concat([filler, Buffer.from('\nSSN 536-22-8745\n'), filler]));
  const rm = await c.classifyFile(middle);
  t.equal(rm.tier, 'PUBLIC', 'the unscanned middle is not seen');
  t.equal(rm.partial, true);
  t.match(rm.reasoning, /scanned 256\.0 KiB of 2\.0 MiB/i);
  t.ok(rm.confidence < 0.5, 'a partial PUBLIC result is less confident');
  const tail = file('tail.txt', Buffer.concat([filler, Buffer.from('\nSSN 536-22-8745\n')]));
  const rt = await c.classifyFile(tail);
  t.equal(rt.tier, 'PROPRIETARY');
  t.match(rt.reasoning, /in the tail of the file/);
  const small = createClassifier({ maxScanBytes: 0 });
  t.equal((await small.classifyFile(middle)).tier, 'PROPRIETARY', 'maxScanBytes 0 scans everything');
});

t.test('escalation runs only when layer 1 is not decisive, can lift the tier, and never lowers it', async (t) => {
  const seen: Classification[] = [];
  const lift = createClassifier({
    escalate: async (l1, text) => {
      seen.push(l1);
      t.ok(Buffer.isBuffer(text) && text.length > 0, 'the hook receives the content');
      return { tier: 'INTERNAL', tags: ['OKR'], confidence: 0.9, layer: 2, reasoning: 'similar to internal planning documents', findings: [] };
    },
  });
  const okrs = await lift.classifyFile(file('okrs.md', 'Q3 OKRs: cut latency, hire two engineers\n'));
  t.equal(okrs.tier, 'INTERNAL');
  t.equal(okrs.layer, 2);
  t.match(okrs.reasoning, /Layer 1:/);
  await lift.classifyFile(file('ssn.txt', 'SSN 536-22-8745\n'));
  t.equal(seen.length, 1, 'a decisive layer-1 result is not escalated');
  t.equal(lift.classifyBuffer(Buffer.from('plain')).layer, 1, 'classifyBuffer never escalates');
  t.equal(seen.length, 1);

  const lower = createClassifier({
    pathRules: [{ glob: `${dir}/floored-*`, minTier: 'INTERNAL' }],
    escalate: async () => ({ tier: 'PUBLIC', tags: [], confidence: 0.99, layer: 3, reasoning: 'looks public', findings: [] }),
  });
  t.equal((await lower.classifyFile(file('floored-a.txt', 'plain\n'))).tier, 'INTERNAL', 'escalation cannot go below a path-rule floor');
  t.equal((await lower.classifyFile(file('other.txt', 'plain\n'))).layer, 3, 'elsewhere the escalated answer stands');
  const failing = createClassifier({ escalate: async () => { throw new Error('model offline'); } });
  const f = await failing.classifyFile(file('plain.txt', 'plain\n'));
  t.equal(f.tier, 'PUBLIC');
  t.match(f.reasoning, /Escalation failed \(model offline\)/);
});

t.test('binary files are recognised and scanned as printable runs', async (t) => {
  const c = createClassifier();
  const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(5000, 0)]);
  const r = await c.classifyFile(file('x.png', png));
  t.equal(r.tier, 'PUBLIC');
  t.equal(r.partial, true);
  t.match(r.reasoning, /binary content \(PNG image\)/i);
  const blob = Buffer.concat([Buffer.alloc(100, 0), Buffer.from('aws_access_key_id=AKIA4QZ7R2MXL6TJPB3N'), Buffer.alloc(100, 0)]);
  const s = await c.classifyFile(file('blob.bin', blob));
  t.equal(s.tier, 'PROPRIETARY');
  t.notOk(s.findings[0]?.lines, 'no line numbers for binary content');
});

t.test('classifyFile refuses what is not a regular file and propagates I/O errors', async (t) => {
  const c = createClassifier();
  await t.rejects(c.classifyFile(dir), { code: 'not_regular_file' });
  await t.rejects(c.classifyFile(join(dir, 'missing')), { code: 'ENOENT' });
});

t.test('a file that grows between stat and read is scanned to its end once', async (t) => {
  const c = createClassifier();
  const p = file('grow.txt', 'hello\n');
  const st = statSync(p, { bigint: true });
  appendFileSync(p, 'SSN 536-22-8745\n');
  t.equal((await c.classifyFile(p, { stat: st })).tier, 'PROPRIETARY');
});

t.test('a scanner failure fails closed: PROPRIETARY, UNCLASSIFIED, the code in the reasoning', async (t) => {
  const { failClosed, ClassifyError } = await import('../../src/classify/index.js');
  const r = failClosed(new ClassifyError('scanner_out_of_memory', 'scan failed: scanner_out_of_memory'));
  t.equal(r.tier, 'PROPRIETARY');
  t.same(r.tags, ['UNCLASSIFIED']);
  t.equal(r.confidence, 0);
  t.match(r.reasoning, /scanner_out_of_memory/);
});

t.test('on dense content a rule stops being located after CANDIDATE_CAP candidates per window; exactCounts counts all', async (t) => {
  const { CANDIDATE_CAP } = await import('../../src/classify/index.js');
  const lines = Array.from({ length: 500 }, (_, i) => `client 81.2.${Math.floor(i / 200)}.${(i % 200) + 1} GET /`).join('\n');
  const fast = createClassifier().classifyBuffer(Buffer.from(lines));
  const ip = fast.findings.find((f) => f.type === 'ip_address')!;
  t.ok(ip.count >= CANDIDATE_CAP && ip.count < 500, `count ${ip.count} is a lower bound`);
  t.match(fast.reasoning, /at least \d+ public IP addresses/);
  t.equal(fast.tier, 'PROPRIETARY', 'the decision does not need every match');
  const exact = createClassifier({ exactCounts: true }).classifyBuffer(Buffer.from(lines));
  t.equal(exact.findings.find((f) => f.type === 'ip_address')!.count, 500);
  t.notMatch(exact.reasoning, /at least/);
});
