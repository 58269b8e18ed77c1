// Builds the JavaScript source of one generated function. Code is emitted in
// continuation-passing order: whatever follows an expression is emitted inside
// it (inside its loops), so a rule body becomes nested loops and checks.
// Invariant: falling off the end of any emitted code means "no (more)
// solutions here", exactly like executing the current `fail` statement.

import { builtinFailure } from '../steps.js';
import { dataAt, nodeValue } from '../tree.js';
import { PENDING, UNDEF, lookup, lookupPath } from '../../eval/runtime.js';
import { RSet, equal, isObj, makeObj, objEntriesSorted, type Value } from '../../value.js';

const NO_ENTRIES: { k: Value[]; v: Value[] } = Object.freeze({ k: [], v: [] }) as { k: Value[]; v: Value[] };

/** Keys and values of a set or object in OPA's iteration order (no entries for scalars); generated loops read arrays directly. */
export function entriesOf(v: Value): { k: Value[]; v: Value[] } {
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
  return NO_ENTRIES;
}

/** Emits the head of a loop over the keys and values of the collection named `x` (arrays without copying). */
export function loopOver(em: Emitter, x: string, label: string): { key: string; value: string } {
  const it = em.temp('it');
  const vs = em.temp('vs');
  const i = em.temp('i');
  em.line(`const ${it} = Array.isArray(${x}) ? null : entriesOf(${x});`);
  em.line(`const ${vs} = ${it} === null ? ${x} : ${it}.v;`);
  em.open(`${label}: for (let ${i} = 0; ${i} < ${vs}.length; ${i}++)`);
  return { key: `(${it} === null ? ${i} : ${it}.k[${i}])`, value: `${vs}[${i}]` };
}

/** A generated function for contexts without `with` (plain) and for any context (general). */
export interface Variants<T> {
  plain: T;
  general: T;
}

const GENERAL_FLAGS = 'const noOverrides = c.overrides === null;\nconst noMocks = c.mocks === null;';

/** Helpers every generated function may name directly. */
const RUNTIME: Record<string, unknown> = { lookup, lookupPath, equal, RSet, makeObj, entriesOf, dataAt, nodeValue, builtinFailure, PENDING, UNDEF };

export class Emitter {
  private readonly out: string[] = [];
  private readonly consts: unknown[] = [];
  private readonly constIds = new Map<unknown, string>();
  private n = 0;
  private usesFrame = false;
  /** Statement that backtracks from the current point. */
  fail = 'return false;';
  /** Statement that ends the current search with success (leaves the innermost search block). */
  stop = 'return true;';

  /** Values already bound in the enclosing blocks, by the text that computes them (innermost block last). */
  private readonly known: Array<Map<string, string>> = [new Map()];

  line(s: string): void {
    this.out.push(s);
  }

  /** Emits `head {`; names bound inside are forgotten at the matching `close`. */
  open(head: string): void {
    this.out.push(`${head} {`);
    this.known.push(new Map());
  }

  close(tail = ''): void {
    this.out.push(`}${tail}`);
    this.known.pop();
  }

  /**
   * The name an earlier, still visible binding gave `expr`. Only for reads of immutable values
   * (input, rule values, lookups into them): evaluating them again would give the same value.
   */
  reuse(expr: string): string | undefined {
    for (let i = this.known.length - 1; i >= 0; i--) {
      const hit = this.known[i]!.get(expr);
      if (hit !== undefined) return hit;
    }
    return undefined;
  }

  remember(expr: string, name: string): void {
    this.known[this.known.length - 1]!.set(expr, name);
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

  /** The frame `{ s, c }` for a closure-compiled piece; its use keeps the variables in the frame's slot array. */
  frame(): string {
    this.usesFrame = true;
    return 'f';
  }

  /**
   * A rule variable. Without closure-compiled pieces, variables are plain locals (no slot array,
   * no frame object per evaluation); the choice is made in `build`, so slots are emitted as
   * tokens with control characters, which no JSON string literal in the code contains raw.
   */
  slot(n: number): string {
    return `\u0001${n}\u0002`;
  }

  /**
   * Compiles the emitted lines as the body of `function name(params)`, twice: `plain` for
   * contexts without `with` overrides or mocks (the flags are constants there, so V8 drops every
   * branch that serves them), `general` for any context, compiled on its first call (most
   * policies never use `with`). `c` must be one of the params; there are two. The name (made an
   * identifier) shows in stack traces and CPU profiles.
   */
  build<T>(params: string, nslots: number, name = 'generated'): Variants<T> {
    const names = [...Object.keys(RUNTIME), ...this.consts.map((_, i) => `k${i}`)];
    const values = [...Object.values(RUNTIME), ...this.consts];
    let prologue: string;
    let body = this.out.join('\n');
    if (this.usesFrame) {
      prologue = `const s = ${nslots === 0 ? '[]' : `new Array(${nslots})`};\nconst f = { s, c };`;
      body = body.replace(/\u0001(\d+)\u0002/g, 's[$1]');
    } else {
      prologue = nslots === 0 ? '' : `let ${Array.from({ length: nslots }, (_, i) => `s${i}`).join(', ')};`;
      body = body.replace(/\u0001(\d+)\u0002/g, 's$1');
    }
    const fname = name.replace(/[^A-Za-z0-9_$]/g, '_');
    const compile = (flags: string): T => {
      const src = `"use strict";\nreturn function ${fname}(${params}) {\n${flags}\n${prologue}\n${body}\n};`;
      return new Function(...names, src)(...values) as T;
    };
    const plain = compile('const noOverrides = true;\nconst noMocks = true;');
    let general: ((a: unknown, b: unknown) => unknown) | null = null;
    // A context's overrides and mocks are fixed when it is made: test them once per call.
    const lazy = (a: unknown, b: unknown): unknown => (general ??= compile(GENERAL_FLAGS) as (a: unknown, b: unknown) => unknown)(a, b);
    return { plain, general: lazy as T };
  }

  source(): string {
    return this.out.join('\n');
  }
}
