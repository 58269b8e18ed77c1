// Rego values at run time. JSON-shaped data stays plain JS (objects with string
// keys are plain objects, so `input` is used as is, with no conversion per
// decision); integers beyond 2^53 are bigint; sets and objects with non-string
// keys have their own classes. Equality, ordering and hashing follow OPA.

export type Value = null | boolean | number | bigint | string | Value[] | PlainObj | RObj | RSet;
export interface PlainObj {
  [k: string]: Value;
}

/**
 * Hash key of a value for set membership and non-string object keys. Scalars get an exact
 * key; composites get a structural hash (`h…`) that may collide, so sets and objects resolve
 * collisions with `equal` (see RSet.slot). Hashing samples long strings instead of copying
 * them into a key, which keeps sets of large objects (decision records) cheap.
 */
export function keyOf(v: Value): string {
  switch (typeof v) {
    case 'string':
      return 's' + v;
    case 'number':
      return Number.isInteger(v) && !Number.isSafeInteger(v) ? 'n' + BigInt(v).toString() : 'n' + (v === 0 ? 0 : v);
    case 'bigint':
      return 'n' + v.toString();
    case 'boolean':
      return v ? 'T' : 'F';
    case 'object':
      if (v === null) return 'Z';
      return 'h' + (hashOf(v, 0x811c9dc5) >>> 0).toString(36);
  }
  return '?';
}

function mix(h: number, x: number): number {
  return Math.imul(h ^ x, 0x01000193);
}

function hashStr(h: number, s: string): number {
  const n = s.length;
  h = mix(h, n);
  if (n <= 48) {
    for (let i = 0; i < n; i++) h = mix(h, s.charCodeAt(i));
    return h;
  }
  // Long strings: both ends and a stride through the middle; equal() settles collisions.
  for (let i = 0; i < 16; i++) h = mix(mix(h, s.charCodeAt(i)), s.charCodeAt(n - 1 - i));
  const step = (n >> 4) | 1;
  for (let i = 16; i < n - 16; i += step) h = mix(h, s.charCodeAt(i));
  return h;
}

function hashOf(v: Value, h: number): number {
  switch (typeof v) {
    case 'string':
      return hashStr(mix(h, 3), v);
    case 'number':
    case 'bigint':
      return hashStr(mix(h, 2), keyOf(v));
    case 'boolean':
      return mix(h, v ? 11 : 10);
  }
  if (v === null) return mix(h, 9);
  if (Array.isArray(v)) {
    h = mix(h, 6);
    for (let i = 0; i < v.length; i++) h = hashOf(v[i]!, h);
    return mix(h, v.length);
  }
  // Objects and sets: order-independent (sum of member hashes).
  let acc = 0;
  let n = 0;
  if (v instanceof RSet) {
    for (const x of v.values()) {
      acc = (acc + hashOf(x, 0x9e3779b9)) | 0;
      n++;
    }
    return mix(mix(h, 8), acc ^ n);
  }
  if (v instanceof RObj) {
    for (const [k, x] of v.map.values()) {
      acc = (acc + hashOf(x, hashOf(k, 0x7f4a7c15))) | 0;
      n++;
    }
  } else {
    for (const k in v) {
      if (!Object.prototype.hasOwnProperty.call(v, k)) continue;
      acc = (acc + hashOf((v as PlainObj)[k]!, hashStr(0x7f4a7c15, k))) | 0;
      n++;
    }
  }
  return mix(mix(h, 7), acc ^ n);
}

/** Finds the map key holding `v` (or the free key where it would go) in a collision chain. */
function slot<T>(map: Map<string, T>, v: Value, valueOf: (e: T) => Value, base: string = keyOf(v)): { key: string; found: T | undefined } {
  if (base.charCodeAt(0) !== 104 /* h */) return { key: base, found: map.get(base) };
  let key = base;
  for (let i = 1; ; i++) {
    const e = map.get(key);
    if (e === undefined || equal(valueOf(e), v)) return { key, found: e };
    key = base + '#' + i;
  }
}

const selfValue = (x: Value): Value => x;
/** Shared empty map for sets without non-string members; never written. */
const EMPTY_MAP: Map<string, Value> = new Map();
const entryKey = (e: [Value, Value]): Value => e[0];

/** Composite members a set compares with `equal` before it hashes them (hashing a record costs more than a few comparisons). */
const FEW_COMPOSITES = 8;
/** Shared empty set for sets without string members; replaced, never written. */
const NO_STRINGS: Set<string> = new Set();
/** The order of every empty set (shared like any set's order: never written); not frozen, so loops over orders see one elements kind. */
const NO_MEMBERS: Value[] = [];
/** Shared empty list for sets without composite members; replaced, never written. */
const NO_COMPOSITES: Value[] = Object.freeze([]) as unknown as Value[];

