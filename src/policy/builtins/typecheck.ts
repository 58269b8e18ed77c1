// Type builtins: is_* predicates and type_name. (`is_x` is false, not an error, for other types.)

import { RSet, type Value, isObj, typeName } from '../value.js';
import { type BuiltinTable, def } from './types.js';

/** Each predicate is its own function, so each call site's type feedback is about one type test. */
const PREDICATES: Array<[string, (a: Value) => boolean]> = [
  ['is_number', (a) => typeof a === 'number' || typeof a === 'bigint'],
  ['is_string', (a) => typeof a === 'string'],
  ['is_boolean', (a) => typeof a === 'boolean'],
  ['is_array', (a) => Array.isArray(a)],
  ['is_set', (a) => a instanceof RSet],
  ['is_object', (a) => isObj(a)],
  ['is_null', (a) => a === null],
];

export function register(t: BuiltinTable): void {
  for (const [name, test] of PREDICATES) {
    def(t, name, 1, ([a]) => test(a!));
    t.get(name)!.fn1 = test;
  }
  def(t, 'type_name', 1, ([a]) => typeName(a!));
}
