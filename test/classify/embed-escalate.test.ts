import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClassifier } from '../../src/classify/index.js';
import { createEscalation } from '../../src/classify/escalate.js';
import { createEmbeddingLayer, type EmbeddingLayer } from '../../src/classify/embed/index.js';
import type { Classification } from '../../src/classify/types.js';

const dir = mkdtempSync(join(tmpdir(), 'lacuna-escalate-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const shared = createEmbeddingLayer();
t.teardown(() => shared.close());
t.before(() => shared.ready());

const RUNBOOK = `Runbook: payout-worker queue backlog

1. Check the payout-worker dashboard in Grafana for the p99 latency panel.
2. SSH to the bastion and run kubectl get pods -n payments.
If replication lag exceeds 30 seconds, page the database on-call.
Drain traffic from the affected zone before restarting the primary.
Do not restart more than one node at a time.
`;

// Timing is not under test except where a budget is set: a loaded CI machine must not flake.
const RELAXED = { latencyBudgetMs: 10_000 };

const l1Public = (over: Partial<Classification> = {}): Classification => ({
  tier: 'PUBLIC',
  tags: [],
  confidence: 0.5,
  layer: 1,
  reasoning: 'no personal data, secrets or confidentiality markings found',
  findings: [],
  ...over,
});

/** Counts classify() calls and can be told to fail, around the real shipped layer. */
function spy(inner: EmbeddingLayer, fail = false): EmbeddingLayer & { calls: number } {
  const s = {
    calls: 0,
    info: inner.info,
    ready: () => inner.ready(),
    embed: (c: string | Buffer) => inner.embed(c),
    async classify(c: string | Buffer) {
      s.calls++;
      if (fail) throw new Error('must not be called');
      return inner.classify(c);
    },
    close: async () => undefined,
  };
  return s;
}

t.test('an internal runbook that layer 1 calls PUBLIC is lifted to INTERNAL by layer 2 through createClassifier', async (t) => {
  const esc = createEscalation({ cacheDir: join(dir, 'c1'), layers: { embeddings: shared }, escalation: RELAXED });
  t.teardown(() => esc.close());
  const classifier = createClassifier({ escalate: esc.escalate });
  const f = join(dir, 'runbook.md');
  writeFileSync(f, RUNBOOK);
  const l1 = classifier.classifyBuffer(Buffer.from(RUNBOOK));
  t.equal(l1.tier, 'PUBLIC', 'layer 1 alone sees nothing');
  const c = await classifier.classifyFile(f);
  t.equal(c.tier, 'INTERNAL');
  t.equal(c.layer, 2);
  t.match(c.reasoning, /embeddings \(lacuna-embed@1\): INTERNAL p=/);
});

t.test('decisive, PROPRIETARY, binary and near-empty layer-1 results are not escalated', async (t) => {
  const emb = spy(shared, true);
  const esc = createEscalation({ layers: { embeddings: emb }, escalation: RELAXED });
  t.teardown(() => esc.close());
  t.equal(await esc.escalate(l1Public({ confidence: 0.9 }), Buffer.from(RUNBOOK), {}), undefined);
  t.equal(await esc.escalate(l1Public({ tier: 'PROPRIETARY', confidence: 0.5 }), Buffer.from(RUNBOOK), {}), undefined);
  t.equal(await esc.escalate(l1Public(), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 1, 2, ...Buffer.from(RUNBOOK)]), {}), undefined);
  t.equal(await esc.escalate(l1Public(), Buffer.from('  ok \n'), {}), undefined);
  t.equal(emb.calls, 0);
  t.same(esc.stats().skipped, { l1_confident: 1, l1_tier: 1, binary: 1, too_short: 1 });
});

t.test('the policy decides which layer-1 tiers go to layer 2', async (t) => {
  const emb = spy(shared);
  const esc = createEscalation({ layers: { embeddings: emb }, escalation: { ...RELAXED, l1Tiers: ['PUBLIC'] } });
  t.teardown(() => esc.close());
  t.equal(await esc.escalate(l1Public({ tier: 'INTERNAL', confidence: 0.6 }), Buffer.from(RUNBOOK), {}), undefined);
  t.ok(await esc.escalate(l1Public(), Buffer.from(RUNBOOK), {}));
  t.equal(emb.calls, 1);
});

