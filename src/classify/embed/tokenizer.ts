// Standard BERT tokenisation for any vocab.txt: basic tokenizer (clean, CJK split, lowercase
// and strip accents, punctuation split) then greedy longest-match WordPiece with ##subwords,
// then [CLS] … [SEP] chunks of at most maxLength with attention mask (token_type_ids are all
// zero for one segment; the worker allocates them only for models that declare them).
// The Python twin (model/tokenizer.py) produced the shipped model's training ids; the two are
// pinned together by test/fixtures/embed/tokenizer-cases.json.

import { readFileSync } from 'node:fs';

export interface TokenizerOptions {
  lowercase?: boolean;
  /** Longest sequence including [CLS] and [SEP] (BERT: 512). */
  maxLength?: number;
}

export interface EncodedBatch {
  /** Row-major [rows, seq]; rows are padded with [PAD] to the longest row. */
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  rows: number;
  seq: number;
  /** Real (unpadded) tokens per row, [CLS]/[SEP] included: the weights for pooling chunks. */
  lengths: number[];
}

const MAX_WORD_CHARS = 100;
const WORD_CACHE_LIMIT = 50_000;

export class TokenizerError extends Error {
  readonly code = 'tokenizer_error';
}

export function readVocab(file: string): Map<string, number> {
  const text = readFileSync(file, 'utf8');
  const vocab = new Map<string, number>();
  const lines = text.split('\n');
  // A trailing newline leaves one empty last line that is not a token.
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  // A duplicated token maps to its last line, as in the reference BERT vocab loader.
  lines.forEach((line, i) => vocab.set(line.replace(/\r$/, ''), i));
  for (const special of ['[UNK]', '[CLS]', '[SEP]', '[PAD]']) {
    if (!vocab.has(special)) throw new TokenizerError(`${file}: vocab has no ${special} token`);
  }
  return vocab;
}

const CONTROL = /^[\p{Cc}\p{Cf}]$/u;
const SPACE_SEP = /^\p{Zs}$/u;
const PUNCT = /^\p{P}$/u;
const MARK = /^\p{Mn}$/u;

function isCjk(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) || (cp >= 0x2b740 && cp <= 0x2b81f) || (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

function isAsciiPunct(cp: number): boolean {
  return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126);
}

