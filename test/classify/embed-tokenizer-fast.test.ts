// The encoder fuses BERT's basic tokenizer and WordPiece into one pass over char codes with a
// word hash table and a trie. Here it is checked against the plain algorithm, written out the
// way the Python twin (src/classify/embed/model/tokenizer.py) states it, on random text mixing
// ASCII, accents, CJK, astral characters, control and format characters, odd spaces, lone
// surrogates and words around the 100-character limit.

import t from 'tap';
import { readVocab, WordPieceTokenizer } from '../../src/classify/embed/tokenizer.js';
import { VocabTrie } from '../../src/classify/embed/vocab-trie.js';
import { foldUnit, WORD_HASH_SEED, WordTable } from '../../src/classify/embed/word-table.js';

const fixtureVocab = new URL('../fixtures/embed/tiny-vocab.txt', import.meta.url).pathname;
const shippedVocab = new URL('../../src/classify/embed/model/vocab.txt', import.meta.url).pathname;

// ---- the plain algorithm ----

function isControl(ch: string): boolean {
  return ch !== '\t' && ch !== '\n' && ch !== '\r' && /^[\p{Cc}\p{Cf}]$/u.test(ch);
}

function isWhitespace(ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || /^\p{Zs}$/u.test(ch);
}

function isPunctuation(ch: string): boolean {
  const cp = ch.codePointAt(0)!;
  return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126) || /^\p{P}$/u.test(ch);
}

function isCjk(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) || (cp >= 0x2b740 && cp <= 0x2b81f) || (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

function plainBasic(text: string, lowercase: boolean): string[] {
  const out: string[] = [];
  let cur = '';
  const flush = (): void => {
    if (cur) out.push(cur);
    cur = '';
  };
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0 || cp === 0xfffd || isControl(ch)) continue;
    if (isWhitespace(ch)) {
      flush();
      continue;
    }
    if (isCjk(cp)) {
      flush();
      out.push(ch);
      continue;
    }
    const pieces = lowercase ? [...ch.toLowerCase().normalize('NFD')].filter((c) => !/^\p{Mn}$/u.test(c)) : [ch];
    for (const c of pieces) {
      if (isPunctuation(c)) {
        flush();
        out.push(c);
      } else cur += c;
    }
  }
  flush();
  return out;
}

function plainWordPiece(word: string, vocab: Map<string, number>, unk: number): number[] {
  const chars = Array.from(word);
  if (chars.length > 100) return [unk];
  const ids: number[] = [];
  let start = 0;
  while (start < chars.length) {
    let end = chars.length;
    let found: number | undefined;
    while (start < end) {
      found = vocab.get((start > 0 ? '##' : '') + chars.slice(start, end).join(''));
      if (found !== undefined) break;
      end--;
    }
    if (found === undefined) return [unk];
    ids.push(found);
    start = end;
  }
  return ids;
}

function plainEncode(text: string, vocab: Map<string, number>, lowercase: boolean): number[] {
  const unk = vocab.get('[UNK]')!;
  return plainBasic(text, lowercase).flatMap((w) => plainWordPiece(w, vocab, unk));
}

function plainChunks(ids: number[], maxLength: number, maxChunks: number, vocab: Map<string, number>): { ids: number[][]; lengths: number[] } {
  const body = maxLength - 2;
  const rows: number[][] = [];
  for (let r = 0; r === 0 || (r * body < ids.length && r < maxChunks); r++) {
    rows.push([vocab.get('[CLS]')!, ...ids.slice(r * body, (r + 1) * body), vocab.get('[SEP]')!]);
  }
  return { ids: rows, lengths: rows.map((r) => r.length) };
}

// ---- random text ----

