import t from 'tap';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmbeddingLayer } from '../../src/classify/embed/index.js';
import { shippedModelDir, shippedModelSpec, sha256File } from '../../src/classify/embed/model-files.js';

const layer = createEmbeddingLayer();
t.teardown(() => layer.close());

const RUNBOOK = `Runbook: payout-worker queue backlog

1. Check the payout-worker dashboard in Grafana for the p99 latency panel.
2. SSH to the bastion and run kubectl get pods -n payments.
If replication lag exceeds 30 seconds, page the database on-call.
Drain traffic from the affected zone before restarting the primary.
Do not restart more than one node at a time.
`;
const PRESS = `Pelican Travel launches Sparrow in Europe

Porto — Pelican Travel today announced the general availability of Sparrow.
"We are thrilled to bring Sparrow to more customers," said the chief executive.
The product is available immediately through the company website.
Media inquiries should be directed to the press office.
`;
const MNA = `Project Vertex: acquisition of Ironbark Mining

We propose to acquire Ironbark Mining for $420M in cash and stock. The board is asked to approve
entering exclusivity until 2027-02-01. Knowledge of this transaction is limited to the deal team;
insider trading rules apply. Synergies are estimated at $40M per year from the second year.
`;

t.test('the shipped model loads once, verified against its committed sha256, with a trained MLP head', async (t) => {
  await layer.ready();
  t.equal(layer.info.head, 'mlp');
  t.match(layer.info.name, /^lacuna-embed@/);
  const sum = readFileSync(join(shippedModelDir(), 'lacuna-embed.onnx.sha256'), 'utf8').split(/\s+/)[0];
  t.equal(layer.info.sha256, sum);
  t.equal(sha256File(join(shippedModelDir(), 'lacuna-embed.onnx')), sum);
});

t.test('documents without identifiers get a meaningful tier: runbook INTERNAL, press release PUBLIC, M&A memo PROPRIETARY', async (t) => {
  const [a, b, c] = await Promise.all([layer.classify(RUNBOOK), layer.classify(PRESS), layer.classify(MNA)]);
  t.equal(a!.tier, 'INTERNAL', JSON.stringify(a!.probs));
  t.equal(b!.tier, 'PUBLIC', JSON.stringify(b!.probs));
  t.equal(c!.tier, 'PROPRIETARY', JSON.stringify(c!.probs));
  for (const r of [a!, b!, c!]) {
    t.ok(r.confidence > 1 / 3 && r.confidence <= 1, 'confidence is a probability above chance');
    t.ok(Math.abs(r.probs.PUBLIC + r.probs.INTERNAL + r.probs.PROPRIETARY - 1) < 1e-6);
  }
});

