// Set operators and builtins: `&`, `|`, intersection, union.

import { RSet } from '../value.js';
import { set, typeErr } from './args.js';
import { type BuiltinTable, def } from './types.js';

export function register(t: BuiltinTable): void {
  def(t, 'and', 2, ([a, b]) => {
    const x = set(a!, 1);
    const y = set(b!, 2);
    const out = new RSet();
    for (const [k, v] of x.map) if (y.map.has(k)) out.map.set(k, v);
    return out;
  });
  def(t, 'or', 2, ([a, b]) => {
    const x = set(a!, 1);
    const y = set(b!, 2);
    const out = new RSet();
    for (const [k, v] of x.map) out.map.set(k, v);
    for (const [k, v] of y.map) out.map.set(k, v);
    return out;
  });
  def(t, 'intersection', 1, ([a]) => {
    const xs = [...set(a!, 1).values()];
    if (!xs.length) return new RSet();
    for (const x of xs) if (!(x instanceof RSet)) throw typeErr(1, 'set of sets', a!);
    let acc = xs[0] as RSet;
    for (const x of xs.slice(1)) {
      const out = new RSet();
      for (const [k, v] of acc.map) if ((x as RSet).map.has(k)) out.map.set(k, v);
      acc = out;
    }
    return acc;
  });
  def(t, 'union', 1, ([a]) => {
    const out = new RSet();
    for (const x of set(a!, 1).values()) {
      if (!(x instanceof RSet)) throw typeErr(1, 'set of sets', a!);
      for (const [k, v] of x.map) out.map.set(k, v);
    }
    return out;
  });
}
