// Named fields of structured text (JSON, YAML, .env/.properties/INI) whose name is in the
// column dictionary (`"passport_number": "A9624097"`, `surname: Okafor`): the byte range of
// each value, for anonymize. Values no content rule can validate (a name, a passport number)
// are personal data because of the field that holds them, as in a CSV column.
import type { ColumnDictionary } from './rules.js';
import { normaliseHeader } from './columns.js';

export interface FieldSpan {
  /** The field name as written, and the dictionary type it maps to. */
  name: string;
  type: string;
  /** The value's byte range [start, end): inside its quotes when quoted. */
  start: number;
  end: number;
  /** A bare JSON number: a replacement must be quoted to keep the JSON valid. */
  jsonNumber: boolean;
}

// "key": "value" | "key": 123.4 (JSON, one value per match; escaped quotes allowed in the value).
const JSON_FIELD = /"([^"\\\n]{1,64})"[ \t]*:[ \t]*(?:"((?:[^"\\\n]|\\.)*)"|(-?[0-9]+(?:\.[0-9]+)?)(?=[ \t]*[,}\n\r]))/g;
// key: value | key = value at the start of a line (YAML, .env, INI), optionally a YAML list item.
const LINE_FIELD = /^([ \t]*(?:-[ \t]+)?)([A-Za-z_][A-Za-z0-9_.-]{0,63})[ \t]*[:=][ \t]*([^\n]*)$/gm;

function lookup(dict: ColumnDictionary, name: string): string | undefined {
  const k = normaliseHeader(name);
  return dict.strong.get(k) ?? dict.weak.get(k);
}

/** The value part of `key: value` in a line: unquoted, without a trailing comment; undefined when it is not a scalar. */
function scalar(from: number, raw: string): { start: number; end: number } | undefined {
  let v = raw.replace(/\r$/, '');
  if (v === '' || /^[{[|>&*!#]/.test(v)) return undefined;
  const start = from;
  const q = v[0];
  if (q === '"' || q === "'") {
    const close = v.indexOf(q, 1);
    if (close < 0) return undefined;
    return close > 1 ? { start: start + 1, end: start + close } : undefined;
  }
  const hash = v.search(/[ \t]#/);
  if (hash >= 0) v = v.slice(0, hash);
  v = v.replace(/[ \t,]+$/, '');
  if (v === '' || /^(?:null|~|true|false|yes|no)$/i.test(v)) return undefined;
  return { start, end: start + v.length };
}

/**
 * Values of dictionary-named fields in buf (read as Latin-1, so string offsets are byte
 * offsets). Empty values, nested objects and lists, and YAML null/booleans are skipped.
 */
export function fieldSpans(buf: Buffer, dict: ColumnDictionary): FieldSpan[] {
  const text = buf.toString('latin1');
  const out: FieldSpan[] = [];
  for (const m of text.matchAll(JSON_FIELD)) {
    const type = lookup(dict, m[1]!);
    if (!type) continue;
    const value = m[2] ?? m[3]!;
    if (value.trim() === '') continue;
    const end = m.index! + m[0].length - (m[2] !== undefined ? 1 : 0);
    out.push({ name: m[1]!, type, start: end - value.length, end, jsonNumber: m[3] !== undefined });
  }
  for (const m of text.matchAll(LINE_FIELD)) {
    // A JSON line ("key": ...) starts with a quote and never matches here.
    const type = lookup(dict, m[2]!);
    if (!type) continue;
    const valueAt = m.index! + m[0].length - m[3]!.length;
    const v = scalar(valueAt, m[3]!);
    if (v) out.push({ name: m[2]!, type, start: v.start, end: v.end, jsonNumber: false });
  }
  return out.sort((a, b) => a.start - b.start);
}
