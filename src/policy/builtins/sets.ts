// Set operators and builtins: `&`, `|`, intersection, union.

import { RSet } from '../value.js';
import { set, typeErr } from './args.js';
import { type BuiltinTable, def } from './types.js';

export function register(t: BuiltinTable): void {
  def(t, 'and', 2, ([a, b]) => {
    const x = set(a!, 1);
    const y = set(b!, 2);
    const out = new RSet();
    for (const v of x.values()) if (y.has(v)) out.add(v);
    return out;
  });
  def(t, 'or', 2, ([a, b]) => {
    const x = set(a!, 1);
    const y = set(b!, 2);
    const out = new RSet();
    for (const v of x.values()) out.add(v);
    for (const v of y.values()) out.add(v);
    return out;
  });
  def(t, 'intersection', 1, ([a]) => {
    const xs = [...set(a!, 1).values()];
    if (!xs.length) return new RSet();
    for (const x of xs) if (!(x instanceof RSet)) throw typeErr(1, 'set of sets', a!);
    let acc = xs[0] as RSet;
    for (const x of xs.slice(1)) {
      const out = new RSet();
      for (const v of acc.values()) if ((x as RSet).has(v)) out.add(v);
      acc = out;
    }
    return acc;
  });
  def(t, 'union', 1, ([a]) => {
    const out = new RSet();
    for (const x of set(a!, 1).values()) {
      if (!(x instanceof RSet)) throw typeErr(1, 'set of sets', a!);
      for (const v of x.values()) out.add(v);
    }
    return out;
  });
}
