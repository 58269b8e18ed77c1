// Arithmetic (`+ - * / %`, abs, round, ceil, floor, numbers.range). `-` is also
// set difference. Integers stay exact beyond 2^53.

import { BuiltinError } from '../errors.js';
import { RSet, type Value, isNum } from '../value.js';
import { int, num, typeErr } from './args.js';
import { type Num, add, big, div, isIntegral, isZero, mul, rem, sub } from './num.js';
import { type BuiltinTable, def } from './types.js';

export function register(t: BuiltinTable): void {
  def(t, 'plus', 2, ([a, b]) => add(num(a!, 1), num(b!, 2)));
  def(t, 'mul', 2, ([a, b]) => mul(num(a!, 1), num(b!, 2)));
  def(t, 'minus', 2, ([a, b]) => {
    if (isNum(a!) && isNum(b!)) return sub(a, b);
    if (a instanceof RSet && b instanceof RSet) {
      const out = new RSet();
      for (const v of a.values()) if (!b.has(v)) out.add(v);
      return out;
    }
    if (!isNum(a!) && !(a instanceof RSet)) throw typeErr(1, 'one of {number, set}', a!);
    if (isNum(a!)) throw typeErr(2, 'number', b!);
    throw typeErr(2, 'set', b!);
  });
  def(t, 'div', 2, ([a, b]) => {
    const x = num(a!, 1);
    const y = num(b!, 2);
    if (isZero(y)) throw new BuiltinError('divide by zero');
    return div(x, y);
  });
  def(t, 'rem', 2, ([a, b]) => {
    const x = num(a!, 1);
    const y = num(b!, 2);
    if (!isIntegral(x) || !isIntegral(y)) throw new BuiltinError('modulo on floating-point number');
    if (isZero(y)) throw new BuiltinError('modulo by zero');
    return rem(x, y);
  });
  def(t, 'abs', 1, ([a]) => {
    const x = num(a!, 1);
    return typeof x === 'bigint' ? (x < 0n ? -x : x) : Math.abs(x);
  });
  const rounder = (name: string, f: (x: number) => number): void =>
    def(t, name, 1, ([a]) => {
      const x = num(a!, 1);
      return typeof x === 'bigint' ? x : f(x);
    });
  // Go's math.Round rounds half away from zero.
  rounder('round', (x) => (x < 0 ? -Math.round(-x) : Math.round(x)));
  rounder('ceil', Math.ceil);
  rounder('floor', Math.floor);
  def(t, 'numbers.range', 2, ([a, b]) => range(int(a!, 1), int(b!, 2), 1));
  def(t, 'numbers.range_step', 3, ([a, b, s]) => {
    const step = int(s!, 3);
    if (step <= 0) throw new BuiltinError('step must be a positive integer');
    return range(int(a!, 1), int(b!, 2), step);
  });
}

function range(a: number, b: number, step: number): Value[] {
  const out: Value[] = [];
  if (a <= b) for (let i = a; i <= b; i += step) out.push(i);
  else for (let i = a; i >= b; i -= step) out.push(i);
  return out;
}

export function sumOf(xs: Value[], pos: number): Num {
  let s: Num = 0;
  for (const x of xs) {
    if (!isNum(x)) throw typeErr(pos, 'one of {array, set} of numbers', x);
    s = add(s, x);
  }
  return s;
}

export { big };
