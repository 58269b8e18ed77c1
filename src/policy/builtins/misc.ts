// Builtins with no better family: print and trace (no-ops that succeed), walk,
// and opa.runtime.

import { RSet, type Value, isObj, objEntries } from '../value.js';
import { type BuiltinTable, def } from './types.js';

export function register(t: BuiltinTable): void {
  def(t, 'print', 1, () => true, false);
  def(t, 'trace', 1, () => true, false);
  def(t, 'opa.runtime', 0, () => ({ env: {}, version: 'lacuna-fs' }), false);
  // walk(x) yields [path, value] pairs; evaluated eagerly as a set of pairs, then iterated by the caller.
  def(t, 'internal.walk', 1, ([x]) => {
    const out: Value[] = [];
    const visit = (path: Value[], v: Value): void => {
      out.push([path, v]);
      if (Array.isArray(v)) v.forEach((c, i) => visit([...path, i], c));
      else if (v instanceof RSet) for (const c of v.values()) visit([...path, c], c);
      else if (isObj(v)) for (const [k, c] of objEntries(v)) visit([...path, k], c);
    };
    visit([], x!);
    return out;
  });
}