export class RSet {
  /** String members (the common case) keyed by themselves: no key building on add/has. */
  private strs: Set<string> = NO_STRINGS;
  /** Other members by hash key; composite keys are per-set (collision chains), never compare them across sets. */
  private other: Map<string, Value> = EMPTY_MAP;
  /** Composite members (arrays, objects, sets) while there are few, unhashed; null once they live in `other`. */
  private few: Value[] | null = NO_COMPOSITES;
  /** Members in OPA's order, computed on first use and dropped when a member is added. */
  private order: Value[] | null = null;
  constructor(items?: Iterable<Value>) {
    if (items) for (const x of items) this.add(x);
  }
  add(v: Value): void {
    this.order = null;
    if (typeof v === 'string') {
      // The Set is made on the first string (empty sets are common: rules with no members).
      if (this.strs === NO_STRINGS) this.strs = new Set();
      this.strs.add(v);
      return;
    }
    const few = this.few;
    if (few !== null && typeof v === 'object' && v !== null) {
      for (let i = 0; i < few.length; i++) if (equal(few[i]!, v)) return;
      if (few === NO_COMPOSITES) {
        this.few = [v];
        return;
      }
      if (few.length < FEW_COMPOSITES) {
        few.push(v);
        return;
      }
      // Too many to compare one by one: hash them all from now on.
      this.few = null;
      for (const x of few) this.addKeyed(x);
    }
    this.addKeyed(v);
  }
  private addKeyed(v: Value): void {
    const k = keyOf(v);
    // The map is created on the first keyed member (most sets hold only strings).
    if (this.other === EMPTY_MAP) this.other = new Map();
    if (k.charCodeAt(0) !== 104) this.other.set(k, v);
    else {
      const s = slot(this.other, v, selfValue, k);
      if (s.found === undefined) this.other.set(s.key, v);
    }
  }
  has(v: Value): boolean {
    if (typeof v === 'string') return this.strs.has(v);
    const few = this.few;
    if (few !== null && typeof v === 'object' && v !== null) {
      for (let i = 0; i < few.length; i++) if (equal(few[i]!, v)) return true;
      return false;
    }
    const k = keyOf(v);
    if (k.charCodeAt(0) !== 104) return this.other.has(k);
    return slot(this.other, v, selfValue, k).found !== undefined;
  }
  get size(): number {
    return this.strs.size + this.other.size + (this.few === null ? 0 : this.few.length);
  }
  *values(): IterableIterator<Value> {
    yield* this.strs;
    yield* this.other.values();
    if (this.few !== null) yield* this.few;
  }
  /** Members as an array (unordered). */
  toArray(): Value[] {
    const out: Value[] = this.strs === NO_STRINGS ? [] : [...this.strs];
    if (this.other !== EMPTY_MAP) for (const v of this.other.values()) out.push(v);
    if (this.few !== null) for (let i = 0; i < this.few.length; i++) out.push(this.few[i]!);
    return out;
  }
  /**
   * Elements in OPA's sort order: the order every user-visible iteration uses (`some x in s`,
   * comprehensions, builtins over sets), as in OPA. The array is shared: do not mutate it.
   */
  sorted(): Value[] {
    if (this.order !== null) return this.order;
    // Empty and one-member sets (no exceptions, one violation) are common: nothing to copy or sort.
    const n = this.size;
    if (n === 0) return (this.order = NO_MEMBERS);
    if (n === 1) return (this.order = this.toArray());
    return (this.order = this.toArray().sort(compare));
  }
}

/** An object with at least one non-string key. */
export class RObj {
  readonly map: Map<string, [Value, Value]> = new Map();
  set(k: Value, v: Value): void {
    this.map.set(slot(this.map, k, entryKey).key, [k, v]);
  }
  get(k: Value): Value | undefined {
    return slot(this.map, k, entryKey).found?.[1];
  }
  get size(): number {
    return this.map.size;
  }
}

export const enum Kind {
  Null = 0,
  Bool = 1,
  Num = 2,
  Str = 3,
  Arr = 6,
  Obj = 7,
  Set = 8,
}

export function kind(v: Value): Kind {
  switch (typeof v) {
    case 'string':
      return Kind.Str;
    case 'number':
    case 'bigint':
      return Kind.Num;
    case 'boolean':
      return Kind.Bool;
  }
  if (v === null) return Kind.Null;
  if (Array.isArray(v)) return Kind.Arr;
  if (v instanceof RSet) return Kind.Set;
  return Kind.Obj;
}

