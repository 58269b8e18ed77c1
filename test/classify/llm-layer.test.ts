import t from 'tap';
import { createLlmLayer, resolveLlmOptions, type LlmOutcome } from '../../src/classify/llm/index.js';
import type { Classification } from '../../src/classify/types.js';
import { startOpenAiStub, verdict, type OpenAiStub } from '../fixtures/embed/openai-stub.js';

const l1: Classification = {
  tier: 'PUBLIC',
  tags: [],
  confidence: 0.4,
  layer: 1,
  reasoning: 'weak personal-data signal only',
  findings: [{ type: 'email', category: 'pii', count: 1, lines: [2] }],
};
const DOC = 'Q3 revenue summary (draft)\nOwner: maria.garcia@northwind.example\nBookings 4.1M, 12% ahead of plan. Ref 123456789.\n';

let stub: OpenAiStub;
t.before(async () => {
  stub = await startOpenAiStub(() => verdict('INTERNAL', 'an internal revenue summary', ['financial']));
});
t.teardown(() => stub.close());
t.beforeEach(() => {
  stub.requests.length = 0;
});

const env = { LACUNA_TEST_KEY: 'sk-test-123' };
const make = (o: Parameters<typeof createLlmLayer>[0] = {}) =>
  createLlmLayer({ enabled: true, baseUrl: stub.baseUrl, model: 'stub-model', apiKeyEnv: 'LACUNA_TEST_KEY', timeoutMs: 300, backoffMs: 10, ...o }, env);
const ok = (o: LlmOutcome) => (o.ok ? o : undefined);

t.test('a verdict comes back validated, and the request is a chat completion with masked, bounded content', async (t) => {
  const llm = make();
  const out = await llm.classify({ content: DOC, l1, l2Summary: 'embeddings: INTERNAL p=0.55', path: '/srv/data/finance/q3-summary.md' });
  t.same(ok(out)?.answer, { tier: 'INTERNAL', tags: ['FINANCIAL'], reasoning: 'an internal revenue summary', confidence: 0.9 });
  t.equal(ok(out)?.attempts, 1);
  t.equal(stub.requests.length, 1);
  const req = stub.requests[0]!;
  t.equal(req.url, '/v1/chat/completions');
  t.equal(req.headers.authorization, 'Bearer sk-test-123', 'key from the environment variable named in config');
  t.equal(req.body.model, 'stub-model');
  t.same(req.body.response_format, { type: 'json_object' });
  t.equal(req.body.temperature, 0);
  const [system, user] = req.body.messages!;
  t.equal(system!.role, 'system');
  t.match(system!.content, /PUBLIC|INTERNAL|PROPRIETARY/);
  t.match(user!.content, /File name: q3-summary\.md/, 'base name only');
  t.notOk(user!.content.includes('/srv/data'), 'never the directory');
  t.notOk(user!.content.includes('maria.garcia'), 'line with an L1 finding is withheld');
  t.notOk(user!.content.includes('123456789'), 'digit runs are masked');
  t.match(user!.content, /\[line withheld: email\]/);
  t.match(user!.content, /Layer-1 scanner findings: email \(pii\) ×1/);
  t.match(user!.content, /Embedding layer \(uncertain\): embeddings: INTERNAL p=0.55/);
});

t.test('transient server errors are retried with backoff and then succeed', async (t) => {
  stub.set((_r, n) => (n <= 2 ? { status: n === 1 ? 503 : 429, content: 'busy', headers: { 'retry-after': '0' } } : verdict('PUBLIC')));
  t.teardown(() => stub.set(() => verdict('INTERNAL', 'x')));
  const out = await make().classify({ content: DOC, l1 });
  t.equal(ok(out)?.answer.tier, 'PUBLIC');
  t.equal(ok(out)?.attempts, 3);
  t.equal(stub.requests.length, 3);
});

t.test('an authentication error is not retried', async (t) => {
  stub.set(() => ({ status: 401, raw: '{"error":{"message":"bad key"}}' }));
  t.teardown(() => stub.set(() => verdict('INTERNAL', 'x')));
  const out = await make().classify({ content: DOC, l1 });
  t.equal(out.ok, false);
  t.match(out, { reason: 'http_fatal', attempts: 1 });
  t.equal(stub.requests.length, 1);
});

