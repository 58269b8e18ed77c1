import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClassifier } from '../../src/classify/index.js';
import { createEscalation, type EscalationConfig } from '../../src/classify/escalate.js';
import { createEmbeddingLayer } from '../../src/classify/embed/index.js';
import type { Classification } from '../../src/classify/types.js';
import { startOpenAiStub, verdict, type OpenAiStub } from '../fixtures/embed/openai-stub.js';

const dir = mkdtempSync(join(tmpdir(), 'lacuna-l3-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const shared = createEmbeddingLayer();
t.teardown(() => shared.close());
let stub: OpenAiStub;
t.before(async () => {
  await shared.ready();
  stub = await startOpenAiStub(() => verdict('PROPRIETARY', 'board-level acquisition plan', ['M_AND_A']));
});
t.teardown(() => stub.close());

const DOC = `Notes for the partners
We would like to keep discussing the numbers with the group next week. The figures look fine.
`;
const l1: Classification = { tier: 'PUBLIC', tags: [], confidence: 0.5, layer: 1, reasoning: 'nothing found', findings: [] };

function esc(extra: Partial<EscalationConfig> = {}) {
  return createEscalation({
    layers: { embeddings: shared },
    embeddings: { escalateBelowConfidence: 1.01 },
    llm: { enabled: true, baseUrl: stub.baseUrl, model: 'stub-model', timeoutMs: 3000, retries: 0, backoffMs: 5 },
    env: {},
    // Timing of layer 2 is not under test here; a loaded machine must not flake.
    escalation: { latencyBudgetMs: 10_000 },
    ...extra,
  });
}

t.test('what layer 2 leaves uncertain goes to layer 3, whose verdict decides with layer 3 named in the result', async (t) => {
  stub.requests.length = 0;
  const e = esc();
  t.teardown(() => e.close());
  const c = await e.escalate(l1, Buffer.from(DOC), { path: '/data/notes.txt' });
  t.equal(c?.tier, 'PROPRIETARY');
  t.equal(c?.layer, 3);
  t.same(c?.tags, ['M_AND_A']);
  t.match(c?.reasoning, /^LLM \(stub-model\): board-level acquisition plan \[embeddings had (PUBLIC|INTERNAL|PROPRIETARY) p=/);
  t.equal(stub.requests.length, 1);
});

t.test('a confident layer 2 is not second-guessed: the LLM is not asked', async (t) => {
  stub.requests.length = 0;
  const e = esc({ embeddings: { escalateBelowConfidence: 0 } });
  t.teardown(() => e.close());
  const c = await e.escalate(l1, Buffer.from(DOC), {});
  t.equal(c?.layer, 2);
  t.equal(stub.requests.length, 0);
});

t.test('a slow endpoint falls back to the layer-2 result, marked as a fallback, and is asked again later', async (t) => {
  stub.requests.length = 0;
  stub.set(() => ({ ...verdict('PUBLIC'), delayMs: 1500 }));
  const e = esc({ llm: { enabled: true, baseUrl: stub.baseUrl, model: 'stub-model', timeoutMs: 200, retries: 0 } });
  t.teardown(() => e.close());
  const c = await e.escalate(l1, Buffer.from(DOC + 'slow\n'), {});
  t.equal(c?.layer, 2);
  t.match(c?.reasoning, /^\[layer-3 fallback: timeout\] embeddings \(lacuna-embed@1\)/);
  t.same(e.stats().l3.fallbacks, { timeout: 1 });
  // Fallbacks are not cached: once the endpoint answers, the file gets its layer-3 verdict.
  stub.set(() => verdict('INTERNAL', 'partner notes'));
  const again = await e.escalate(l1, Buffer.from(DOC + 'slow\n'), {});
  t.equal(again?.layer, 3);
  t.equal(again?.tier, 'INTERNAL');
  stub.set(() => verdict('PROPRIETARY', 'board-level acquisition plan', ['M_AND_A']));
});

t.test('a malformed answer falls back too', async (t) => {
  stub.set(() => ({ content: 'it is probably fine' }));
  const e = esc();
  t.teardown(() => e.close());
  const c = await e.escalate(l1, Buffer.from(DOC + 'malformed\n'), {});
  t.equal(c?.layer, 2);
  t.match(c?.reasoning, /layer-3 fallback: malformed/);
  stub.set(() => verdict('PROPRIETARY', 'board-level acquisition plan', ['M_AND_A']));
});

t.test('layer-3 answers are cached by content in LMDB: the endpoint is asked once per content', async (t) => {
  stub.requests.length = 0;
  const cacheDir = join(dir, 'cache');
  const a = esc({ cacheDir });
  await a.escalate(l1, Buffer.from(DOC + 'cached\n'), {});
  await a.close();
  const b = esc({ cacheDir });
  t.teardown(() => b.close());
  const c = await b.escalate(l1, Buffer.from(DOC + 'cached\n'), {});
  t.equal(c?.layer, 3);
  t.equal(stub.requests.length, 1);
  t.equal(b.stats().l3.cacheHits, 1);
});

t.test('through createClassifier, the layer-3 verdict is the file\'s classification, with layer 1\'s reasoning kept', async (t) => {
  const e = esc();
  t.teardown(() => e.close());
  const classifier = createClassifier({ escalate: e.escalate });
  const f = join(dir, 'partners.txt');
  writeFileSync(f, DOC + 'through the classifier\n');
  t.equal(classifier.classifyBuffer(Buffer.from(DOC)).tier, 'PUBLIC', 'layer 1 alone');
  const c = await classifier.classifyFile(f);
  t.equal(c.tier, 'PROPRIETARY');
  t.equal(c.layer, 3);
  t.ok(c.tags.includes('M_AND_A'));
  t.match(c.reasoning, /LLM \(stub-model\).*\(Layer 1: /);
});