export function isObj(v: Value | undefined): v is PlainObj | RObj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof RSet);
}
export function isNum(v: Value | undefined): v is number | bigint {
  return typeof v === 'number' || typeof v === 'bigint';
}

const hasOwn = Object.prototype.hasOwnProperty;

export function objGet(o: PlainObj | RObj, k: Value): Value | undefined {
  if (o instanceof RObj) return o.get(k);
  if (typeof k !== 'string') return undefined;
  return hasOwn.call(o, k) ? o[k] : undefined;
}

export function objSize(o: PlainObj | RObj): number {
  return o instanceof RObj ? o.size : Object.keys(o).length;
}

export function* objEntries(o: PlainObj | RObj): Generator<[Value, Value]> {
  if (o instanceof RObj) {
    for (const e of o.map.values()) yield e;
  } else {
    for (const k of Object.keys(o)) yield [k, o[k]!];
  }
}

/** Entries in OPA's iteration order (keys sorted), used wherever a policy iterates an object. */
export function objEntriesSorted(o: PlainObj | RObj): Array<[Value, Value]> {
  if (o instanceof RObj) return [...o.map.values()].sort((a, b) => compare(a[0], b[0]));
  const keys = Object.keys(o);
  if (keys.length > 1) keys.sort(strCmp);
  return keys.map((k) => [k, o[k]!]);
}

export function objKeys(o: PlainObj | RObj): Value[] {
  return o instanceof RObj ? [...o.map.values()].map((e) => e[0]) : Object.keys(o);
}

/** Builds an object from entries; plain when every key is a string. Later entries win. */
export function makeObj(entries: Iterable<[Value, Value]>): PlainObj | RObj {
  let plain: PlainObj | null = {};
  let r: RObj | null = null;
  for (const [k, v] of entries) {
    if (plain && typeof k === 'string') {
      plain[k] = v;
      continue;
    }
    if (!r) {
      r = new RObj();
      if (plain) for (const pk of Object.keys(plain)) r.set(pk, plain[pk]!);
      plain = null;
    }
    r.set(k, v);
  }
  return r ?? plain!;
}

/** Mutable object builder for rule evaluation (keeps the plain representation while keys are strings). */
export class ObjBuilder {
  private plain: PlainObj | null = {};
  private r: RObj | null = null;
  get(k: Value): Value | undefined {
    return this.r ? this.r.get(k) : typeof k === 'string' && hasOwn.call(this.plain, k) ? this.plain![k] : undefined;
  }
  set(k: Value, v: Value): void {
    if (this.plain && typeof k === 'string') {
      this.plain[k] = v;
      return;
    }
    if (!this.r) {
      this.r = new RObj();
      for (const pk of Object.keys(this.plain!)) this.r.set(pk, this.plain![pk]!);
      this.plain = null;
    }
    this.r.set(k, v);
  }
  build(): PlainObj | RObj {
    return this.r ?? this.plain!;
  }
}

function numCmp(a: number | bigint, b: number | bigint): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  // Mixed number/bigint comparison is exact in JS.
  return a < b ? -1 : a > b ? 1 : 0;
}

/** OPA's total order: null < boolean < number < string < array < object < set. */
export function compare(a: Value, b: Value): number {
  const ka = kind(a);
  const kb = kind(b);
  if (ka !== kb) return ka - kb;
  switch (ka) {
    case Kind.Null:
      return 0;
    case Kind.Bool:
      return a === b ? 0 : a ? 1 : -1;
    case Kind.Num:
      return numCmp(a as number, b as number);
    case Kind.Str:
      return strCmp(a as string, b as string);
    case Kind.Arr: {
      const x = a as Value[];
      const y = b as Value[];
      const n = Math.min(x.length, y.length);
      for (let i = 0; i < n; i++) {
        const c = compare(x[i]!, y[i]!);
        if (c) return c;
      }
      return x.length - y.length;
    }
    case Kind.Obj: {
      const ea = [...objEntries(a as PlainObj)].sort((p, q) => compare(p[0], q[0]));
      const eb = [...objEntries(b as PlainObj)].sort((p, q) => compare(p[0], q[0]));
      const n = Math.min(ea.length, eb.length);
      for (let i = 0; i < n; i++) {
        const c = compare(ea[i]![0], eb[i]![0]) || compare(ea[i]![1], eb[i]![1]);
        if (c) return c;
      }
      return ea.length - eb.length;
    }
    case Kind.Set: {
      const x = (a as RSet).sorted();
      const y = (b as RSet).sorted();
      const n = Math.min(x.length, y.length);
      for (let i = 0; i < n; i++) {
        const c = compare(x[i]!, y[i]!);
        if (c) return c;
      }
      return x.length - y.length;
    }
  }
  return 0;
}

