// Standard BERT tokenisation for any vocab.txt: basic tokenizer (clean, CJK split, lowercase
// and strip accents, punctuation split) then greedy longest-match WordPiece with ##subwords,
// then [CLS] … [SEP] chunks of at most maxLength with attention mask (token_type_ids are all
// zero for one segment; the worker allocates them only for models that declare them).
// The Python twin (model/tokenizer.py) produced the shipped model's training ids; the two are
// pinned together by test/fixtures/embed/tokenizer-cases.json, and the encoder's fused loop is
// checked against the plain algorithm on random text by test/classify/embed-tokenizer-fast.test.ts.

import { readFileSync } from 'node:fs';
import { isAsciiPunct, isCjk, isDropped, isSeparator, wordPieces } from './basic-chars.js';
import { chunkRows, rowsFor, type IdSpan, type Int64Rows } from './int64-rows.js';
import { VocabTrie } from './vocab-trie.js';
import { foldUnit, WORD_HASH_SEED, WordTable } from './word-table.js';

export interface TokenizerOptions {
  lowercase?: boolean;
  /** Longest sequence including [CLS] and [SEP] (BERT: 512). */
  maxLength?: number;
}

export type EncodedBatch = Int64Rows;

const MAX_WORD_CHARS = 100;

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
    if (isDropped(cp, ch)) continue;
    if (isSeparator(cp, ch)) {
      flush();
      continue;
    }
    if (isCjk(cp)) {
      flush();
      out.push(ch);
      continue;
    }
    for (const p of wordPieces(ch, lowercase)) {
      if (p.punct) {
        flush();
        out.push(p.text);
      } else cur += p.text;
    }
  }
  flush();
}

// What the basic tokenizer does with a character.
const DROP = 0;
const SEPARATE = 1;
const ALONE = 2;
const WORD = 3;

// Per-tokenizer table of ASCII codes: ≥ 0 is the (lowercased) unit a word character adds;
// below zero, one of these, or ASCII_ALONE_BASE - id for punctuation that is the token `id`.
const ASCII_DROP = -1;
const ASCII_SEPARATE = -2;
const ASCII_ALONE_BASE = -3;

/**
 * What the basic tokenizer does with one non-ASCII code point. For WORD, `steps` are code units
 * to append to the current word, or -(id + 1) for a punctuation mark that ends the word and is
 * a token of its own (id already looked up).
 */
interface CharAction {
  kind: typeof DROP | typeof SEPARATE | typeof ALONE | typeof WORD;
  /** ALONE: the token id of the character. */
  id: number;
  steps: number[];
}

// Distinct non-ASCII characters are few in practice; the bound only caps memory on odd input.
const ACTION_CACHE_LIMIT = 65_536;

function isHighSurrogate(u: number): boolean {
  return u >= 0xd800 && u <= 0xdbff;
}

function isLowSurrogate(u: number): boolean {
  return u >= 0xdc00 && u <= 0xdfff;
}

/** Code points of word[0..len), counted as Array.from counts them (a lone surrogate is one). */
function codePoints(word: Uint16Array, len: number): number {
  let n = len;
  for (let i = 1; i < len; i++) if (isLowSurrogate(word[i]!) && isHighSurrogate(word[i - 1]!)) n--;
  return n;
}

export class WordPieceTokenizer {
  readonly lowercase: boolean;
  readonly maxLength: number;
  readonly clsId: number;
  readonly sepId: number;
  readonly padId: number;
  readonly unkId: number;
  private readonly trie: VocabTrie;
  private readonly words: WordTable;
  /** What each ASCII code does (see ASCII_DROP): one load decides a character of plain text. */
  private readonly asciiActions = new Int32Array(128);
  private readonly actions = new Map<number, CharAction>();
  // Scratch reused by every encode (the worker tokenises one text at a time): the ids so far
  // and the current word's code units, so no string is built per word.
  private ids: Int32Array = new Int32Array(16_384);
  private count = 0;
  private word: Uint16Array = new Uint16Array(256);
  private wordLen = 0;
  private wordHash = WORD_HASH_SEED;

