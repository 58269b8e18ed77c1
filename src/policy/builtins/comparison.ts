// Comparison operators: total over all values (OPA's ordering), never errors.

import { compare, equal } from '../value.js';
import { type BuiltinTable } from './types.js';

import type { Value } from '../value.js';

function cmp(a: Value, b: Value): number {
  // Numbers (number or bigint: mixed comparison is exact in JS) compare natively; everything
  // else by OPA's total order.
  const ta = typeof a;
  const tb = typeof b;
  if ((ta === 'number' || ta === 'bigint') && (tb === 'number' || tb === 'bigint')) return a! < b! ? -1 : a! > b! ? 1 : 0;
  return compare(a, b);
}

const OPS: Array<[string, (a: Value, b: Value) => boolean]> = [
  ['equal', (a, b) => a === b || equal(a, b)],
  ['neq', (a, b) => a !== b && !equal(a, b)],
  ['lt', (a, b) => cmp(a, b) < 0],
  ['lte', (a, b) => cmp(a, b) <= 0],
  ['gt', (a, b) => cmp(a, b) > 0],
  ['gte', (a, b) => cmp(a, b) >= 0],
];

export function register(t: BuiltinTable): void {
  for (const [name, op] of OPS) t.set(name, { name, arity: 2, fn: ([a, b]) => op(a!, b!), fn2: op, pure: true });
}
