// Builds the JavaScript source of one generated function. Code is emitted in
// continuation-passing order: whatever follows an expression is emitted inside
// it (inside its loops), so a rule body becomes nested loops and checks.
// Invariant: falling off the end of any emitted code means "no (more)
// solutions here", exactly like executing the current `fail` statement.

import { callBuiltin } from '../steps.js';
import { dataAt } from '../tree.js';
import { lookup } from '../../eval/runtime.js';
import { RSet, equal, isObj, makeObj, objEntriesSorted, type Value } from '../../value.js';

/** Keys (null: array indexes) and values of a collection in OPA's iteration order; null for scalars. */
export function entriesOf(v: Value): { k: Value[] | null; v: Value[] } | null {
  if (Array.isArray(v)) return { k: null, v };
  if (v instanceof RSet) {
    const xs = v.sorted();
    return { k: xs, v: xs };
  }
  if (isObj(v)) {
    const es = objEntriesSorted(v);
    const ks = new Array<Value>(es.length);
    const vs = new Array<Value>(es.length);
    for (let i = 0; i < es.length; i++) {
      ks[i] = es[i]![0];
      vs[i] = es[i]![1];
    }
    return { k: ks, v: vs };
  }
  return null;
}

/** Helpers every generated function may name directly. */
const RUNTIME: Record<string, unknown> = { lookup, equal, RSet, makeObj, entriesOf, dataAt, callBuiltin };

export class Emitter {
  private readonly out: string[] = [];
  private readonly consts: unknown[] = [];
  private readonly constIds = new Map<unknown, string>();
  private n = 0;
  /** Statement that backtracks from the current point. */
  fail = 'return false;';
  /** Statement that ends the current search with success (leaves the innermost search block). */
  stop = 'return true;';

  line(s: string): void {
    this.out.push(s);
  }

  /** A fresh local name. */
  temp(prefix = 't'): string {
    return `${prefix}${this.n++}`;
  }

  /** Names a compile-time object (closure, tree node, builtin) for the generated code. */
  ref(v: unknown): string {
    let id = this.constIds.get(v);
    if (id === undefined) {
      id = `k${this.consts.length}`;
      this.consts.push(v);
      this.constIds.set(v, id);
    }
    return id;
  }

  /** JavaScript text of a scalar value (a named constant where no exact literal exists). */
  literal(v: Value): string {
    if (v === null) return 'null';
    if (typeof v === 'boolean') return v ? 'true' : 'false';
    if (typeof v === 'string') return JSON.stringify(v);
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return String(v);
    return this.ref(v);
  }

  /** Runs `emit` with other fail/stop statements, restoring them afterwards. */
  within(fail: string, stop: string, emit: () => void): void {
    const f = this.fail;
    const s = this.stop;
    this.fail = fail;
    this.stop = stop;
    try {
      emit();
    } finally {
      this.fail = f;
      this.stop = s;
    }
  }

  /** Compiles the emitted lines as the body of `function (params)`. */
  build<T>(params: string): T {
    const names = [...Object.keys(RUNTIME), ...this.consts.map((_, i) => `k${i}`)];
    const values = [...Object.values(RUNTIME), ...this.consts];
    const src = `"use strict";\nreturn function generated(${params}) {\n${this.out.join('\n')}\n};`;
    return new Function(...names, src)(...values) as T;
  }

  source(): string {
    return this.out.join('\n');
  }
}