// Printable ASCII that is not punctuation is exactly [A-Za-z0-9], so for pure-ASCII text the
// basic tokenizer reduces to: drop control characters, lowercase, take alphanumeric runs and
// single punctuation marks. One regex pass instead of a per-character loop (64 KiB in ~1 ms).
const NON_ASCII = /[^\x00-\x7f]/;
const ASCII_CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g;
const ASCII_TOKEN = /[A-Za-z0-9]+|[!-/:-@[-`{-~]/g;

/** Words and punctuation marks of `text`, as BERT's BasicTokenizer splits them. */
export function basicTokenize(text: string, lowercase = true): string[] {
  const out: string[] = [];
  // Lines are whitespace-separated, so each can take the fast or the general path on its own.
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end);
    if (!NON_ASCII.test(line)) {
      const clean = line.replace(ASCII_CONTROL, '');
      const m = (lowercase ? clean.toLowerCase() : clean).match(ASCII_TOKEN);
      if (m) for (const w of m) out.push(w);
    } else basicTokenizeGeneral(line, lowercase, out);
    start = end + 1;
  }
  return out;
}

function basicTokenizeGeneral(text: string, lowercase: boolean, out: string[]): void {
  let cur = '';
  const flush = (): void => {
    if (cur) {
      out.push(cur);
      cur = '';
    }
  };
  for (let i = 0; i < text.length; i++) {
    let cp = text.charCodeAt(i);
    // ASCII fast path: the bulk of real files, and no Unicode tables needed.
    if (cp < 128) {
      if (cp === 32 || cp === 9 || cp === 10 || cp === 13) flush();
      else if (cp < 32 || cp === 127) continue;
      else if (isAsciiPunct(cp)) {
        flush();
        out.push(text[i]!);
      } else cur += lowercase && cp >= 65 && cp <= 90 ? String.fromCharCode(cp + 32) : text[i]!;
      continue;
    }
    let ch = text[i]!;
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < text.length) {
      const lo = text.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        ch = text.slice(i, i + 2);
        cp = ch.codePointAt(0)!;
        i++;
      }
    }
    if (cp === 0xfffd || CONTROL.test(ch)) continue;
    if (SPACE_SEP.test(ch)) {
      flush();
      continue;
    }
    if (isCjk(cp)) {
      flush();
      out.push(ch);
      continue;
    }
    const pieces = lowercase ? ch.toLowerCase().normalize('NFD') : ch;
    for (const c of pieces) {
      if (lowercase && MARK.test(c)) continue;
      const ccp = c.codePointAt(0)!;
      if ((ccp < 128 && isAsciiPunct(ccp)) || (ccp >= 128 && PUNCT.test(c))) {
        flush();
        out.push(c);
      } else cur += c;
    }
  }
  flush();
}

export class WordPieceTokenizer {
  readonly lowercase: boolean;
  readonly maxLength: number;
  readonly clsId: number;
  readonly sepId: number;
  readonly padId: number;
  readonly unkId: number;
  // Words repeat heavily within and across files; caching their pieces keeps 64 KiB under a few ms.
  private readonly wordCache = new Map<string, number[]>();
  // BigInt(id) allocates; the model inputs are int64, so convert each vocab id once.
  private readonly bigIds: bigint[] = [];

  constructor(readonly vocab: Map<string, number>, opts: TokenizerOptions = {}) {
    this.lowercase = opts.lowercase ?? true;
    this.maxLength = opts.maxLength ?? 512;
    if (this.maxLength < 3) throw new TokenizerError('maxLength must leave room for [CLS] and [SEP]');
    this.clsId = vocab.get('[CLS]')!;
    this.sepId = vocab.get('[SEP]')!;
    this.padId = vocab.get('[PAD]') ?? 0;
    this.unkId = vocab.get('[UNK]')!;
    let maxId = 0;
    for (const id of vocab.values()) maxId = Math.max(maxId, id);
    for (let i = 0; i <= maxId; i++) this.bigIds.push(BigInt(i));
  }

  static fromFile(vocabFile: string, opts: TokenizerOptions = {}): WordPieceTokenizer {
    return new WordPieceTokenizer(readVocab(vocabFile), opts);
  }

  /** Piece ids of one basic token (greedy longest match; the whole word is [UNK] if any part fails). */
  wordPiece(word: string): number[] {
    const cached = this.wordCache.get(word);
    if (cached) return cached;
    const chars = Array.from(word);
    let ids: number[] = [];
    if (chars.length > MAX_WORD_CHARS) ids = [this.unkId];
    else {
      let start = 0;
      while (start < chars.length) {
        let end = chars.length;
        let found = -1;
        while (start < end) {
          const sub = (start > 0 ? '##' : '') + chars.slice(start, end).join('');
          const id = this.vocab.get(sub);
          if (id !== undefined) {
            found = id;
            break;
          }
          end--;
        }
        if (found < 0) {
          ids = [this.unkId];
          break;
        }
        ids.push(found);
        start = end;
      }
    }
    if (this.wordCache.size >= WORD_CACHE_LIMIT) this.wordCache.clear();
    this.wordCache.set(word, ids);
    return ids;
  }

  /** Token ids of `text` without [CLS]/[SEP]. */
  encode(text: string): number[] {
    const ids: number[] = [];
    const push = (w: string): void => {
      // Whole words in the vocab are the common case: skip the piece cache for them.
      const direct = this.vocab.get(w);
      if (direct !== undefined && w.length <= MAX_WORD_CHARS) ids.push(direct);
      else for (const id of this.wordPiece(w)) ids.push(id);
    };
    const ascii = (src: string): void => {
      const clean = src.replace(ASCII_CONTROL, '');
      const low = this.lowercase ? clean.toLowerCase() : clean;
      ASCII_TOKEN.lastIndex = 0;
      for (let m = ASCII_TOKEN.exec(low); m; m = ASCII_TOKEN.exec(low)) push(m[0]);
    };
    // Whole-ASCII text (most files) in one pass; otherwise line by line, as basicTokenize.
    if (!NON_ASCII.test(text)) {
      ascii(text);
      return ids;
    }
    let start = 0;
    while (start <= text.length) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      const line = text.slice(start, end);
      if (!NON_ASCII.test(line)) ascii(line);
      else {
        const words: string[] = [];
        basicTokenizeGeneral(line, this.lowercase, words);
        for (const w of words) push(w);
      }
      start = end + 1;
    }
    return ids;
  }

  /**
   * `text` as [CLS] … [SEP] rows of at most maxLength tokens, at most maxChunks rows (the rest
   * is dropped: the caller's byte budget should already have bounded it), padded into one batch.
   */
  encodeChunks(text: string, maxChunks = Infinity): EncodedBatch {
    const ids = this.encode(text);
    const body = this.maxLength - 2;
    const rows = Math.max(1, Math.min(maxChunks, Math.ceil(ids.length / body)));
    const lengths: number[] = [];
    for (let r = 0; r < rows; r++) lengths.push(Math.min(body, Math.max(0, ids.length - r * body)) + 2);
    const seq = Math.max(...lengths);
    const big = this.bigIds;
    const inputIds = new BigInt64Array(rows * seq).fill(big[this.padId]!);
    const attentionMask = new BigInt64Array(rows * seq);
    for (let r = 0; r < rows; r++) {
      const base = r * seq;
      const len = lengths[r]!;
      inputIds[base] = big[this.clsId]!;
      for (let j = 1; j < len - 1; j++) inputIds[base + j] = big[ids[r * body + j - 1]!]!;
      inputIds[base + len - 1] = big[this.sepId]!;
      attentionMask.fill(1n, base, base + len);
    }
    return { inputIds, attentionMask, rows, seq, lengths };
  }
}
