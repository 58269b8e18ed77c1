// Encodings: json.*, yaml.*, base64*, hex.*, urlquery.*. Unmarshalled JSON keeps
// big integers exact.

import { parse as parseYaml, stringify as yamlStringify } from 'yaml';
import { BuiltinError } from '../errors.js';
import { parseJSON } from '../json.js';
import { RSet, type Value, compare, fromJS, isObj, objEntries, stringify, toJSON } from '../value.js';
import { obj, str, typeErr } from './args.js';
import { type BuiltinTable, def } from './types.js';

function b64valid(s: string, url: boolean): boolean {
  return url ? /^[A-Za-z0-9_-]*={0,2}$/.test(s) : /^[A-Za-z0-9+/]*={0,2}$/.test(s) && s.length % 4 === 0;
}

function indentJSON(v: Value, prefix: string, indent: string, depth = 0): string {
  const pad = prefix + indent.repeat(depth + 1);
  const close = prefix + indent.repeat(depth);
  if (Array.isArray(v) || v instanceof RSet) {
    const xs = Array.isArray(v) ? v : v.sorted();
    if (!xs.length) return '[]';
    return '[\n' + xs.map((x) => pad + indentJSON(x, prefix, indent, depth + 1)).join(',\n') + '\n' + close + ']';
  }
  if (isObj(v)) {
    const es = [...objEntries(v)].sort((a, b) => compare(a[0], b[0]));
    if (!es.length) return '{}';
    return '{\n' + es.map(([k, x]) => pad + (typeof k === 'string' ? JSON.stringify(k) : JSON.stringify(stringify(k))) + ': ' + indentJSON(x, prefix, indent, depth + 1)).join(',\n') + '\n' + close + '}';
  }
  return stringify(v);
}