  constructor(readonly vocab: Map<string, number>, opts: TokenizerOptions = {}) {
    this.lowercase = opts.lowercase ?? true;
    this.maxLength = opts.maxLength ?? 512;
    if (this.maxLength < 3) throw new TokenizerError('maxLength must leave room for [CLS] and [SEP]');
    for (const [token, id] of vocab) {
      // Ids are stored as 32-bit halves of the int64 inputs.
      if (!Number.isInteger(id) || id < 0 || id > 0x7fffffff) throw new TokenizerError(`vocab id of ${JSON.stringify(token)} is not a line number: ${id}`);
    }
    this.clsId = vocab.get('[CLS]')!;
    this.sepId = vocab.get('[SEP]')!;
    this.padId = vocab.get('[PAD]') ?? 0;
    this.unkId = vocab.get('[UNK]')!;
    this.trie = new VocabTrie(vocab);
    this.words = new WordTable(vocab);
    for (let c = 0; c < 128; c++) {
      const ch = String.fromCharCode(c);
      this.asciiActions[c] = isSeparator(c, ch)
        ? ASCII_SEPARATE
        : isDropped(c, ch)
          ? ASCII_DROP
          : isAsciiPunct(c)
            ? ASCII_ALONE_BASE - (vocab.get(ch) ?? this.unkId)
            : this.lowercase && c >= 65 && c <= 90
              ? c + 32
              : c;
    }
  }

  static fromFile(vocabFile: string, opts: TokenizerOptions = {}): WordPieceTokenizer {
    return new WordPieceTokenizer(readVocab(vocabFile), opts);
  }

  /** Piece ids of one basic token (greedy longest match; the whole word is [UNK] if any part fails). */
  wordPiece(word: string): number[] {
    const units = new Uint16Array(word.length);
    let hash = WORD_HASH_SEED;
    for (let i = 0; i < word.length; i++) {
      units[i] = word.charCodeAt(i);
      hash = foldUnit(hash, units[i]!);
    }
    this.count = 0;
    if (word.length > 0) this.endWord(units, word.length, hash);
    return Array.from(this.ids.subarray(0, this.count));
  }

  /** Token ids of `text` without [CLS]/[SEP]. */
  encode(text: string): number[] {
    this.count = 0;
    this.appendIds(text);
    return Array.from(this.ids.subarray(0, this.count));
  }

  /**
   * `text` as [CLS] … [SEP] rows of at most maxLength tokens, at most maxChunks rows (the rest
   * is dropped: the caller's byte budget should already have bounded it), padded into one batch.
   */
  encodeChunks(text: string, maxChunks = Infinity): EncodedBatch {
    return this.encodeBatch([text], maxChunks);
  }

  /**
   * Several texts' chunks as one padded batch (what encodeChunks gives each, padded to the
   * longest row). A text may be UTF-8 bytes: tokenised as they are, without building the string.
   */
  encodeBatch(texts: readonly (string | Uint8Array)[], maxChunks = Infinity): EncodedBatch {
    if (texts.length === 0) throw new TokenizerError('a batch needs at least one text');
    return this.encodeBatches(texts, maxChunks, Infinity)[0]!;
  }

  /**
   * The texts' chunks as consecutive padded batches of at most `rowsPerBatch` rows (a text
   * with more rows has a batch of its own; a text's rows are never split between batches).
   */
  encodeBatches(texts: readonly (string | Uint8Array)[], maxChunks = Infinity, rowsPerBatch = Infinity): EncodedBatch[] {
    this.count = 0;
    const body = this.maxLength - 2;
    const groups: IdSpan[][] = [[]];
    let rows = 0;
    for (const text of texts) {
      const start = this.count;
      this.appendIds(text);
      const span = { start, count: this.count - start };
      const r = rowsFor(span.count, body, maxChunks);
      if (groups[groups.length - 1]!.length > 0 && rows + r > rowsPerBatch) {
        groups.push([]);
        rows = 0;
      }
      groups[groups.length - 1]!.push(span);
      rows += r;
    }
    const special = { cls: this.clsId, sep: this.sepId, pad: this.padId };
    return groups.filter((spans) => spans.length > 0).map((spans) => chunkRows(this.ids, spans, body, maxChunks, special));
  }

