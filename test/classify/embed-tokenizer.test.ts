import t from 'tap';
import { readFileSync } from 'node:fs';
import { basicTokenize, readVocab, WordPieceTokenizer } from '../../src/classify/embed/tokenizer.js';

const dir = new URL('../fixtures/embed/', import.meta.url);
const vocabFile = new URL('tiny-vocab.txt', dir).pathname;
const cases = JSON.parse(readFileSync(new URL('tokenizer-cases.json', dir), 'utf8')) as { text: string; basic: string[]; ids: number[] }[];

t.test('the TypeScript tokenizer produces exactly the ids of the Python tokenizer the model was trained with', async (t) => {
  const tok = WordPieceTokenizer.fromFile(vocabFile);
  for (const c of cases) {
    t.same(basicTokenize(c.text), c.basic, `basic: ${JSON.stringify(c.text.slice(0, 40))}`);
    t.same(tok.encode(c.text), c.ids, `ids: ${JSON.stringify(c.text.slice(0, 40))}`);
  }
});

t.test('lowercasing strips accents, punctuation splits, CJK characters stand alone', async (t) => {
  t.same(basicTokenize('Café, RÉSUMÉ!'), ['cafe', ',', 'resume', '!']);
  t.same(basicTokenize('a中b'), ['a', '中', 'b']);
  t.same(basicTokenize('Café', false), ['Café']);
});

t.test('WordPiece takes the longest match first and marks continuations with ##', async (t) => {
  const tok = WordPieceTokenizer.fromFile(vocabFile);
  const v = tok.vocab;
  t.same(tok.encode('unwanted'), [v.get('un'), v.get('##want'), v.get('##ed')]);
  t.same(tok.encode('restarting'), [v.get('restart'), v.get('##ing')]);
  // One unmatched character makes the whole word [UNK], as in BERT.
  t.same(tok.encode('naïve€'), [tok.unkId]);
  t.same(tok.encode('x'.repeat(101)), [tok.unkId], 'words over 100 characters are [UNK]');
});

t.test('chunks are [CLS] … [SEP] rows of at most maxLength with an attention mask, padded', async (t) => {
  const tok = new WordPieceTokenizer(readVocab(vocabFile), { maxLength: 6 });
  const b = tok.encodeChunks('the quarterly revenue summary internal runbook for');
  // 7 tokens, 4 per row -> rows of 4+2 and 3+2
  t.equal(b.rows, 2);
  t.equal(b.seq, 6);
  t.same(b.lengths, [6, 5]);
  const row = (a: BigInt64Array, r: number) => Array.from(a.subarray(r * b.seq, (r + 1) * b.seq), Number);
  t.same(row(b.inputIds, 0), [tok.clsId, 5, 6, 7, 8, tok.sepId]);
  t.same(row(b.inputIds, 1), [tok.clsId, 9, 10, 11, tok.sepId, tok.padId]);
  t.same(row(b.attentionMask, 1), [1, 1, 1, 1, 1, 0]);
  const empty = tok.encodeChunks('');
  t.same(Array.from(empty.inputIds, Number), [tok.clsId, tok.sepId], 'empty text is [CLS] [SEP]');
  t.equal(tok.encodeChunks('the '.repeat(100), 3).rows, 3, 'maxChunks bounds the rows');
});

t.test('a vocab without the BERT special tokens is refused', async (t) => {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const d = mkdtempSync(join(tmpdir(), 'lacuna-vocab-'));
  writeFileSync(join(d, 'vocab.txt'), 'a\nb\n');
  t.throws(() => readVocab(join(d, 'vocab.txt')), /no \[UNK\]/);
});
