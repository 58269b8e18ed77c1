// Graph builtins: walk (a relation: it enumerates [path, value] pairs),
// graph.reachable and graph.reachable_paths.

import { RSet, type Value, isObj, objEntries, objGet } from '../value.js';
import { typeErr } from './args.js';
import { type BuiltinTable, def } from './types.js';

function neighbours(g: Value, node: Value): Value[] {
  if (!isObj(g)) return [];
  const e = objGet(g, node);
  if (e === undefined || e === null) return [];
  if (Array.isArray(e)) return e;
  if (e instanceof RSet) return e.sorted();
  return [];
}

function initial(v: Value, pos: number): Value[] {
  if (Array.isArray(v)) return v;
  if (v instanceof RSet) return v.sorted();
  throw typeErr(pos, 'one of {array, set}', v);
}

export function register(t: BuiltinTable): void {
  t.set('walk', {
    name: 'walk',
    arity: 1,
    relation: true,
    fn: ([x]) => {
      const out: Value[] = [];
      const visit = (path: Value[], v: Value): void => {
        out.push([path, v]);
        if (Array.isArray(v)) v.forEach((c, i) => visit([...path, i], c));
        else if (v instanceof RSet) for (const c of v.sorted()) visit([...path, c], c);
        else if (isObj(v)) for (const [k, c] of objEntries(v)) visit([...path, k], c);
      };
      visit([], x!);
      return out;
    },
  });
  def(t, 'graph.reachable', 2, ([g, i]) => {
    if (!isObj(g!)) throw typeErr(1, 'object', g!);
    const seen = new RSet();
    const stack = [...initial(i!, 2)];
    while (stack.length) {
      const n = stack.pop()!;
      if (seen.has(n)) continue;
      if (objGet(g as never, n) === undefined) continue;
      seen.add(n);
      for (const m of neighbours(g!, n)) stack.push(m);
    }
    return seen;
  });
  def(t, 'graph.reachable_paths', 2, ([g, i]) => {
    if (!isObj(g!)) throw typeErr(1, 'object', g!);
    const out = new RSet();
    const walk = (n: Value, path: Value[]): void => {
      if (objGet(g as never, n) === undefined) {
        if (path.length) out.add(path);
        return;
      }
      const next = [...path, n];
      const ns = neighbours(g!, n).filter((m) => !next.some((p) => p === m || JSON.stringify(p) === JSON.stringify(m)));
      if (!ns.length) out.add(next);
      for (const m of ns) walk(m, next);
    };
    for (const n of initial(i!, 2)) walk(n, []);
    return out;
  });
}