  /**
   * Basic tokenizer and WordPiece fused into one pass over the char codes (of a string, or the
   * bytes of UTF-8): each word is collected into `word` while its hash is folded in, so a word
   * that is a vocab entry (the common case) costs one table probe at its end. Appends to
   * this.ids[0..this.count).
   */
  private appendIds(text: string | Uint8Array): void {
    this.wordLen = 0;
    this.wordHash = WORD_HASH_SEED;
    if (typeof text === 'string') this.scanString(text);
    else this.scanUtf8(text);
    if (this.wordLen > 0) this.endWord(this.word, this.wordLen, this.wordHash);
  }

  // The two scanners differ only in where char codes come from; ASCII is handled inline with
  // the word in locals, runs of other characters by appendNonAscii with the word in fields.

  private scanString(text: string): void {
    const ascii = this.asciiActions;
    let word: Uint16Array = this.word;
    let len = this.wordLen;
    let hash = this.wordHash;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c < 128) {
        const a = ascii[c]!;
        if (a >= 0) {
          if (len === word.length) word = this.growWord();
          word[len++] = a;
          hash = foldUnit(hash, a);
        } else if (a !== ASCII_DROP) {
          if (len > 0) {
            this.endWord(word, len, hash);
            len = 0;
            hash = WORD_HASH_SEED;
          }
          if (a !== ASCII_SEPARATE) this.push(ASCII_ALONE_BASE - a);
        }
        continue;
      }
      let end = i + 1;
      while (end < text.length && text.charCodeAt(end) >= 128) end++;
      this.wordLen = len;
      this.wordHash = hash;
      this.appendNonAscii(text, i, end);
      word = this.word;
      len = this.wordLen;
      hash = this.wordHash;
      i = end - 1;
    }
    this.wordLen = len;
    this.wordHash = hash;
  }

  private scanUtf8(bytes: Uint8Array): void {
    const ascii = this.asciiActions;
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let word: Uint16Array = this.word;
    let len = this.wordLen;
    let hash = this.wordHash;
    for (let i = 0; i < bytes.length; i++) {
      const c = bytes[i]!;
      if (c < 128) {
        const a = ascii[c]!;
        if (a >= 0) {
          if (len === word.length) word = this.growWord();
          word[len++] = a;
          hash = foldUnit(hash, a);
        } else if (a !== ASCII_DROP) {
          if (len > 0) {
            this.endWord(word, len, hash);
            len = 0;
            hash = WORD_HASH_SEED;
          }
          if (a !== ASCII_SEPARATE) this.push(ASCII_ALONE_BASE - a);
        }
        continue;
      }
      let end = i + 1;
      while (end < bytes.length && bytes[end]! >= 128) end++;
      // An ASCII byte is never part of a multi-byte sequence, so this run decodes on its own to
      // the characters (U+FFFD for malformed bytes) that decoding the whole document gives.
      const run = buf.toString('utf8', i, end);
      this.wordLen = len;
      this.wordHash = hash;
      this.appendNonAscii(run, 0, run.length);
      word = this.word;
      len = this.wordLen;
      hash = this.wordHash;
      i = end - 1;
    }
    this.wordLen = len;
    this.wordHash = hash;
  }

  /** The characters text[from..to), none of them ASCII, onto the word in this.word/wordLen/wordHash. */
  private appendNonAscii(text: string, from: number, to: number): void {
    for (let i = from; i < to; i++) {
      const c = text.charCodeAt(i);
      let cp = c;
      if (isHighSurrogate(c) && i + 1 < to && isLowSurrogate(text.charCodeAt(i + 1))) {
        cp = ((c - 0xd800) << 10) + (text.charCodeAt(i + 1) - 0xdc00) + 0x10000;
        i++;
      }
      const act = this.actions.get(cp) ?? this.learn(cp);
      if (act.kind === DROP) continue;
      if (act.kind !== WORD) {
        this.breakWord();
        if (act.kind === ALONE) this.push(act.id);
        continue;
      }
      for (const step of act.steps) {
        if (step >= 0) {
          if (this.wordLen === this.word.length) this.growWord();
          this.word[this.wordLen++] = step;
          this.wordHash = foldUnit(this.wordHash, step);
        } else {
          this.breakWord();
          this.push(-step - 1);
        }
      }
    }
  }

  /** Ends the word in the fields, if any. */
  private breakWord(): void {
    if (this.wordLen === 0) return;
    this.endWord(this.word, this.wordLen, this.wordHash);
    this.wordLen = 0;
    this.wordHash = WORD_HASH_SEED;
  }

  /** Emits the ids of word[0..len), whose folded hash is `hash`. */
  private endWord(word: Uint16Array, len: number, hash: number): void {
    // Length in code units bounds the code points, so most words skip the count.
    if (len > MAX_WORD_CHARS && codePoints(word, len) > MAX_WORD_CHARS) {
      this.push(this.unkId);
      return;
    }
    const whole = this.words.lookup(word, len, hash);
    if (whole >= 0) this.push(whole);
    else this.pieces(word, len);
  }

  /** Greedy longest-match-first WordPiece of word[0..len); the whole word is [UNK] if a piece is missing. */
  private pieces(word: Uint16Array, len: number): void {
    const trie = this.trie;
    const mark = this.count;
    let start = 0;
    while (start < len) {
      let node = start === 0 ? trie.root : trie.continuation;
      let end = -1;
      let id = -1;
      for (let j = start; j < len && node >= 0; j++) {
        node = trie.child(node, word[j]!);
        if (node < 0) break;
        const found = trie.idAt(node);
        // A piece ends between code points, never inside a surrogate pair (as with Array.from).
        if (found >= 0 && !(j + 1 < len && isHighSurrogate(word[j]!) && isLowSurrogate(word[j + 1]!))) {
          end = j + 1;
          id = found;
        }
      }
      if (end < 0) {
        this.count = mark;
        this.push(this.unkId);
        return;
      }
      this.push(id);
      start = end;
    }
  }

  private push(id: number): void {
    if (this.count === this.ids.length) {
      const bigger = new Int32Array(this.ids.length * 2);
      bigger.set(this.ids);
      this.ids = bigger;
    }
    this.ids[this.count++] = id;
  }

  private growWord(): Uint16Array {
    const bigger = new Uint16Array(this.word.length * 2);
    bigger.set(this.word);
    this.word = bigger;
    return bigger;
  }

  /** Works out (once) what the basic tokenizer does with the non-ASCII code point `cp`. */
  private learn(cp: number): CharAction {
    const ch = String.fromCodePoint(cp);
    let act: CharAction;
    if (isDropped(cp, ch)) act = { kind: DROP, id: -1, steps: [] };
    else if (isSeparator(cp, ch)) act = { kind: SEPARATE, id: -1, steps: [] };
    else if (isCjk(cp)) act = { kind: ALONE, id: this.vocab.get(ch) ?? this.unkId, steps: [] };
    else {
      const steps: number[] = [];
      for (const p of wordPieces(ch, this.lowercase)) {
        if (p.punct) steps.push(-(this.vocab.get(p.text) ?? this.unkId) - 1);
        else for (let k = 0; k < p.text.length; k++) steps.push(p.text.charCodeAt(k));
      }
      act = { kind: WORD, id: -1, steps };
    }
    if (this.actions.size >= ACTION_CACHE_LIMIT) this.actions.clear();
    this.actions.set(cp, act);
    return act;
  }
}
