// JSON text → Value keeping integers beyond 2^53 exact (bigint), which
// JSON.parse cannot do on Node 20. Used for data documents and CLI input.

import { type PlainObj, type Value, parseNumber } from './value.js';

export function parseJSON(text: string): Value {
  let i = 0;
  const n = text.length;
  const fail = (msg: string): never => {
    const before = text.slice(0, i);
    const line = before.split('\n').length;
    const col = i - before.lastIndexOf('\n');
    throw new SyntaxError(`${msg} at line ${line} column ${col}`);
  };
  const ws = (): void => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++;
      else break;
    }
  };
  const value = (): Value => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const o: PlainObj = {};
      ws();
      if (text[i] === '}') {
        i++;
        return o;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected string key');
        const k = string();
        ws();
        if (text[i] !== ':') fail('expected :');
        i++;
        o[k] = value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return o;
        }
        fail('expected , or }');
      }
    }
    if (c === '[') {
      i++;
      const a: Value[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return a;
      }
      for (;;) {
        a.push(value());
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return a;
        }
        fail('expected , or ]');
      }
    }
    if (c === '"') return string();
    if (text.startsWith('true', i)) {
      i += 4;
      return true;
    }
    if (text.startsWith('false', i)) {
      i += 5;
      return false;
    }
    if (text.startsWith('null', i)) {
      i += 4;
      return null;
    }
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) return fail('unexpected character');
    i += m[0].length;
    return parseNumber(m[0]);
  };
  const string = (): string => {
    const start = i;
    i++;
    let simple = true;
    while (i < n && text[i] !== '"') {
      if (text[i] === '\\') {
        simple = false;
        i++;
      }
      i++;
    }
    if (i >= n) fail('unterminated string');
    i++;
    const raw = text.slice(start, i);
    return simple ? raw.slice(1, -1) : (JSON.parse(raw) as string);
  };
  const v = value();
  ws();
  if (i < n) fail('unexpected trailing data');
  return v;
}

/** Indented JSON text of a JSON-shaped JS value, writing bigints as exact numbers. */
export function prettyJSON(v: unknown, indent = '  ', depth = 0): string {
  const pad = indent.repeat(depth + 1);
  const close = indent.repeat(depth);
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) {
    if (!v.length) return '[]';
    return '[\n' + v.map((x) => pad + prettyJSON(x, indent, depth + 1)).join(',\n') + '\n' + close + ']';
  }
  if (v && typeof v === 'object') {
    const ks = Object.keys(v);
    if (!ks.length) return '{}';
    return '{\n' + ks.map((k) => pad + JSON.stringify(k) + ': ' + prettyJSON((v as Record<string, unknown>)[k], indent, depth + 1)).join(',\n') + '\n' + close + '}';
  }
  return v === undefined ? 'null' : JSON.stringify(v);
}
