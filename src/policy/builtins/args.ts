// Shared operand checks. Messages match OPA's (`operand 1 must be string but got
// number`), and a failed check is a type error (eval_type_error in strict mode).

import { BuiltinError } from '../errors.js';
import { type PlainObj, type RObj, RSet, type Value, isNum, typeName } from '../value.js';

export function typeErr(pos: number, want: string, got: Value): BuiltinError {
  return new BuiltinError(`operand ${pos} must be ${want} but got ${typeName(got)}`, true);
}

export function str(v: Value, pos: number): string {
  if (typeof v !== 'string') throw typeErr(pos, 'string', v);
  return v;
}
export function num(v: Value, pos: number): number | bigint {
  if (!isNum(v)) throw typeErr(pos, 'number', v);
  return v;
}
/** A number as a JS number (precision beyond 2^53 is not needed by the caller). */
export function fnum(v: Value, pos: number): number {
  return Number(num(v, pos));
}
export function int(v: Value, pos: number): number {
  const n = num(v, pos);
  if (typeof n === 'bigint') return Number(n);
  if (!Number.isInteger(n)) throw new BuiltinError(`operand ${pos} must be integer number but got floating-point number`, true);
  return n;
}
export function bool(v: Value, pos: number): boolean {
  if (typeof v !== 'boolean') throw typeErr(pos, 'boolean', v);
  return v;
}
export function arr(v: Value, pos: number): Value[] {
  if (!Array.isArray(v)) throw typeErr(pos, 'array', v);
  return v;
}
export function set(v: Value, pos: number): RSet {
  if (!(v instanceof RSet)) throw typeErr(pos, 'set', v);
  return v;
}
export function obj(v: Value, pos: number): PlainObj | RObj {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof RSet) throw typeErr(pos, 'object', v);
  return v;
}
/** Elements of an array or set. */
export function coll(v: Value, pos: number, want = 'one of {array, set}'): Value[] {
  if (Array.isArray(v)) return v;
  if (v instanceof RSet) return v.sorted();
  throw typeErr(pos, want, v);
}
/** Strings of an array or set of strings. */
export function strColl(v: Value, pos: number): string[] {
  const xs = coll(v, pos);
  return xs.map((x) => {
    if (typeof x !== 'string') throw new BuiltinError(`operand ${pos} must be array of strings but got array containing ${typeName(x)}`, true);
    return x;
  });
}
