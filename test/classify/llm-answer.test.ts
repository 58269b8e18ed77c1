import t from 'tap';
import { parseAnswer, prepareForLlm, maskIdentifiers, CircuitBreaker } from '../../src/classify/llm/index.js';

t.test('a well-formed verdict is accepted and normalised', async (t) => {
  const a = parseAnswer(JSON.stringify({ tier: 'internal', tags: ['Financial data', 'DRAFT', 7, '!!'], reasoning: 'A revenue\nsummary.', confidence: 0.8 }));
  t.same(a, { tier: 'INTERNAL', tags: ['FINANCIAL_DATA', 'DRAFT'], reasoning: 'A revenue summary.', confidence: 0.8 });
  t.equal(parseAnswer('```json\n{"tier":"PUBLIC","reasoning":"press release"}\n```').tier, 'PUBLIC', 'code fences are stripped');
  t.equal(parseAnswer('Sure! {"tier":"PROPRIETARY","reasoning":"salary data","tags":[]}').tier, 'PROPRIETARY');
  t.equal(parseAnswer('{"tier":"PUBLIC","reasoning":"x"}').confidence, 0.7, 'missing confidence defaults to 0.7');
});

t.test('anything else is a malformed answer, never a guess', async (t) => {
  for (const bad of [
    '',
    'I think it is internal',
    '{"tier":"SECRET","reasoning":"x"}',
    '{"tier":"PUBLIC"}',
    '{"tier":"PUBLIC","reasoning":"x","confidence":7}',
    '{"tier":"PUBLIC","reasoning":"x","tags":"PII"}',
    '[1,2]',
    undefined,
  ]) {
    t.throws(() => parseAnswer(bad), { code: 'llm_malformed' }, JSON.stringify(bad));
  }
});

t.test('identifiers are masked before anything leaves the machine', async (t) => {
  const text = [
    'Contact jane.doe@example.com or +1 415-555-0199.',
    'SSN 123-45-6789, card 4111 1111 1111 1111, meeting on 2026-03-04 at 10:00, 12% growth, $4.5M.',
    'AWS_ACCESS_KEY_ID=AKIAABCDEFGHIJKLMNOP',
    'password: hunter2',
    'postgres://svc:s3cr3tpw@db01.prod.example:5432/app',
    'token ghp_abcdefghijklmnopqrstuvwxyz0123',
    'host 10.1.2.3',
    '-----BEGIN RSA PRIVATE KEY-----\nMIIEabc\n-----END RSA PRIVATE KEY-----',
  ].join('\n');
  const masked: Record<string, number> = {};
  const out = maskIdentifiers(text, masked);
  for (const secret of ['jane.doe', '555-0199', '123-45-6789', '4111', 'AKIAABCD', 'hunter2', 's3cr3tpw', 'ghp_', '10.1.2.3', 'MIIEabc']) {
    t.notOk(out.includes(secret), `${secret} is masked`);
  }
  t.match(out, /2026-03-04/, 'ISO dates stay: they carry meaning, not identity');
  t.match(out, /12% growth, \$4\.5M/, 'small numbers and amounts stay');
  t.ok(masked.EMAIL && masked.NUMBER && masked.KEY && masked.SECRET && masked.CREDENTIALS && masked.PRIVATE_KEY && masked.IP);
});

t.test('lines where layer 1 found PII or secrets are withheld whole, and content is bounded', async (t) => {
  const text = 'title\nname Ana Lima, born 1980\nnothing here\nkey line\n' + 'filler '.repeat(1000);
  const r = prepareForLlm(text, [
    { type: 'person_name', category: 'pii', count: 1, lines: [2] },
    { type: 'generic_secret', category: 'secret', count: 1, lines: [4] },
    { type: 'confidential', category: 'keyword', count: 1, lines: [1] },
  ], 200);
  const lines = r.text.split('\n');
  t.equal(lines[0], 'title', 'keyword findings do not withhold a line');
  t.equal(lines[1], '[line withheld: person_name]');
  t.equal(lines[3], '[line withheld: generic_secret]');
  t.notOk(r.text.includes('Ana Lima'));
  t.equal(r.withheldLines, 2);
  t.equal(r.truncated, true);
  t.ok(Buffer.byteLength(r.text) <= 200);
});

t.test('the circuit breaker opens after consecutive failures, half-opens after the cooldown, closes on success', async (t) => {
  let now = 1000;
  const b = new CircuitBreaker({ failureThreshold: 2, cooldownMs: 100, now: () => now });
  t.ok(b.allow());
  b.failure();
  t.equal(b.state, 'closed');
  b.failure();
  t.equal(b.state, 'open');
  t.notOk(b.allow());
  now += 100;
  t.equal(b.state, 'half-open');
  t.ok(b.allow(), 'one trial call');
  t.notOk(b.allow(), 'only one at a time');
  b.failure();
  t.equal(b.state, 'open', 'a failed trial re-opens');
  now += 100;
  t.ok(b.allow());
  b.success();
  t.equal(b.state, 'closed');
  t.ok(b.allow());
});

t.test('a cut through an identifier drops the partial identifier instead of sending half of it', async (t) => {
  const text = 'see ' + 'word '.repeat(10) + 'jane.doe@example.com tail';
  const cut = text.indexOf('@') + 3;
  const r = prepareForLlm(text, [], cut);
  t.notOk(r.text.includes('jane'), r.text);
  const digits = 'account ' + '4111111111111111';
  t.notOk(prepareForLlm(digits, [], 13).text.includes('41111'));
});