t.test('held-out documents (templates and names never trained on) are classified well above chance', async (t) => {
  const docs = readFileSync(join(shippedModelDir(), 'heldout.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { text: string; tier: string })
    .slice(0, 150);
  const results = await Promise.all(docs.map((d) => layer.classify(d.text)));
  const correct = results.filter((r, i) => r.tier === docs[i]!.tier).length;
  // Trained metric is ~0.76 on all 900 held-out documents (metadata.json); chance is 0.33.
  t.ok(correct / docs.length > 0.6, `accuracy ${correct}/${docs.length}`);
});

t.test('concurrent requests are batched and give the same answers as one at a time', async (t) => {
  const texts = [RUNBOOK, PRESS, MNA, RUNBOOK + PRESS, 'x', ''];
  const one: number[][] = [];
  for (const x of texts) one.push(Array.from((await layer.embed(x)).embedding));
  const many = await Promise.all(texts.map((x) => layer.embed(x)));
  many.forEach((m, i) => {
    const worst = Math.max(...Array.from(m.embedding).map((v, k) => Math.abs(v - one[i]![k]!)));
    t.ok(worst < 1e-5, `text ${i}: max difference ${worst}`);
  });
});

t.test('only the first maxBytes are embedded and the result says so', async (t) => {
  const big = (RUNBOOK + '\n').repeat(Math.ceil(100_000 / RUNBOOK.length));
  const r = await layer.classify(big);
  t.equal(r.truncated, true);
  t.ok(r.chunks > 1, `${r.chunks} chunks of 512 tokens`);
  const small = await layer.classify(RUNBOOK);
  t.equal(small.truncated, false);
  t.equal(small.chunks, 1);
});

t.test('a shipped model whose bytes do not match its checksum is refused before loading', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lacuna-tamper-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(shippedModelDir(), dir, { recursive: true });
  const f = join(dir, 'lacuna-embed.onnx');
  const bytes = readFileSync(f);
  bytes[bytes.length - 10] ^= 0xff;
  writeFileSync(f, bytes);
  t.throws(() => shippedModelSpec(dir), { code: 'model_checksum_mismatch' });
});

t.test('a worker that dies fails its pending requests and is restarted by the next one', async (t) => {
  const { EmbeddingWorker } = await import('../../src/classify/embed/worker-client.js');
  const w = new EmbeddingWorker({ spec: shippedModelSpec().spec, threads: 1, maxChunks: 8 });
  t.teardown(() => w.close());
  const first = await w.embed(RUNBOOK);
  const pending = w.embed(PRESS);
  // Simulate a crash of the thread (an abort inside onnxruntime would look the same to us).
  await (w as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
  await t.rejects(pending, /exited/);
  const again = await w.embed(RUNBOOK);
  t.same(Array.from(again.embedding), Array.from(first.embedding), 'a fresh worker gives the same answer');
});

t.test('documents travel to the worker as bytes: the caller\'s Buffer is left alone, a cut character is dropped', async (t) => {
  const text = `${RUNBOOK}Budget: €12k, £9k — approved.\n`;
  const fromText = await layer.classify(text);
  // An unpooled Buffer owns its whole ArrayBuffer; the layer must copy it, not move it away.
  const own = Buffer.alloc(Buffer.byteLength(text), text);
  const fromBuffer = await layer.classify(own);
  t.equal(own.length, Buffer.byteLength(text), 'the caller\'s Buffer is not detached');
  t.equal(own.toString('utf8'), text, 'and not changed');
  t.same(fromBuffer.probs, fromText.probs);
  t.equal(fromBuffer.tokens, fromText.tokens);
  // A budget that ends inside "€" (3 bytes): the partial character is dropped, the rest embedded.
  const cut = Buffer.byteLength(RUNBOOK + 'Budget: ') + 1;
  const small = createEmbeddingLayer({ maxBytes: cut });
  t.teardown(() => small.close());
  const partial = await small.classify(Buffer.from(text));
  const whole = await small.classify(RUNBOOK + 'Budget: ');
  t.equal(partial.truncated, true);
  t.same(partial.probs, whole.probs);
  t.equal(partial.tokens, whole.tokens);
});

t.test('the worker client moves bytes that own their buffer and copies views into shared ones', async (t) => {
  const { EmbeddingWorker } = await import('../../src/classify/embed/worker-client.js');
  const w = new EmbeddingWorker({ spec: shippedModelSpec().spec, threads: 1, maxChunks: 8 });
  t.teardown(() => w.close());
  const fromText = await w.embed(PRESS);
  const owned = new TextEncoder().encode(PRESS);
  const moved = w.embed(owned);
  const r1 = await moved;
  t.equal(owned.byteLength, 0, 'an owned buffer is transferred (detached here)');
  // A small Buffer lives in Node's shared pool: transferring it would detach its neighbours.
  const pooled = Buffer.from(PRESS);
  t.ok(pooled.byteLength < pooled.buffer.byteLength, 'the Buffer is a view into the pool');
  const r2 = await w.embed(pooled);
  t.equal(pooled.toString('utf8'), PRESS, 'a pooled Buffer is copied, not moved');
  t.same(Array.from(r1.embedding), Array.from(fromText.embedding));
  t.same(Array.from(r2.embedding), Array.from(fromText.embedding));
});
