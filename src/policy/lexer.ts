// Rego lexer: turns a Source into tokens, each carrying its offset and whether a
// newline preceded it (Rego separates body expressions by newlines or `;`).

import { PolicyError } from './errors.js';
import type { Source } from './source.js';

export type TokKind = 'ident' | 'string' | 'number' | 'punct' | 'template' | 'eof';

export interface Token {
  kind: TokKind;
  /** Identifier name, punctuation text, number text, or a decoded string value. */
  text: string;
  offset: number;
  /** True when at least one newline separates this token from the previous one. */
  nl: boolean;
  /** For raw (backquoted) strings. */
  raw?: boolean;
  /** For template strings: literal parts and embedded expression sources (with their offsets). */
  parts?: Array<{ lit: string } | { expr: string; offset: number }>;
}

const PUNCT3 = new Set<string>([]);
const PUNCT2 = new Set([':=', '==', '!=', '<=', '>=']);
const PUNCT1 = new Set(['{', '}', '[', ']', '(', ')', '.', ',', ';', ':', '=', '<', '>', '+', '-', '*', '/', '%', '&', '|']);

function isIdentStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}
function isIdentPart(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57);
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

export function lex(src: Source): Token[] {
  const s = src.text;
  const out: Token[] = [];
  let i = 0;
  let nl = true;
  const fail = (msg: string, at: number): never => {
    throw new PolicyError('rego_parse_error', msg, src.locationAt(at));
  };
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 10) {
      nl = true;
      i++;
      continue;
    }
    if (c === 32 || c === 9 || c === 13) {
      i++;
      continue;
    }
    if (c === 35) {
      while (i < s.length && s.charCodeAt(i) !== 10) i++;
      continue;
    }
    const start = i;
    if (isIdentStart(c)) {
      while (i < s.length && isIdentPart(s.charCodeAt(i))) i++;
      out.push({ kind: 'ident', text: s.slice(start, i), offset: start, nl });
    } else if (isDigit(c)) {
      while (i < s.length && isDigit(s.charCodeAt(i))) i++;
      if (s[i] === '.' && isDigit(s.charCodeAt(i + 1))) {
        i++;
        while (i < s.length && isDigit(s.charCodeAt(i))) i++;
      }
      if (s[i] === 'e' || s[i] === 'E') {
        let j = i + 1;
        if (s[j] === '+' || s[j] === '-') j++;
        if (isDigit(s.charCodeAt(j))) {
          i = j;
          while (i < s.length && isDigit(s.charCodeAt(i))) i++;
        }
      }
      out.push({ kind: 'number', text: s.slice(start, i), offset: start, nl });
    } else if (c === 34) {
      const { value, end } = readString(s, i, fail);
      i = end;
      out.push({ kind: 'string', text: value, offset: start, nl });
    } else if (c === 96) {
      const end = s.indexOf('`', i + 1);
      if (end < 0) fail('non-terminated raw string', start);
      out.push({ kind: 'string', text: s.slice(i + 1, end), offset: start, nl, raw: true });
      i = end + 1;
    } else if (c === 36 && (s[i + 1] === '"' || s[i + 1] === '`')) {
      const t = readTemplate(s, i, fail);
      i = t.end;
      out.push({ kind: 'template', text: '', offset: start, nl, parts: t.parts });
    } else {
      const three = s.slice(i, i + 3);
      const two = s.slice(i, i + 2);
      if (PUNCT3.has(three)) {
        out.push({ kind: 'punct', text: three, offset: start, nl });
        i += 3;
      } else if (PUNCT2.has(two)) {
        out.push({ kind: 'punct', text: two, offset: start, nl });
        i += 2;
      } else if (PUNCT1.has(s[i]!)) {
        out.push({ kind: 'punct', text: s[i]!, offset: start, nl });
        i += 1;
      } else {
        fail(`illegal token: ${JSON.stringify(s[i])}`, start);
      }
    }
    nl = false;
  }
  out.push({ kind: 'eof', text: '', offset: s.length, nl: true });
  return out;
}

/**
 * The engine's unique (internalized) copy of a string. A literal built character by character
 * is a rope; every hash or comparison of a rope walks it. Internalized, the constant is flat and
 * compares by identity with every equal constant, the generated code's literals included.
 */
export function intern(s: string): string {
  const o: Record<string, 0> = { [s]: 0 };
  for (const k in o) return k;
  return s;
}

function readString(s: string, i: number, fail: (m: string, at: number) => never): { value: string; end: number } {
  const start = i;
  i++;
  let value = '';
  while (true) {
    if (i >= s.length || s[i] === '\n') fail('non-terminated string', start);
    const ch = s[i]!;
    if (ch === '"') return { value: intern(value), end: i + 1 };
    if (ch === '\\') {
      const e = s[i + 1];
      switch (e) {
        case '"': value += '"'; break;
        case '\\': value += '\\'; break;
        case '/': value += '/'; break;
        case 'b': value += '\b'; break;
        case 'f': value += '\f'; break;
        case 'n': value += '\n'; break;
        case 'r': value += '\r'; break;
        case 't': value += '\t'; break;
        case 'u': {
          const hex = s.slice(i + 2, i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('illegal unicode escape in string', i);
          value += String.fromCharCode(parseInt(hex, 16));
          i += 4;
          break;
        }
        default:
          fail(`illegal escape sequence in string: \\${e ?? ''}`, i);
      }
      i += 2;
      continue;
    }
    value += ch;
    i++;
  }
}

/** `$"a {expr} b"` or `` $`...` ``: literal parts and embedded expressions; `\{` escapes a brace. */
function readTemplate(
  s: string,
  i: number,
  fail: (m: string, at: number) => never,
): { parts: Array<{ lit: string } | { expr: string; offset: number }>; end: number } {
  const start = i;
  const raw = s[i + 1] === '`';
  const q = raw ? '`' : '"';
  i += 2;
  const parts: Array<{ lit: string } | { expr: string; offset: number }> = [];
  let lit = '';
  while (true) {
    if (i >= s.length || (!raw && s[i] === '\n')) fail('non-terminated template string', start);
    const ch = s[i]!;
    if (ch === q) {
      if (lit) parts.push({ lit });
      return { parts, end: i + 1 };
    }
    if (ch === '\\' && !raw) {
      const e = s[i + 1]!;
      if (e === '{' || e === '}') {
        lit += e;
        i += 2;
        continue;
      }
      const { value } = readString(`"${s.slice(i, i + (e === 'u' ? 6 : 2))}"`, 0, () => fail('illegal escape in template string', i));
      lit += value;
      i += e === 'u' ? 6 : 2;
      continue;
    }
    if (ch === '\\' && raw && (s[i + 1] === '{' || s[i + 1] === '}')) {
      lit += s[i + 1];
      i += 2;
      continue;
    }
    if (ch === '{') {
      if (lit) parts.push({ lit });
      lit = '';
      let depth = 1;
      let j = i + 1;
      while (j < s.length && depth > 0) {
        const cj = s[j]!;
        if (cj === '"') {
          j = readString(s, j, fail).end;
          continue;
        }
        if (cj === '{') depth++;
        else if (cj === '}') depth--;
        j++;
      }
      if (depth !== 0) fail('non-terminated template expression', i);
      parts.push({ expr: s.slice(i + 1, j - 1), offset: i + 1 });
      i = j;
      continue;
    }
    lit += ch;
    i++;
  }
}
