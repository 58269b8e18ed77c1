// Aggregates and membership: count, sum, product, max, min, sort, and the
// `in` operator (internal.member_2/3).

import { RSet, type Value, compare, equal, isNum, isObj, objEntries, objGet, objSize } from '../value.js';
import { coll, typeErr } from './args.js';
import { sumOf } from './arithmetic.js';
import { type Num, mul } from './num.js';
import { type BuiltinTable, def } from './types.js';

export function register(t: BuiltinTable): void {
  def(t, 'count', 1, ([a]) => countOf(a!));
  t.get('count')!.fn1 = countOf;
  def(t, 'sum', 1, ([a]) => sumOf(coll(a!, 1), 1));
  def(t, 'product', 1, ([a]) => {
    let p: Num = 1;
    for (const x of coll(a!, 1)) {
      if (!isNum(x)) throw typeErr(1, 'one of {array, set} of numbers', x);
      p = mul(p, x);
    }
    return p;
  });
  def(t, 'max', 1, ([a]) => {
    const xs = coll(a!, 1);
    if (!xs.length) return undefined;
    return xs.reduce((m, x) => (compare(x, m) > 0 ? x : m));
  });
  def(t, 'min', 1, ([a]) => {
    const xs = coll(a!, 1);
    if (!xs.length) return undefined;
    return xs.reduce((m, x) => (compare(x, m) < 0 ? x : m));
  });
  def(t, 'sort', 1, ([a]) => [...coll(a!, 1)].sort(compare));
  t.set('internal.member_2', { name: 'internal.member_2', arity: 2, fn: ([x, c]) => member(x!, c!), fn2: member, pure: true });
  def(t, 'internal.member_3', 3, ([k, x, c]) => {
    const cv = c!;
    if (Array.isArray(cv)) {
      if (typeof k !== 'number' || !Number.isInteger(k)) return false;
      const v = cv[k];
      return v !== undefined && equal(v, x!);
    }
    if (isObj(cv)) {
      const v = objGet(cv, k!);
      return v !== undefined && equal(v, x!);
    }
    if (cv instanceof RSet) return equal(k!, x!) && cv.has(x!);
    return false;
  });
}

function countOf(v: Value): number {
  if (typeof v === 'string') return [...v].length;
  if (Array.isArray(v)) return v.length;
  if (v instanceof RSet) return v.size;
  if (isObj(v)) return objSize(v);
  throw typeErr(1, 'one of {array, object, set, string}', v);
}

export function member(x: Value, c: Value): boolean {
  if (c instanceof RSet) return c.has(x);
  if (Array.isArray(c)) {
    // A string equals only the same string (no number/bigint or composite equality): the engine's own search.
    if (typeof x === 'string') return c.includes(x);
    for (let i = 0; i < c.length; i++) if (equal(x, c[i]!)) return true;
    return false;
  }
  if (isObj(c)) {
    for (const [, y] of objEntries(c)) if (equal(x, y)) return true;
    return false;
  }
  return false;
}
