import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmbeddingLayer } from '../../src/classify/embed/index.js';
import { sha256File } from '../../src/classify/embed/model-files.js';
import { writeTinyBert } from '../fixtures/embed/tiny-bert.js';

const vocab = new URL('../fixtures/embed/tiny-vocab.txt', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'lacuna-userbert-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const bert = writeTinyBert({ vocabFile: vocab, out: join(dir, 'tiny-bert.onnx') });
const bertNoTypes = writeTinyBert({ vocabFile: vocab, out: join(dir, 'tiny-bert-2in.onnx'), withoutTokenTypes: true, seed: 9 });
const exemplars = join(dir, 'exemplars.jsonl');
writeFileSync(
  exemplars,
  [
    { text: 'public public contract', tier: 'PUBLIC' },
    { text: 'the public summary', tier: 'PUBLIC' },
    { text: 'internal runbook for restarting', tier: 'INTERNAL' },
    { text: 'internal draft runbook', tier: 'INTERNAL' },
    { text: 'proprietary revenue contract', tier: 'PROPRIETARY' },
    { text: 'proprietary quarterly revenue', tier: 'PROPRIETARY' },
  ]
    .map((e) => JSON.stringify(e))
    .join('\n') + '\n',
);

function close(t: Tap.Test, a: Float32Array, b: Float32Array, eps = 1e-4): void {
  t.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  t.ok(worst < eps, `max abs difference ${worst} < ${eps}`);
}

t.test('a user BERT-shaped ONNX model with its own vocab.txt loads and mean-pools last_hidden_state', async (t) => {
  const layer = createEmbeddingLayer({ model: bert, vocab, exemplars, maxLength: 16 });
  t.teardown(() => layer.close());
  await layer.ready();
  t.equal(layer.info.head, 'centroids');
  t.equal(layer.info.sha256, sha256File(bert));
  const e = await layer.embed('the quarterly revenue summary');
  t.equal(e.embedding.length, 8, 'hidden size of the model');
  t.equal(e.tokens, 6, '[CLS] + 4 words + [SEP]');
  t.ok(e.embedding.every((v) => Number.isFinite(v)));
});

t.test('padding does not change an embedding: batched and single runs agree', async (t) => {
  const layer = createEmbeddingLayer({ model: bert, vocab, exemplars, maxLength: 16 });
  t.teardown(() => layer.close());
  const alone = await layer.embed('internal runbook');
  // Same tick: coalesced into one padded batch with a longer text.
  const [batched] = await Promise.all([layer.embed('internal runbook'), layer.embed('the quarterly revenue summary for the internal runbook restarting')]);
  close(t, alone.embedding, batched!.embedding);
});

t.test('long texts are split into [CLS]…[SEP] chunks whose means are weighted by their token counts', async (t) => {
  const layer = createEmbeddingLayer({ model: bert, vocab, exemplars, maxLength: 8, maxChunks: 4 });
  t.teardown(() => layer.close());
  const long = await layer.embed('the quarterly revenue summary internal runbook for restart the quarterly revenue');
  t.equal(long.chunks, 2);
  t.equal(long.tokens, 11 + 4, '11 pieces + [CLS]/[SEP] per chunk');
  const capped = await layer.embed('the '.repeat(200));
  t.equal(capped.chunks, 4, 'maxChunks bounds the work on a user model');
});

t.test('the centroid head built from exemplars classifies text like its exemplars', async (t) => {
  const layer = createEmbeddingLayer({ model: bert, vocab, exemplars, maxLength: 16 });
  t.teardown(() => layer.close());
  const r = await layer.classify('internal runbook for restarting');
  t.equal(r.tier, 'INTERNAL');
  t.ok(r.confidence > 1 / 3 && r.confidence <= 1);
  t.equal(Math.round((r.probs.PUBLIC + r.probs.INTERNAL + r.probs.PROPRIETARY) * 1e6) / 1e6, 1);
  t.match(r.model, /^user:/);
});

t.test('a model without token_type_ids gets only the inputs it declares', async (t) => {
  const layer = createEmbeddingLayer({ model: bertNoTypes, vocab, exemplars, maxLength: 16 });
  t.teardown(() => layer.close());
  const e = await layer.embed('public contract draft');
  t.equal(e.embedding.length, 8);
});

t.test('cls pooling takes the first token instead of the mean', async (t) => {
  const mean = createEmbeddingLayer({ model: bert, vocab, exemplars, maxLength: 16 });
  const cls = createEmbeddingLayer({ model: bert, vocab, exemplars, maxLength: 16, pooling: 'cls' });
  t.teardown(async () => {
    await mean.close();
    await cls.close();
  });
  const a = await mean.embed('public contract draft');
  const b = await cls.embed('public contract draft');
  t.notSame(Array.from(a.embedding), Array.from(b.embedding));
});

t.test('a wrong checksum, a missing vocab or a file that is not ONNX is refused with a code', async (t) => {
  t.throws(() => createEmbeddingLayer({ model: bert, vocab, sha256: '0'.repeat(64) }), { code: 'model_checksum_mismatch' });
  t.throws(() => createEmbeddingLayer({ model: bert }), { code: 'model_invalid' });
  t.throws(() => createEmbeddingLayer({ model: join(dir, 'nope.onnx'), vocab }), { code: 'model_not_found' });
  const junk = join(dir, 'junk.onnx');
  writeFileSync(junk, 'not a model');
  const layer = createEmbeddingLayer({ model: junk, vocab, exemplars });
  t.teardown(() => layer.close());
  await t.rejects(layer.ready(), { name: 'EmbeddingModelError', code: 'model_load_failed' });
});

t.test('exemplars that leave a tier out are refused with a clear error', async (t) => {
  const partial = join(dir, 'partial.jsonl');
  writeFileSync(partial, JSON.stringify({ text: 'public contract', tier: 'PUBLIC' }) + '\n');
  const layer = createEmbeddingLayer({ model: bert, vocab, exemplars: partial, maxLength: 16 });
  t.teardown(() => layer.close());
  await t.rejects(layer.ready(), { code: 'model_invalid', message: /no exemplar for tier INTERNAL/ });
});