/** Go compares strings bytewise (UTF-8); code point order gives the same result. */
export function strCmp(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

export function equal(a: Value, b: Value): boolean {
  if (a === b) return true;
  const ta = typeof a;
  if (ta === 'string' || ta === 'boolean') return false;
  if (ta === 'number' || ta === 'bigint') return (typeof b === 'number' || typeof b === 'bigint') && a == b;
  if (a === null || b === null || typeof b !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!equal(a[i]!, b[i]!)) return false;
    return true;
  }
  if (a instanceof RSet) {
    if (!(b instanceof RSet) || a.size !== b.size) return false;
    for (const x of a.values()) if (!b.has(x)) return false;
    return true;
  }
  if (Array.isArray(b) || b instanceof RSet) return false;
  const oa = a as PlainObj | RObj;
  const ob = b as PlainObj | RObj;
  if (objSize(oa) !== objSize(ob)) return false;
  for (const [k, v] of objEntries(oa)) {
    const w = objGet(ob, k);
    if (w === undefined || !equal(v, w)) return false;
  }
  return true;
}

/** OPA's type names, as used in error messages and `type_name`. */
export function typeName(v: Value): string {
  switch (kind(v)) {
    case Kind.Null:
      return 'null';
    case Kind.Bool:
      return 'boolean';
    case Kind.Num:
      return 'number';
    case Kind.Str:
      return 'string';
    case Kind.Arr:
      return 'array';
    case Kind.Obj:
      return 'object';
    case Kind.Set:
      return 'set';
  }
}

/** Converts to a JSON-compatible JS value: sets become sorted arrays, non-string keys become their JSON text. */
export function toJSON(v: Value): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) return v.map(toJSON);
  if (v instanceof RSet) return v.sorted().map(toJSON);
  const out: Record<string, unknown> = {};
  const entries = [...objEntries(v)].sort((p, q) => compare(p[0], q[0]));
  for (const [k, x] of entries) out[typeof k === 'string' ? k : stringify(k)] = toJSON(x);
  return out;
}

/** Normalises a JS value from outside (JSON.parse, YAML, the daemon) into a Value. */
export function fromJS(v: unknown): Value {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      return v;
    case 'bigint':
      return normBig(v);
    case 'undefined':
      return null;
    case 'object': {
      if (v === null) return null;
      if (Array.isArray(v)) return v.map(fromJS);
      if (v instanceof RSet || v instanceof RObj) return v;
      if (v instanceof Set) return new RSet([...v].map(fromJS));
      if (v instanceof Map) return makeObj([...v].map(([k, x]) => [fromJS(k), fromJS(x)]));
      const o: PlainObj = {};
      for (const k of Object.keys(v)) {
        const x = (v as Record<string, unknown>)[k];
        if (x !== undefined) o[k] = fromJS(x);
      }
      return o;
    }
  }
  return null;
}

/** A bigint is kept only when a JS number would lose precision. */
export function normBig(b: bigint): number | bigint {
  return b >= -9007199254740991n && b <= 9007199254740991n ? Number(b) : b;
}

/** Number literal text → exact Value (bigint for integers beyond 2^53). */
export function parseNumber(text: string): number | bigint {
  if (/^-?\d+$/.test(text)) {
    const n = Number(text);
    return Number.isSafeInteger(n) ? n : BigInt(text);
  }
  return Number(text);
}

/** JSON text of a value, as OPA's json.marshal writes it (sorted keys, sets as arrays). */
export function stringify(v: Value): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return numberText(v);
    case 'bigint':
      return v.toString();
    case 'boolean':
      return v ? 'true' : 'false';
  }
  if (v === null) return 'null';
  if (Array.isArray(v)) return '[' + v.map(stringify).join(',') + ']';
  if (v instanceof RSet) return '[' + v.sorted().map(stringify).join(',') + ']';
  const entries = [...objEntries(v)].sort((p, q) => compare(p[0], q[0]));
  return '{' + entries.map(([k, x]) => (typeof k === 'string' ? JSON.stringify(k) : JSON.stringify(stringify(k))) + ':' + stringify(x)).join(',') + '}';
}

/** Go-like number text: integers without exponent, others in shortest round-trip form. */
export function numberText(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return BigInt(n).toString();
  return String(n);
}
