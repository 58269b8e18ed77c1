// bits.* on integers (exact beyond 2^53).

import { BuiltinError } from '../errors.js';
import { type Value, isNum, normBig } from '../value.js';
import { typeErr } from './args.js';
import { type BuiltinTable, def } from './types.js';

function bi(v: Value, pos: number): bigint {
  if (!isNum(v)) throw typeErr(pos, 'number', v);
  if (typeof v === 'number' && !Number.isInteger(v)) throw new BuiltinError(`operand ${pos} must be integer number but got floating-point number`, true);
  return BigInt(v);
}

export function register(t: BuiltinTable): void {
  def(t, 'bits.and', 2, ([a, b]) => normBig(bi(a!, 1) & bi(b!, 2)));
  def(t, 'bits.or', 2, ([a, b]) => normBig(bi(a!, 1) | bi(b!, 2)));
  def(t, 'bits.xor', 2, ([a, b]) => normBig(bi(a!, 1) ^ bi(b!, 2)));
  def(t, 'bits.negate', 1, ([a]) => normBig(~bi(a!, 1)));
  def(t, 'bits.lsh', 2, ([a, b]) => {
    const s = bi(b!, 2);
    if (s < 0n) throw new BuiltinError('operand 2 must be an unsigned integer number but got a negative integer', true);
    return normBig(bi(a!, 1) << s);
  });
  def(t, 'bits.rsh', 2, ([a, b]) => {
    const s = bi(b!, 2);
    if (s < 0n) throw new BuiltinError('operand 2 must be an unsigned integer number but got a negative integer', true);
    return normBig(bi(a!, 1) >> s);
  });
}