/** Deterministic PRNG (mulberry32), so a failure names a reproducible seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const ODD = [
  '\u00a0', '\u3000', '\u2009', '\u200b', '\u00ad', '\ufeff', '\u2028', '\x00', '\x01', '\x0b', '\x0c', '\x1f', '\x7f', '\x85',
  '\ufffd', '\ud800', '\udc00', '\ud83d', '\ude00', '\u0301', '\u0308', '—', '…', '«', '»', '¿', '·', '£', '€', '©', '°',
];
const LETTERS = ['é', 'É', 'ñ', 'Å', 'ö', 'ß', 'İ', 'ﬁ', 'Σ', 'ς', 'Ж', 'ж', 'ǅ', 'ẞ', 'ı', 'Ω', 'ş', 'ø', 'Ⅻ', '½', '²'];
const ASTRAL = ['😀', '😁', '𝒜', '𠀀', '𝟘', '🇫🇷', '\u{1F3FD}', '𐐀'];
const CJK = ['中', '文', '字', '漢', '\uf900', '\u3400'];
const ASCII_WORDS = ['the', 'Quarterly', 'REVENUE', 'unwanted', 'restarting', 'runbook', 'x9', 'API', 'k8s', 'summary'];

function randomText(next: () => number, vocabWords: string[]): string {
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const parts: string[] = [];
  const n = 1 + Math.floor(next() * 40);
  for (let i = 0; i < n; i++) {
    const r = next();
    if (r < 0.3) parts.push(pick(vocabWords));
    else if (r < 0.4) parts.push(pick(ASCII_WORDS));
    else if (r < 0.5) parts.push(pick(vocabWords) + pick(vocabWords).replace(/^##/, ''));
    else if (r < 0.6) parts.push(pick(' \t\n\r,.;:!?()[]{}"\'#-_/\\@$%^&*+=<>|~`'.split('')));
    else if (r < 0.7) parts.push(pick(ODD));
    else if (r < 0.78) parts.push(pick(LETTERS));
    else if (r < 0.83) parts.push(pick(ASTRAL));
    else if (r < 0.87) parts.push(pick(CJK));
    else if (r < 0.9) parts.push(String.fromCharCode(Math.floor(next() * 0x10000)));
    else if (r < 0.93) {
      // Long words around the 100-code-point limit, some with surrogate pairs.
      const unit = pick(['a', 'z9', '😀', 'é']);
      parts.push(unit.repeat(Math.floor(next() * 60) + 70));
    } else parts.push(' ');
  }
  return parts.join(next() < 0.5 ? '' : ' ');
}

function vocabWith(extra: string[]): Map<string, number> {
  const v = readVocab(fixtureVocab);
  for (const w of extra) if (!v.has(w)) v.set(w, v.size);
  return v;
}

const vocabs: [string, Map<string, number>][] = [
  ['fixture vocab', readVocab(fixtureVocab)],
  ['shipped vocab', readVocab(shippedVocab)],
  // Non-ASCII, astral, CJK and continuation entries, so the trie and table see surrogate pairs.
  ['vocab with non-ASCII entries', vocabWith(['é', '##é', 'caf', '##é', '😀', '##😀', '😀😀', '中', '字', 'ß', '##ß', 'straße', 'ж', '##ж', 'aa', '##aa', '##a', 'a'.repeat(100), 'z9', '##z9', '\ud83d', '##\ud83d', '##\ude00', '##\ude01', '—', '£1'])],
  // No "##" entries at all: every word that is not an entry is [UNK].
  ['vocab without continuations', new Map([...readVocab(fixtureVocab)].filter(([k]) => !k.startsWith('##')))],
];

t.test('the fused encoder gives the ids of the plain algorithm on random text', async (t) => {
  for (const [name, vocab] of vocabs) {
    const words = [...vocab.keys()];
    for (const lowercase of [true, false]) {
      const tok = new WordPieceTokenizer(vocab, { lowercase });
      let mismatches = 0;
      for (let seed = 1; seed <= 400; seed++) {
        const text = randomText(rng(seed * 7919 + (lowercase ? 1 : 0)), words);
        const want = plainEncode(text, vocab, lowercase);
        const got = tok.encode(text);
        if (JSON.stringify(got) !== JSON.stringify(want) && mismatches++ < 3) {
          t.same(got, want, `${name}, lowercase ${lowercase}, seed ${seed}: ${JSON.stringify(text)}`);
        }
      }
      t.equal(mismatches, 0, `${name}, lowercase ${lowercase}: 400 random texts`);
    }
  }
});

t.test('edge cases: empty text, only separators, lone and split surrogates, exactly 100 code points', async (t) => {
  const vocab = vocabs[2]![1];
  const tok = new WordPieceTokenizer(vocab);
  const cases = [
    '',
    ' \t\r\n\u00a0\u3000',
    '\x00\x01\u200b\ufffd',
    '\ud800\x01\udc00',
    'a\ud83d',
    '\ude00a',
    '😀😀😀',
    // Entries for the halves of 😁 exist, but a piece never splits a surrogate pair: [UNK].
    '😁',
    'a😁',
    'a'.repeat(100),
    'a'.repeat(101),
    '😀'.repeat(100),
    '😀'.repeat(101),
    'é'.repeat(100) + '\u0301',
    'cafe\u0301',
    'CAFÉ',
    'İstanbul',
    'x'.repeat(70_000),
  ];
  for (const text of cases) t.same(tok.encode(text), plainEncode(text, vocab, true), JSON.stringify(text.slice(0, 40)));
});

t.test('chunked batches hold [CLS] ids [SEP] rows with a mask, for one text and for several', async (t) => {
  const vocab = readVocab(shippedVocab);
  const tok = new WordPieceTokenizer(vocab, { maxLength: 16 });
  const next = rng(42);
  const words = [...vocab.keys()];
  const texts = Array.from({ length: 12 }, () => randomText(next, words).repeat(1 + Math.floor(next() * 4)));
  const pad = vocab.get('[PAD]')!;
  const plain = texts.map((text) => plainChunks(plainEncode(text, vocab, true), 16, 5, vocab));
  for (let i = 0; i < texts.length; i++) {
    const b = tok.encodeChunks(texts[i]!, 5);
    const want = plain[i]!;
    t.same(b.lengths, want.lengths);
    t.same(b.rowsPerText, [want.ids.length]);
    for (let r = 0; r < b.rows; r++) {
      const row = Array.from(b.inputIds.subarray(r * b.seq, (r + 1) * b.seq), Number);
      t.same(row, [...want.ids[r]!, ...Array(b.seq - want.lengths[r]!).fill(pad)]);
      t.same(Array.from(b.attentionMask.subarray(r * b.seq, (r + 1) * b.seq), Number), [...Array(want.lengths[r]!).fill(1), ...Array(b.seq - want.lengths[r]!).fill(0)]);
    }
  }
  // All texts in one batch: the same rows, in order, padded to the longest.
  const all = tok.encodeBatch(texts, 5);
  t.same(all.rowsPerText, plain.map((p) => p.ids.length));
  const rows = plain.flatMap((p) => p.ids);
  t.equal(all.rows, rows.length);
  t.equal(all.seq, Math.max(...rows.map((r) => r.length)));
  rows.forEach((want, r) => {
    t.same(Array.from(all.inputIds.subarray(r * all.seq, (r + 1) * all.seq), Number), [...want, ...Array(all.seq - want.length).fill(pad)], `batch row ${r}`);
  });
});

t.test('a [PAD] id other than 0 pads the rows, and ids beyond 32 bits are refused', async (t) => {
  const v = new Map([['[UNK]', 0], ['[CLS]', 1], ['[SEP]', 2], ['[PAD]', 3], ['a', 4]]);
  const b = new WordPieceTokenizer(v, { maxLength: 4 }).encodeBatch(['a a a', 'a'], 4);
  t.same(Array.from(b.inputIds, Number), [1, 4, 4, 2, 1, 4, 2, 3, 1, 4, 2, 3]);
  t.same(Array.from(b.attentionMask, Number), [1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 0]);
  t.throws(() => new WordPieceTokenizer(new Map([...v, ['b', 2 ** 31]])), { code: 'tokenizer_error' });
  t.throws(() => new WordPieceTokenizer(new Map([...v, ['b', -1]])), { code: 'tokenizer_error' });
});

t.test('the vocab trie and word table find exactly the vocab entries', async (t) => {
  const vocab = readVocab(shippedVocab);
  for (const [k, v] of vocabs[2]![1]) if (!vocab.has(k)) vocab.set(k, v + 100_000);
  const trie = new VocabTrie(vocab);
  const table = new WordTable(vocab);
  const lookup = (s: string): number => {
    const units = new Uint16Array(s.length);
    let h = WORD_HASH_SEED;
    for (let i = 0; i < s.length; i++) h = foldUnit(h, (units[i] = s.charCodeAt(i)));
    return table.lookup(units, s.length, h);
  };
  let wrong = 0;
  for (const [k, id] of vocab) if (trie.get(k) !== id || lookup(k) !== id) wrong++;
  t.equal(wrong, 0, `all ${vocab.size} entries found with their ids`);
  const next = rng(7);
  const keys = [...vocab.keys()];
  let falsePositives = 0;
  for (let i = 0; i < 20_000; i++) {
    const a = keys[Math.floor(next() * keys.length)]!;
    const probe = next() < 0.5 ? a + keys[Math.floor(next() * keys.length)]! : a.slice(0, -1) + String.fromCharCode(97 + Math.floor(next() * 26));
    const want = vocab.get(probe) ?? -1;
    if (trie.get(probe) !== want || lookup(probe) !== want) falsePositives++;
  }
  t.equal(falsePositives, 0, 'non-entries are not found');
  t.equal(trie.get(''), -1, 'the empty prefix is no entry');
  t.equal(new VocabTrie(new Map([['[UNK]', 0]])).continuation, -1, 'no "##" node without continuation entries');
});

t.test('a word whose hash equals an entry\'s is still not that entry', async (t) => {
  // Two 7-letter words with the same 32-bit FNV-1a hash (found by search).
  const [entry, other] = ['opcwesc', 'kmkjbhy'];
  const hash = (s: string): number => [...s].reduce((h, c) => foldUnit(h, c.charCodeAt(0)), WORD_HASH_SEED);
  t.equal(hash(entry), hash(other), 'the two words share a hash');
  const vocab = new Map([['[UNK]', 0], ['[CLS]', 1], ['[SEP]', 2], ['[PAD]', 3], [entry, 4]]);
  const tok = new WordPieceTokenizer(vocab);
  t.same(tok.encode(`${entry} ${other}`), [4, 0]);
});

t.test('UTF-8 bytes give the ids of the string Buffer decodes them to, malformed bytes included', async (t) => {
  const vocab = vocabs[2]![1];
  const tok = new WordPieceTokenizer(vocab);
  const same = (bytes: Uint8Array, label: string): boolean => {
    const fromBytes = tok.encodeBatch([bytes]);
    const fromText = tok.encodeBatch([Buffer.from(bytes).toString('utf8')]);
    const ok = fromBytes.inputIds.length === fromText.inputIds.length && fromBytes.inputIds.every((v, i) => v === fromText.inputIds[i]);
    if (!ok) t.same(Array.from(fromBytes.inputIds, Number), Array.from(fromText.inputIds, Number), label);
    return ok;
  };
  let wrong = 0;
  const words = [...vocab.keys()];
  for (let seed = 1; seed <= 300; seed++) {
    if (!same(Buffer.from(randomText(rng(seed * 31), words)), `random text, seed ${seed}`)) wrong++;
  }
  // Byte soup: valid sequences, stray continuation bytes, overlong forms, encoded surrogates,
  // code points past U+10FFFF, sequences cut short, all between ASCII letters and separators.
  const pieces = [
    [0x41], [0x62], [0x20], [0x2c], [0x0a], [0x80], [0xbf], [0xc0, 0xaf], [0xc2], [0xc3, 0xa9], [0xe0, 0x80], [0xe0, 0xa0, 0x80],
    [0xe2, 0x82, 0xac], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xed, 0x9f, 0xbf], [0xef, 0xbf, 0xbd], [0xf0, 0x90, 0x80], [0xf0, 0x9f, 0x98, 0x80],
    [0xf4, 0x8f, 0xbf, 0xbf], [0xf4, 0x90, 0x80, 0x80], [0xf5], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xff], [0xe4, 0xb8, 0xad], [0xcc, 0x81],
  ];
  for (let seed = 1; seed <= 1000; seed++) {
    const next = rng(seed);
    const bytes: number[] = [];
    const n = 1 + Math.floor(next() * 30);
    for (let i = 0; i < n; i++) bytes.push(...pieces[Math.floor(next() * pieces.length)]!);
    if (!same(Uint8Array.from(bytes), `bytes ${Buffer.from(bytes).toString('hex')}`)) wrong++;
  }
  t.equal(wrong, 0, '300 random texts and 1000 byte strings');
  // A view into a larger buffer reads only its own bytes.
  const inner = 'runbook für dich';
  const outer = Buffer.from(`xx ${inner} yy`);
  const view = outer.subarray(3, 3 + Buffer.byteLength(inner));
  t.same(Array.from(tok.encodeBatch([view]).inputIds, Number), Array.from(tok.encodeBatch([inner]).inputIds, Number));
});

t.test('encodeBatches splits texts into batches of at most rowsPerBatch rows, never splitting a text', async (t) => {
  const vocab = readVocab(fixtureVocab);
  const tok = new WordPieceTokenizer(vocab, { maxLength: 6 });
  // 4 ids a row: 'the ' × k is k ids, so these texts take 1, 3, 1, 5, 2 rows.
  const texts = [1, 9, 2, 20, 5].map((k) => 'the '.repeat(k));
  const batches = tok.encodeBatches(texts, Infinity, 4);
  t.same(batches.map((b) => b.rowsPerText), [[1, 3], [1], [5], [2]]);
  const alone = texts.map((x) => tok.encodeChunks(x));
  let i = 0;
  for (const b of batches) {
    let r = 0;
    for (const rows of b.rowsPerText) {
      const want = alone[i++]!;
      for (let k = 0; k < rows; k++, r++) {
        const got = Array.from(b.inputIds.subarray(r * b.seq, r * b.seq + want.lengths[k]!), Number);
        t.same(got, Array.from(want.inputIds.subarray(k * want.seq, k * want.seq + want.lengths[k]!), Number));
      }
    }
  }
  t.same(tok.encodeBatches(texts, 2, 4).map((b) => b.rowsPerText), [[1, 2, 1], [2, 2]], 'maxChunks caps rows before they are counted');
  t.equal(tok.encodeBatches(texts).length, 1, 'no budget: one batch');
  t.throws(() => tok.encodeBatch([]), { code: 'tokenizer_error' });
});
