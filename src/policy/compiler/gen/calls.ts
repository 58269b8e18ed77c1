// Builtin calls in generated code: the builtin called in place with callBuiltin's error
// handling, its specialisation for a constant first argument, and the two calls emitted as
// plain JavaScript (equality with an identity-compared constant, sprintf of strings).

import type { Term } from '../../ast.js';
import { sprintfParts } from '../../builtins/strings.js';
import type { Builtin } from '../../builtins/types.js';
import type { Emitter } from './emitter.js';

/** A constant equal only to itself (no number/bigint or composite equality to honour). */
export function identityLiteral(t: Term): boolean {
  return t.t === 'scalar' && (typeof t.v === 'string' || typeof t.v === 'boolean' || t.v === null);
}

/** `sprintf(<constant format>, [<one term per verb>])` with only %s/%v verbs: the format's parts, else null. */
export function stringFormat(t: Term & { t: 'call' }): { format: string; pieces: string[]; last: string } | null {
  const [f, a] = t.args;
  if (t.args.length !== 2 || f!.t !== 'scalar' || typeof f!.v !== 'string' || a!.t !== 'array') return null;
  const parts = sprintfParts(f!.v);
  if (parts === null || parts.verbs.length !== a!.items.length || parts.verbs.includes(100 /* d */)) return null;
  return { format: f!.v, pieces: parts.pieces, last: parts.last };
}

/** The builtin, or its specialisation for a constant first argument (same name, so errors read the same). */
export function prepared(t: Term & { t: 'call' }, b: Builtin): Builtin {
  const a0 = t.args[0];
  if (!b.prepare || a0 === undefined || a0.t !== 'scalar') return b;
  const fn = b.prepare(a0.v);
  return fn ? { ...b, fn, fn1: undefined } : b;
}

/** Assigns a builtin's result to `v`: called in place (one call target per site) with callBuiltin's error handling, or through `with` mocks. */
export function emitBuiltin(em: Emitter, v: string, b: Builtin, xs: string[], inv: string, loc: string): void {
  const args = `[${xs.join(', ')}]`;
  const e = em.temp('e');
  const direct = b.fn1 && xs.length === 1 ? `${em.ref(b.fn1)}(${xs[0]})` : `${em.ref(b.fn)}(${args}, c)`;
  em.line(`if (!noMocks) ${v} = ${inv}(${args}, c, ${loc});`);
  em.line(`else try { ${v} = ${direct}; } catch (${e}) { ${v} = builtinFailure(${e}, ${em.ref(b)}, c, ${loc}); }`);
}

/** A key every plain object reads in place: not inherited from Object.prototype. */
export function plainKey(k: string): boolean {
  return !(k in Object.prototype) && k !== '__proto__';
}

/** `object.get(o, [<constant plain keys>], d)`: the keys, else null. */
export function constantKeyPath(t: Term & { t: 'call' }): string[] | null {
  const p = t.args[1];
  if (t.args.length !== 3 || p === undefined || p.t !== 'array' || p.items.length === 0) return null;
  const keys: string[] = [];
  for (const x of p.items) {
    if (x.t !== 'scalar' || typeof x.v !== 'string' || !plainKey(x.v)) return null;
    keys.push(x.v);
  }
  return keys;
}
