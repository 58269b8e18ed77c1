// What BERT's basic tokenizer does with one character, shared by basicTokenize (strings) and
// the WordPiece encoder (char codes). Every decision depends on the character alone, so the
// encoder can work out each distinct non-ASCII character once and reuse the answer.

const CONTROL = /^[\p{Cc}\p{Cf}]$/u;
const SPACE_SEP = /^\p{Zs}$/u;
const PUNCT = /^\p{P}$/u;
const MARK = /^\p{Mn}$/u;

export function isCjk(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) || (cp >= 0x2b740 && cp <= 0x2b81f) || (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

export function isAsciiPunct(cp: number): boolean {
  return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126);
}

/** A character the basic tokenizer drops (U+FFFD, control and format characters other than whitespace). */
export function isDropped(cp: number, ch: string): boolean {
  if (cp < 128) return (cp < 32 && cp !== 9 && cp !== 10 && cp !== 13) || cp === 127;
  return cp === 0xfffd || CONTROL.test(ch);
}

/** A character that separates words without being a token. */
export function isSeparator(cp: number, ch: string): boolean {
  if (cp < 128) return cp === 32 || cp === 9 || cp === 10 || cp === 13;
  return SPACE_SEP.test(ch);
}

export interface CharPiece {
  /** One code point (one or two UTF-16 units) as the tokenizer sees it. */
  text: string;
  /** A punctuation mark: a token of its own. */
  punct: boolean;
}

/**
 * The code points a word-character becomes after lowercasing, NFD and dropping combining
 * marks (or itself when not lowercasing), each marked if it is punctuation.
 * Not for dropped, separator or CJK characters, which never reach a word.
 */
export function wordPieces(ch: string, lowercase: boolean): CharPiece[] {
  const out: CharPiece[] = [];
  const pieces = lowercase ? ch.toLowerCase().normalize('NFD') : ch;
  for (const c of pieces) {
    if (lowercase && MARK.test(c)) continue;
    const cp = c.codePointAt(0)!;
    out.push({ text: c, punct: cp < 128 ? isAsciiPunct(cp) : PUNCT.test(c) });
  }
  return out;
}
