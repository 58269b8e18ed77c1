// Type builtins: is_* predicates and type_name. (`is_x` is false, not an error, for other types.)

import { Kind, kind, typeName } from '../value.js';
import { type BuiltinTable, def } from './types.js';

export function register(t: BuiltinTable): void {
  const is = (name: string, k: Kind): void => {
    def(t, name, 1, ([a]) => kind(a!) === k);
    t.get(name)!.fn1 = (a) => kind(a) === k;
  };
  is('is_number', Kind.Num);
  is('is_string', Kind.Str);
  is('is_boolean', Kind.Bool);
  is('is_array', Kind.Arr);
  is('is_set', Kind.Set);
  is('is_object', Kind.Obj);
  is('is_null', Kind.Null);
  def(t, 'type_name', 1, ([a]) => typeName(a!));
}