function urlEncode(s: string): string {
  // Go's url.QueryEscape: space → +, keep unreserved.
  return encodeURIComponent(s).replace(/%20/g, '+').replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

export function register(t: BuiltinTable): void {
  def(t, 'json.marshal', 1, ([v]) => stringify(v!));
  def(t, 'json.marshal_with_options', 2, ([v, o]) => {
    const opts = obj(o!, 2);
    let prefix = '';
    let indent = '\t';
    let pretty = false;
    let sawFmt = false;
    for (const [k, x] of objEntries(opts)) {
      if (k === 'prefix') {
        if (typeof x !== 'string') throw new BuiltinError(`"prefix" option must be a string, got ${typeof x}`);
        prefix = x;
        sawFmt = true;
      } else if (k === 'indent') {
        if (typeof x !== 'string') throw new BuiltinError(`"indent" option must be a string, got ${typeof x}`);
        indent = x;
        sawFmt = true;
      } else if (k === 'pretty') {
        if (typeof x !== 'boolean') throw new BuiltinError(`"pretty" option must be a boolean, got ${typeof x}`);
        pretty = x;
      } else throw new BuiltinError(`object contained unknown key ${stringify(k)}`, true);
    }
    if (!pretty && !(sawFmt && !opts.hasOwnProperty('pretty'))) return stringify(v!);
    return prefix + indentJSON(v!, prefix, indent);
  });
  def(t, 'json.unmarshal', 1, ([s]) => {
    const text = str(s!, 1);
    try {
      return parseJSON(text);
    } catch (e) {
      throw new BuiltinError(`invalid character: ${(e as Error).message}`);
    }
  });
  def(t, 'json.is_valid', 1, ([s]) => {
    if (typeof s !== 'string') return false;
    try {
      parseJSON(s);
      return true;
    } catch {
      return false;
    }
  });
  def(t, 'yaml.marshal', 1, ([v]) => yamlStringify(toJSON(v!)));
  def(t, 'yaml.unmarshal', 1, ([s]) => {
    try {
      return fromJS(parseYaml(str(s!, 1), { intAsBigInt: true }));
    } catch (e) {
      throw new BuiltinError(`yaml: ${(e as Error).message}`);
    }
  });
  def(t, 'yaml.is_valid', 1, ([s]) => {
    if (typeof s !== 'string') return false;
    try {
      parseYaml(s);
      return true;
    } catch {
      return false;
    }
  });
  def(t, 'base64.encode', 1, ([s]) => Buffer.from(str(s!, 1), 'utf8').toString('base64'));
  def(t, 'base64.decode', 1, ([s]) => {
    const x = str(s!, 1);
    if (!b64valid(x, false)) throw new BuiltinError('illegal base64 data at input byte ' + Math.max(0, x.search(/[^A-Za-z0-9+/=]/)));
    return Buffer.from(x, 'base64').toString('utf8');
  });
  def(t, 'base64.is_valid', 1, ([s]) => b64valid(str(s!, 1), false));
  def(t, 'base64url.encode', 1, ([s]) => Buffer.from(str(s!, 1), 'utf8').toString('base64url').padEnd(Math.ceil(Buffer.byteLength(s as string) / 3) * 4, '='));
  def(t, 'base64url.encode_no_pad', 1, ([s]) => Buffer.from(str(s!, 1), 'utf8').toString('base64url'));
  def(t, 'base64url.decode', 1, ([s]) => {
    const x = str(s!, 1);
    if (!b64valid(x, true)) throw new BuiltinError('illegal base64 data at input byte ' + Math.max(0, x.search(/[^A-Za-z0-9_=-]/)));
    return Buffer.from(x, 'base64url').toString('utf8');
  });
  def(t, 'hex.encode', 1, ([s]) => Buffer.from(str(s!, 1), 'utf8').toString('hex'));
  def(t, 'hex.decode', 1, ([s]) => {
    const x = str(s!, 1);
    const bad = x.search(/[^0-9a-fA-F]/);
    if (bad >= 0) {
      const cp = x.codePointAt(bad)!;
      throw new BuiltinError(`encoding/hex: invalid byte: U+${cp.toString(16).toUpperCase().padStart(4, '0')} ${JSON.stringify(String.fromCodePoint(cp)).replace(/^"|"$/g, "'")}`);
    }
    if (x.length % 2) throw new BuiltinError('encoding/hex: odd length hex string');
    return Buffer.from(x, 'hex').toString('utf8');
  });
  def(t, 'urlquery.encode', 1, ([s]) => urlEncode(str(s!, 1)));
  def(t, 'urlquery.decode', 1, ([s]) => {
    try {
      return decodeURIComponent(str(s!, 1).replace(/\+/g, ' '));
    } catch {
      throw new BuiltinError(`invalid URL escape ${JSON.stringify(s)}`);
    }
  });
  def(t, 'urlquery.encode_object', 1, ([o]) => {
    const parts: string[] = [];
    const es = [...objEntries(obj(o!, 1))].sort((a, b) => compare(a[0], b[0]));
    for (const [k, v] of es) {
      if (typeof k !== 'string') throw typeErr(1, 'object[string: any]', o!);
      const vals = typeof v === 'string' ? [v] : Array.isArray(v) || v instanceof RSet ? [...(Array.isArray(v) ? v : v.sorted())] : null;
      if (!vals) throw typeErr(1, 'object[string: string|array|set]', o!);
      for (const x of vals) parts.push(urlEncode(k) + '=' + urlEncode(String(x)));
    }
    return parts.join('&');
  });
  def(t, 'urlquery.decode_object', 1, ([s]) => {
    const out: Record<string, Value[]> = {};
    for (const part of str(s!, 1).split(/[&;]/)) {
      if (!part) continue;
      const [k, v = ''] = part.split('=');
      const dk = decodeURIComponent(k!.replace(/\+/g, ' '));
      (out[dk] ??= []).push(decodeURIComponent(v.replace(/\+/g, ' ')));
    }
    return out;
  });
}