t.test('a slow endpoint times out within the deadline instead of holding the file', async (t) => {
  stub.set(() => ({ ...verdict('PUBLIC'), delayMs: 2000 }));
  t.teardown(() => stub.set(() => verdict('INTERNAL', 'x')));
  const t0 = Date.now();
  const out = await make({ timeoutMs: 150, retries: 1, deadlineMs: 400 }).classify({ content: DOC, l1 });
  const took = Date.now() - t0;
  t.equal(out.ok, false);
  t.match(out, { reason: 'timeout' });
  t.ok(took < 1500, `gave up after ${took} ms (deadline 400 ms, endpoint would take 2000 ms)`);
});

t.test('malformed responses (bad JSON, wrong schema, empty choices) are retried and then reported as malformed', async (t) => {
  const bodies = ['{not json', JSON.stringify({ choices: [] }), JSON.stringify({ choices: [{ message: { content: '{"tier":"TOP SECRET","reasoning":"x"}' } }] })];
  for (const raw of bodies) {
    stub.requests.length = 0;
    stub.set(() => ({ raw }));
    const out = await make({ retries: 1 }).classify({ content: DOC, l1 });
    t.match(out, { ok: false, reason: 'malformed', attempts: 2 }, raw);
    t.equal(stub.requests.length, 2);
  }
  stub.set(() => verdict('INTERNAL', 'x'));
});

t.test('a dropped connection is a network failure', async (t) => {
  stub.set(() => ({ hangUp: true }));
  t.teardown(() => stub.set(() => verdict('INTERNAL', 'x')));
  const out = await make({ retries: 0 }).classify({ content: DOC, l1 });
  t.match(out, { ok: false, reason: 'network' });
});

t.test('after repeated failures the circuit opens: calls fall back at once without touching the endpoint', async (t) => {
  stub.set(() => ({ status: 500, raw: 'boom' }));
  const llm = make({ retries: 0, breaker: { failureThreshold: 2, cooldownMs: 150 } });
  await llm.classify({ content: DOC, l1 });
  await llm.classify({ content: DOC, l1 });
  t.equal(llm.stats().breaker, 'open');
  const before = stub.requests.length;
  const out = await llm.classify({ content: DOC, l1 });
  t.match(out, { ok: false, reason: 'circuit_open', attempts: 0 });
  t.equal(stub.requests.length, before, 'no request while open');
  stub.set(() => verdict('PROPRIETARY', 'recovered'));
  await new Promise((r) => setTimeout(r, 170));
  const trial = await llm.classify({ content: DOC, l1 });
  t.equal(ok(trial)?.answer.tier, 'PROPRIETARY', 'half-open trial goes through');
  t.equal(llm.stats().breaker, 'closed');
  stub.set(() => verdict('INTERNAL', 'x'));
});

t.test('concurrency is capped and overflow falls back as overloaded', async (t) => {
  stub.set(() => ({ ...verdict('INTERNAL', 'x'), delayMs: 100 }));
  t.teardown(() => stub.set(() => verdict('INTERNAL', 'x')));
  const llm = make({ maxConcurrent: 1, maxQueue: 1 });
  const outs = await Promise.all([1, 2, 3].map(() => llm.classify({ content: DOC, l1 })));
  t.same(outs.map((o) => (o.ok ? 'ok' : o.reason)).sort(), ['ok', 'ok', 'overloaded']);
  t.equal(stub.requests.length, 2);
});

t.test('base URL, model and key come from the environment when config omits them; enabling without them is an error', async (t) => {
  const r = resolveLlmOptions({ enabled: true }, { LACUNA_LLM_BASE_URL: 'http://127.0.0.1:1/v1', LACUNA_LLM_MODEL: 'm', LACUNA_LLM_API_KEY: 'k' });
  t.match(r.endpoint, { baseUrl: 'http://127.0.0.1:1/v1', model: 'm', apiKey: 'k' });
  t.throws(() => resolveLlmOptions({ enabled: true }, {}), { code: 'llm_config' });
  t.throws(() => resolveLlmOptions({ enabled: true, baseUrl: 'not a url', model: 'm' }, {}), { code: 'llm_config' });
  t.equal(resolveLlmOptions({}, { LACUNA_LLM_BASE_URL: 'http://x' }).enabled, false, 'off by default even when the environment is set');
  const off = createLlmLayer({}, {});
  t.equal(off.enabled, false);
  t.match(await off.classify({ content: DOC, l1 }), { ok: false, reason: 'disabled' });
});
