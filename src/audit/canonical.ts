// The single place an audit record becomes bytes: RFC 8785 (JSON Canonicalization Scheme)
// via the `canonicalize` package, after a strict normalisation that makes every input
// either exactly representable or a loud AuditRecordError. Spool, PostgreSQL, verify and
// reports all go through here, so a record read back from anywhere re-encodes identically.
import { createRequire } from 'node:module';
import { AuditRecordError } from './types.js';

// `canonicalize` is CommonJS (module.exports = fn) but its typings declare an ES default export,
// which NodeNext resolution types as the namespace; require() gets the function unambiguously.
const canonicalizeJcs = createRequire(import.meta.url)('canonicalize') as (v: unknown) => string | undefined;

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

/**
 * Turn an arbitrary value into plain JSON data with one meaning:
 * - bigint → decimal string (JSON numbers above 2^53 would silently round: inode numbers do);
 * - Date → its ISO string; undefined object members are dropped, undefined array items are null
 *   (what JSON.stringify does, said explicitly here so nobody relies on it by accident);
 * - NaN, ±Infinity, functions, symbols, cycles, Maps, Sets and class instances are refused, because
 *   any silent mapping of them would make two different inputs hash the same.
 */
export function normalize(value: unknown, path = '$', seen: Set<object> = new Set()): JsonValue {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new AuditRecordError(`${path}: ${value} has no JSON form`);
      return Object.is(value, -0) ? 0 : value;
    case 'bigint':
      return value.toString(10);
    case 'object': {
      if (value === null) return null;
      if (value instanceof Date) {
        if (Number.isNaN(value.getTime())) throw new AuditRecordError(`${path}: invalid Date`);
        return value.toISOString();
      }
      if (seen.has(value)) throw new AuditRecordError(`${path}: cycle`);
      seen.add(value);
      try {
        if (Array.isArray(value)) {
          return value.map((v, i) => (v === undefined ? null : normalize(v, `${path}[${i}]`, seen)));
        }
        const proto = Object.getPrototypeOf(value);
        if (proto !== Object.prototype && proto !== null) {
          throw new AuditRecordError(`${path}: ${proto?.constructor?.name ?? 'object'} is not plain data`);
        }
        const out: { [k: string]: JsonValue } = {};
        for (const [k, v] of Object.entries(value)) {
          if (v === undefined) continue;
          out[k] = normalize(v, `${path}.${k}`, seen);
        }
        return out;
      } finally {
        seen.delete(value);
      }
    }
    default:
      throw new AuditRecordError(`${path}: ${typeof value} has no JSON form`);
  }
}

/**
 * True when `value` is already plain JSON data with one meaning (so normalize() would return an
 * equal copy): the hot path checks instead of copying. Depth-limited so a cycle answers false.
 */
export function isPlainJson(value: unknown, depth = 0): boolean {
  if (depth > 64) return false;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0);
    case 'object': {
      if (value === null) return true;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (!isPlainJson(value[i], depth + 1)) return false;
        return true;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return false;
      for (const k in value) {
        const v = (value as Record<string, unknown>)[k];
        if (v !== undefined && !isPlainJson(v, depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

/** RFC 8785 text of already-normalised JSON data. */
export function canonicalText(value: JsonValue): string {
  const s = canonicalizeJcs(value);
  if (s === undefined) throw new AuditRecordError('value has no canonical form');
  return s;
}

/** RFC 8785 text of any value, normalising first. */
export function canonicalize(value: unknown): string {
  return canonicalText(normalize(value));
}

/** `"key":` per member name, encoded once (records use a fixed set of names). */
const KEY_TEXT = new Map<string, string>();
function keyText(k: string): string {
  let t = KEY_TEXT.get(k);
  if (t === undefined) KEY_TEXT.set(k, (t = `${JSON.stringify(k)}:`));
  return t;
}

/**
 * RFC 8785 text of the listed members of `body` (already in RFC 8785 order), joined by commas,
 * after `open`. The shapes records have (strings, integers, string arrays, the classification
 * object) are encoded inline with the ECMAScript JSON.stringify rules RFC 8785 uses; anything else
 * is normalised (strictly: NaN, cycles … throw) and encoded by canonical.ts, and the normalised
 * value replaces the member so the returned record is exactly what was encoded. String members
 * named in `plain` are quoted as they are: the caller guarantees they need no escaping.
 */
export function canonicalMembers(body: Record<string, unknown>, keys: readonly string[], open: string, plain?: ReadonlySet<string>): string {
  let out = open;
  let first = true;
  for (const k of keys) {
    const v = body[k];
    if (v === undefined) continue;
    // `plain`: members the caller made itself from characters JSON never escapes (ISO times, hex
    // hashes), new in every record, so neither escaping nor the string memo is worth its cost.
    let text = plain !== undefined && typeof v === 'string' && plain.has(k) ? `"${v}"` : inlineValue(v);
    if (text === undefined) {
      const norm = normalize(v, `$.${k}`);
      body[k] = norm;
      text = canonicalText(norm);
    }
    const key = keyText(k);
    out += first ? key + text : `,${key}${text}`;
    first = false;
  }
  return out;
}

// Records repeat most of their strings (user, program, zones, tier, tags, decision, policy id,
// bundle hash, often the paths): their JSON text is remembered instead of escaped again, about 8×
// cheaper per hit. Bounded: short strings only, and the whole map is dropped when it fills.
const STRING_TEXT = new Map<string, string>();
const STRING_TEXT_MAX_ENTRIES = 4096;
const STRING_TEXT_MAX_LENGTH = 512;

/** JSON.stringify of a string (RFC 8785 uses exactly ECMAScript's string escaping). */
export function jsonString(s: string): string {
  if (s.length > STRING_TEXT_MAX_LENGTH) return JSON.stringify(s);
  let t = STRING_TEXT.get(s);
  if (t === undefined) {
    t = JSON.stringify(s);
    if (STRING_TEXT.size >= STRING_TEXT_MAX_ENTRIES) STRING_TEXT.clear();
    STRING_TEXT.set(s, t);
  }
  return t;
}

function inlineValue(v: unknown): string | undefined {
  if (typeof v === 'string') return jsonString(v);
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) return Object.is(v, -0) ? undefined : `${v}`;
    return Number.isFinite(v) && !Object.is(v, -0) ? JSON.stringify(v) : undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  if (Array.isArray(v)) return stringArray(v);
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return undefined;
  // classification: exactly {tags: string[], tier: string} ("tags" sorts before "tier").
  const c = v as { tags?: unknown; tier?: unknown };
  if (typeof c.tier !== 'string' || !Array.isArray(c.tags)) return undefined;
  if (Object.keys(v).length !== 2 || !Object.hasOwn(v, 'tags') || !Object.hasOwn(v, 'tier')) return undefined;
  const tags = stringArray(c.tags);
  return tags === undefined ? undefined : `{"tags":${tags},"tier":${jsonString(c.tier)}}`;
}

function stringArray(a: unknown[]): string | undefined {
  let out = '[';
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    if (typeof x !== 'string') return undefined;
    out += i === 0 ? jsonString(x) : `,${jsonString(x)}`;
  }
  return `${out}]`;
}
