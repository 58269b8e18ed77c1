// File-level quality on the labelled corpus (test/fixtures/classify/corpus, labels.json):
// precision and recall for PII and for secrets, and tier accuracy. The corpus mixes real-looking
// exports, configs and memos with look-alikes that must stay PUBLIC (invalid-Luhn numbers,
// UUIDs, ISBNs, order numbers, build manifests, code, placeholders).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClassifier } from '../../src/classify/index.js';

const dir = fileURLToPath(new URL('../fixtures/classify/', import.meta.url));
const labels = JSON.parse(readFileSync(join(dir, 'labels.json'), 'utf8')) as Record<string, { tier: string; pii: boolean; secret: boolean; note?: string }>;

function pr(pairs: [boolean, boolean][]): { precision: number; recall: number; tp: number; fp: number; fn: number } {
  let tp = 0, fp = 0, fn = 0;
  for (const [want, got] of pairs) {
    if (want && got) tp++;
    else if (!want && got) fp++;
    else if (want && !got) fn++;
  }
  return { precision: tp + fp ? tp / (tp + fp) : 1, recall: tp + fn ? tp / (tp + fn) : 1, tp, fp, fn };
}

t.test('layer 1 reaches 0.95 precision and recall for PII and secrets, and 0.95 tier accuracy, on the labelled corpus', async (t) => {
  const c = createClassifier({ cacheSize: 0 });
  const pii: [boolean, boolean][] = [];
  const secret: [boolean, boolean][] = [];
  let tierOk = 0;
  const misses: string[] = [];
  const names = Object.keys(labels).sort();
  t.ok(names.length >= 50, 'the corpus has at least 50 labelled files');
  for (const name of names) {
    const want = labels[name]!;
    const got = await c.classifyFile(join(dir, 'corpus', name));
    const gotPii = got.tags.includes('PII');
    const gotSecret = got.tags.includes('SECRET');
    pii.push([want.pii, gotPii]);
    secret.push([want.secret, gotSecret]);
    if (got.tier === want.tier) tierOk++;
    if (got.tier !== want.tier || gotPii !== want.pii || gotSecret !== want.secret) {
      misses.push(`${name}: want ${want.tier}${want.pii ? ' PII' : ''}${want.secret ? ' SECRET' : ''}, got ${got.tier} [${got.tags.join(',')}] - ${got.reasoning}`);
    }
  }
  const p = pr(pii);
  const s = pr(secret);
  const acc = tierOk / names.length;
  t.comment(`files: ${names.length}`);
  t.comment(`PII     precision ${p.precision.toFixed(3)} recall ${p.recall.toFixed(3)} (tp ${p.tp} fp ${p.fp} fn ${p.fn})`);
  t.comment(`secrets precision ${s.precision.toFixed(3)} recall ${s.recall.toFixed(3)} (tp ${s.tp} fp ${s.fp} fn ${s.fn})`);
  t.comment(`tier accuracy ${acc.toFixed(3)} (${tierOk}/${names.length})`);
  for (const m of misses) t.comment('miss: ' + m);
  t.ok(p.precision >= 0.95, `PII precision ${p.precision.toFixed(3)} >= 0.95`);
  t.ok(p.recall >= 0.95, `PII recall ${p.recall.toFixed(3)} >= 0.95`);
  t.ok(s.precision >= 0.95, `secret precision ${s.precision.toFixed(3)} >= 0.95`);
  t.ok(s.recall >= 0.95, `secret recall ${s.recall.toFixed(3)} >= 0.95`);
  t.ok(acc >= 0.95, `tier accuracy ${acc.toFixed(3)} >= 0.95`);
});
