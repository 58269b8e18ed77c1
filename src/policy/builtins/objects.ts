// Object builtins: object.get, object.keys, object.union(_n), object.remove,
// object.filter, object.subset.

import { ObjBuilder, RSet, type Value, equal, isObj, makeObj, objEntries, objGet } from '../value.js';
import { BuiltinError } from '../errors.js';
import { coll, obj, typeErr } from './args.js';
import { lookup } from '../eval/runtime.js';
import { type BuiltinTable, def } from './types.js';

function keySet(v: Value, pos: number): Value[] {
  if (Array.isArray(v)) return v;
  if (v instanceof RSet) return [...v.values()];
  if (isObj(v)) return [...objEntries(v)].map(([k]) => k);
  throw typeErr(pos, 'one of {object, set, array}', v);
}

/** Deep merge: b wins, nested objects merge (OPA's object.union). */
export function union(a: Value, b: Value): Value {
  if (!isObj(a) || !isObj(b)) return b;
  const out = new ObjBuilder();
  for (const [k, v] of objEntries(a)) out.set(k, v);
  for (const [k, v] of objEntries(b)) {
    const prev = out.get(k);
    out.set(k, prev === undefined ? v : union(prev, v));
  }
  return out.build();
}

function isSubset(sup: Value, sub: Value): boolean {
  if (isObj(sup) && isObj(sub)) {
    for (const [k, v] of objEntries(sub)) {
      const w = objGet(sup, k);
      if (w === undefined) return false;
      if (isObj(v) && isObj(w)) {
        if (!isSubset(w, v)) return false;
      } else if ((v instanceof RSet && w instanceof RSet) || (Array.isArray(v) && Array.isArray(w))) {
        if (!isSubset(w, v)) return false;
      } else if (!equal(v, w)) return false;
    }
    return true;
  }
  if (sup instanceof RSet && sub instanceof RSet) {
    for (const v of sub.values()) if (!sup.has(v)) return false;
    return true;
  }
  if (Array.isArray(sup) && sub instanceof RSet) {
    return [...sub.values()].every((x) => sup.some((y) => equal(x, y)));
  }
  if (Array.isArray(sup) && Array.isArray(sub)) {
    if (!sub.length) return true;
    for (let i = 0; i + sub.length <= sup.length; i++) {
      let ok = true;
      for (let j = 0; j < sub.length; j++) if (!equal(sup[i + j]!, sub[j]!)) ok = false;
      if (ok) return true;
    }
    return false;
  }
  throw new BuiltinError('both arguments object.subset must be of the same type or array and set');
}

export function register(t: BuiltinTable): void {
  def(t, 'object.get', 3, ([o, k, d]) => {
    const ob = obj(o!, 1);
    if (Array.isArray(k)) {
      let cur: Value = ob;
      for (let i = 0; i < k.length; i++) {
        const next = lookup(cur, k[i]!);
        if (next === undefined) return d!;
        cur = next;
      }
      return cur;
    }
    const v = lookup(ob, k!);
    return v === undefined ? d! : v;
  });
  def(t, 'object.keys', 1, ([o]) => new RSet([...objEntries(obj(o!, 1))].map(([k]) => k)));
  def(t, 'object.union', 2, ([a, b]) => union(obj(a!, 1), obj(b!, 2)));
  def(t, 'object.union_n', 1, ([xs]) => {
    if (!Array.isArray(xs)) throw typeErr(1, 'array', xs!);
    let acc: Value = {};
    for (const x of xs) {
      if (!isObj(x)) throw typeErr(1, 'array of objects', xs);
      acc = union(acc, x);
    }
    return acc;
  });
  def(t, 'object.remove', 2, ([o, ks]) => {
    const ob = obj(o!, 1);
    const drop = new RSet(keySet(ks!, 2));
    return makeObj([...objEntries(ob)].filter(([k]) => !drop.has(k)));
  });
  def(t, 'object.filter', 2, ([o, ks]) => {
    const ob = obj(o!, 1);
    const keep = new RSet(keySet(ks!, 2));
    return makeObj([...objEntries(ob)].filter(([k]) => keep.has(k)));
  });
  def(t, 'object.subset', 2, ([a, b]) => isSubset(a!, b!));
  def(t, 'array.concat', 2, ([a, b]) => {
    if (!Array.isArray(a)) throw typeErr(1, 'array', a!);
    if (!Array.isArray(b)) throw typeErr(2, 'array', b!);
    // Values are never mutated, so an empty side lets the other be returned as it is. A copy
    // and pushes: several times cheaper than Array.prototype.concat or spreading for short arrays.
    if (a.length === 0) return b;
    if (b.length === 0) return a;
    const out = a.slice();
    for (let i = 0; i < b.length; i++) out.push(b[i]!);
    return out;
  });
  def(t, 'array.slice', 3, ([a, s, e]) => {
    if (!Array.isArray(a)) throw typeErr(1, 'array', a!);
    if (typeof s !== 'number' && typeof s !== 'bigint') throw typeErr(2, 'number', s!);
    if (typeof e !== 'number' && typeof e !== 'bigint') throw typeErr(3, 'number', e!);
    let start = Math.max(0, Number(s));
    const end = Math.min(a.length, Number(e));
    if (start > end) start = end;
    return a.slice(Math.floor(start), Math.floor(end));
  });
  def(t, 'array.flatten', 1, ([a]) => {
    if (!Array.isArray(a)) throw typeErr(1, 'array', a!);
    const out: Value[] = [];
    // One level, as OPA does: nested arrays inside elements stay arrays.
    for (const x of a) Array.isArray(x) ? out.push(...x) : out.push(x);
    return out;
  });
  def(t, 'array.reverse', 1, ([a]) => {
    if (!Array.isArray(a)) throw typeErr(1, 'array', a!);
    return [...a].reverse();
  });
  void coll;
}