t.test('an answer later than the latency budget is not waited for, but lands in the cache for next time', async (t) => {
  // A model slower than the budget, deterministically.
  let slowCalls = 0;
  const slow: EmbeddingLayer = {
    ...spy(shared),
    classify: async (c) => {
      slowCalls++;
      await new Promise((r) => setTimeout(r, 1500));
      return shared.classify(c);
    },
  };
  const esc = createEscalation({ layers: { embeddings: slow }, escalation: { latencyBudgetMs: 20 } });
  t.teardown(() => esc.close());
  const text = Buffer.from(RUNBOOK + '\nUnique line for the budget test.\n');
  const t0 = Date.now();
  t.equal(await esc.escalate(l1Public(), text, {}), undefined, 'layer 1 stands');
  // The model takes 1.5 s; answering well before that (budget 20 ms, slack for a loaded host)
  // shows the escalation did not wait for it.
  t.ok(Date.now() - t0 < 1000, 'did not wait for the model');
  t.equal(esc.stats().l2.overBudget, 1);
  // Let the run finish in the worker and reach the cache.
  let c: Classification | undefined;
  for (let i = 0; i < 100 && !c; i++) {
    await new Promise((r) => setTimeout(r, 50));
    c = await esc.escalate(l1Public(), text, {});
  }
  t.equal(c?.layer, 2);
  t.equal(esc.stats().l2.runs, 1, 'the late answer is reused, not recomputed');
  t.equal(slowCalls, 1);
});

t.test('results are cached by content hash in LMDB and survive a restart', async (t) => {
  const cacheDir = join(dir, 'c2');
  const first = createEscalation({ cacheDir, layers: { embeddings: spy(shared) }, escalation: RELAXED });
  const a = await first.escalate(l1Public(), Buffer.from(RUNBOOK), { path: '/x/a.md' });
  await first.close();
  const emb = spy(shared, true);
  const second = createEscalation({ cacheDir, layers: { embeddings: emb }, escalation: RELAXED });
  t.teardown(() => second.close());
  // Same bytes under another name: classified once, by content.
  const b = await second.escalate(l1Public(), Buffer.from(RUNBOOK), { path: '/y/b.md' });
  t.equal(emb.calls, 0, 'the model was not run again');
  t.same(b, a);
  t.equal(second.stats().l2.cacheHits, 1);
});

t.test('concurrent escalations of the same content run layer 2 once', async (t) => {
  const emb = spy(shared);
  const esc = createEscalation({ layers: { embeddings: emb }, escalation: RELAXED });
  t.teardown(() => esc.close());
  const text = Buffer.from(RUNBOOK + '\nconcurrency\n');
  const out = await Promise.all([1, 2, 3, 4].map(() => esc.escalate(l1Public(), text, {})));
  t.equal(emb.calls, 1);
  t.ok(out.every((o) => o?.tier === out[0]?.tier));
});

t.test('a failing model leaves the layer-1 result in place and is counted', async (t) => {
  const broken: EmbeddingLayer = { ...spy(shared), classify: async () => Promise.reject(new Error('worker died')) };
  const esc = createEscalation({ layers: { embeddings: broken }, escalation: RELAXED });
  t.teardown(() => esc.close());
  t.equal(await esc.escalate(l1Public(), Buffer.from(RUNBOOK), {}), undefined);
  t.equal(esc.stats().l2.errors, 1);
});

t.test('the state directory holds the cache under classify-cache', async (t) => {
  const stateDir = join(dir, 'state');
  const esc = createEscalation({ stateDir, layers: { embeddings: shared }, escalation: RELAXED });
  await esc.escalate(l1Public(), Buffer.from(RUNBOOK), {});
  await esc.close();
  const { existsSync } = await import('node:fs');
  t.ok(existsSync(join(stateDir, 'classify-cache')));
});

t.test('the LMDB cache is bounded: reopening prunes the oldest entries', async (t) => {
  const { openResultCache } = await import('../../src/classify/embed/result-cache.js');
  const cdir = join(dir, 'bounded');
  const a = openResultCache(cdir, 10);
  for (let i = 0; i < 15; i++) {
    await a.put(`k${i}`, { i });
    await new Promise((r) => setTimeout(r, 2));
  }
  t.same(a.get('k0'), { i: 0 });
  await a.close();
  const b = openResultCache(cdir, 10);
  await b.close();
  const c = openResultCache(cdir, 1000);
  t.teardown(() => c.close());
  t.equal(c.get('k0'), undefined, 'oldest gone');
  t.equal(c.get('k5'), undefined);
  t.same(c.get('k6'), { i: 6 }, 'newest 90 % kept');
  t.same(c.get('k14'), { i: 14 });
});

t.test('a layer-2 verdict below minConfidence is not used: layer 1 stands', async (t) => {
  const esc = createEscalation({ layers: { embeddings: shared }, escalation: RELAXED, embeddings: { minConfidence: 1.01 } });
  t.teardown(() => esc.close());
  t.equal(await esc.escalate(l1Public(), Buffer.from(RUNBOOK), {}), undefined);
  t.same(esc.stats().skipped, { l2_below_min_confidence: 1 });
  const lenient = createEscalation({ layers: { embeddings: shared }, escalation: RELAXED, embeddings: { minConfidence: 0 } });
  t.teardown(() => lenient.close());
  t.equal((await lenient.escalate(l1Public(), Buffer.from(RUNBOOK), {}))?.layer, 2);
});
