// Evaluation-time state. A Ctx is one evaluation of a prepared policy: the input,
// the base data, per-evaluation caches of rule values, and any `with` overrides.
// A Frame holds the variable slots of one rule body (or query) being evaluated.

import { PolicyError } from '../errors.js';
import type { Location } from '../source.js';
import { type PlainObj, type Value, isObj, objGet } from '../value.js';

export interface Frame {
  s: Array<Value | undefined>;
  c: Ctx;
}

export type Getter = (f: Frame) => Value | undefined;
/** Enumerates values; `k` returns true to stop everything (halt). */
export type Gen = (f: Frame, k: (v: Value) => boolean) => boolean;
/** A body step that enumerates solutions. */
export type Step = (f: Frame, k: () => boolean) => boolean;
/** A deterministic body step: checks and possibly binds. */
export type Test = (f: Frame) => boolean;

export type FnImpl = (args: Value[], c: Ctx, loc: Location | undefined) => Value | undefined;

/** A `with` replacement of a function: either a value (the call returns it) or another function. */
export type Mock = { value: Value } | { fn: FnImpl; arity: number };

export interface Override {
  path: string[];
  value: Value;
}

/** Evaluation options shared by a whole query. */
export interface EvalOptions {
  strict: boolean;
  /** Fixed clock for time.now_ns (OPA: one value per query). */
  nowNs?: bigint;
}

export const PENDING = Symbol('pending');
export const UNDEF = Symbol('undefined');

export interface RuleNodeRt {
  id: number;
  path: string[];
  isStatic: boolean;
  evaluate(c: Ctx): Value | undefined;
  evaluatePlain(c: Ctx): Value | undefined;
}

export class Ctx {
  readonly cache: Array<Value | typeof PENDING | typeof UNDEF | undefined>;
  /** Cache of input-independent rules shared by evaluations over the same data (root contexts only). */
  shared: Array<Value | typeof PENDING | typeof UNDEF | undefined> | null = null;
  nowNs: bigint | undefined;
  constructor(
    readonly nodes: number,
    readonly input: Value | undefined,
    readonly data: Value,
    readonly overrides: Override[] | null,
    readonly mocks: Map<string, Mock> | null,
    readonly opts: EvalOptions,
    /** Values of package nodes (merged base + virtual), cached alike. */
    readonly parent: Ctx | null = null,
  ) {
    this.cache = new Array(nodes);
    this.nowNs = opts.nowNs ?? parent?.nowNs;
  }

  ruleValue(node: RuleNodeRt, loc?: Location): Value | undefined {
    const cache = node.isStatic && this.shared !== null ? this.shared : this.cache;
    const hit = cache[node.id];
    if (hit !== undefined) {
      if (hit === UNDEF) return undefined;
      if (hit === PENDING) throw new PolicyError('rego_recursion_error', `rule data.${node.path.join('.')} is recursive`, loc);
      return hit;
    }
    // No try/finally: an error aborts the whole evaluation, and this context is dropped with it.
    cache[node.id] = PENDING;
    const v = this.overrides === null && this.mocks === null ? node.evaluatePlain(this) : node.evaluate(this);
    cache[node.id] = v === undefined ? UNDEF : v;
    return v;
  }

  now(): bigint {
    if (this.nowNs === undefined) this.nowNs = BigInt(Date.now()) * 1000000n;
    return this.nowNs;
  }
}

/** Looks a path up in a value (plain descent through objects, arrays by integer index, sets by member). */
export function lookupPath(v: Value | undefined, path: readonly Value[]): Value | undefined {
  for (const k of path) {
    if (v === undefined) return undefined;
    v = lookup(v, k);
  }
  return v;
}

const hasOwn = Object.prototype.hasOwnProperty;

export function lookup(v: Value, k: Value): Value | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  if (typeof k === 'string') {
    const ctor = (v as object).constructor;
    if (ctor === Object || ctor === undefined) {
      // Plain object: a direct read, checked against the prototype only when it looks inherited.
      const x = (v as Record<string, Value>)[k];
      if (x === undefined) return undefined;
      if (typeof x === 'function' || k === '__proto__') return hasOwn.call(v, k) ? x : undefined;
      return x;
    }
  }
  if (Array.isArray(v)) {
    if (typeof k === 'number' && Number.isInteger(k) && k >= 0 && k < v.length) return v[k];
    return undefined;
  }
  if (isObj(v)) return objGet(v, k);
  return v.has(k) ? k : undefined;
}

/** A copy of `root` with `value` placed at `path` (creating objects on the way), for `with`. */
export function patch(root: Value | undefined, path: readonly string[], value: Value): Value {
  if (!path.length) return value;
  const [k, ...rest] = path as [string, ...string[]];
  const base: PlainObj = isObj(root ?? null) && !(root instanceof Object && 'map' in (root as object)) ? { ...(root as PlainObj) } : {};
  base[k] = patch(base[k], rest, value);
  return base;
}
