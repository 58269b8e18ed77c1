// Declaration of a builtin: name, arity and implementation kept together in a
// family file; the compiler checks arity before evaluation.

import type { Ctx } from '../eval/runtime.js';
import type { Value } from '../value.js';

export interface Builtin {
  name: string;
  arity: number;
  /** Returns undefined for "undefined"; throws BuiltinError for OPA builtin/type errors. */
  fn: (args: Value[], c: Ctx) => Value | undefined;
  /** Non-deterministic or context dependent builtins are never constant-folded. */
  pure?: boolean;
  /** A relation (like walk): `fn` returns an array whose elements are enumerated as separate results. */
  relation?: boolean;
  /** Two-argument form that never throws (comparisons), called without an argument array. */
  fn2?: (a: Value, b: Value) => Value | undefined;
  /** One-argument form of `fn` (same results and errors), called without an argument array. */
  fn1?: (a: Value) => Value | undefined;
  /**
   * An implementation specialised for a constant first argument (e.g. a sprintf format parsed
   * once at compile time), or null when the generic one must run. Same results and errors as `fn`.
   */
  prepare?: (first: Value) => Builtin['fn'] | null;
}

export type BuiltinTable = Map<string, Builtin>;

export function def(table: BuiltinTable, name: string, arity: number, fn: Builtin['fn'], pure = true): void {
  table.set(name, { name, arity, fn, pure });
}
