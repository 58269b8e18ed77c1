// Shared pieces of the body compiler: the compile environment, the compiled
// step shapes, and the small run-time combinators (chain, genAll) and
// compile-time helpers (staticRef, splitPairs) the compiler stages use.

import type { Term } from '../ast.js';
import type { Builtin, BuiltinTable } from '../builtins/types.js';
import { BuiltinError, PolicyError } from '../errors.js';
import { Ctx, type Frame, type Gen, type Getter, type Step, type Test } from '../eval/runtime.js';
import type { Location } from '../source.js';
import { RSet, type Value, equal, makeObj } from '../value.js';
import type { Scope, SlotMap } from './resolve.js';
import { type TreeNode } from './tree.js';

export interface CompileEnv {
  root: TreeNode;
  pkg: string[];
  /** alias → imported ref (head `data` or `input`). */
  imports: Map<string, Term>;
  /** First path segments of the rules of the current package. */
  ruleNames: Set<string>;
  builtins: BuiltinTable;
  slots: SlotMap;
  scopes: Map<object, Scope>;
}

export type Compiled = { test: Test } | { step: Step };
export type TermC = { get: Getter } | { gen: Gen };

export const TRUE_K = (): boolean => true;
const RET_TRUE = TRUE_K;

/** A body made only of deterministic steps carries a direct test (at most one solution). */
export type DetStep = Step & { test?: Test };

export function unsafe(name: string, loc: Location): PolicyError {
  return new PolicyError('rego_unsafe_var_error', `var ${name} is unsafe`, loc);
}

export function toGen(t: TermC): Gen {
  if ('gen' in t) return t.gen;
  const g = t.get;
  return (f, k) => {
    const v = g(f);
    return v === undefined ? false : k(v);
  };
}


export function callBuiltin(b: Builtin, args: Value[], c: Ctx, loc: Location | undefined): Value | undefined {
  try {
    return b.fn(args, c);
  } catch (e) {
    return builtinFailure(e, b, c, loc);
  }
}

/** What a builtin's throw means: undefined (non-strict builtin errors), or the error to raise. */
export function builtinFailure(e: unknown, b: Builtin, c: Ctx, loc: Location | undefined): undefined {
  if (e instanceof BuiltinError) {
    if (c.opts.strict) throw new PolicyError(e.type ? 'eval_type_error' : 'eval_builtin_error', `${b.name}: ${e.message}`, loc);
    return undefined;
  }
  if (e instanceof PolicyError) throw e;
  if (e instanceof RangeError) throw new PolicyError('eval_builtin_error', `${b.name}: ${e.message}`, loc);
  throw e;
}

export function callUser(node: TreeNode, _key: string, args: Value[], c: Ctx, loc: Location | undefined): Value | undefined {
  return c.overrides === null && c.mocks === null ? node.callPlain(args, c, loc) : node.call(args, c, loc);
}

/** Enumerates the cartesian product of several generators. */
export function genAll(gens: Gen[]): (f: Frame, k: (vals: Value[]) => boolean) => boolean {
  const n = gens.length;
  return (f, k) => {
    const vals: Value[] = new Array(n);
    const step = (i: number): boolean => {
      if (i === n) return k(vals.slice());
      return gens[i]!(f, (v) => {
        vals[i] = v;
        return step(i + 1);
      });
    };
    return step(0);
  };
}

/** Joins compiled expressions into one step; runs of tests become one loop. */
export function chain(parts: Compiled[]): Step {
  const det = parts.every((p) => 'test' in p);
  if (det) {
    // Only deterministic steps: one loop, marked so callers can skip continuation closures.
    const tests = parts.map((p) => (p as { test: Test }).test);
    const n = tests.length;
    let run: Step;
    if (n === 0) run = (_f, k) => k();
    else if (n === 1) {
      const t0 = tests[0]!;
      run = (f, k) => (t0(f) ? k() : false);
    } else if (n === 2) {
      const t0 = tests[0]!;
      const t1 = tests[1]!;
      run = (f, k) => (t0(f) && t1(f) ? k() : false);
    } else
      run = (f, k) => {
        for (let j = 0; j < n; j++) if (!tests[j]!(f)) return false;
        return k();
      };
    (run as DetStep).test = n === 0 ? () => true : (f) => run(f, RET_TRUE);
    return run;
  }
  let tail: Step = (_f, k) => k();
  for (let i = parts.length - 1; i >= 0; ) {
    const p = parts[i]!;
    if ('test' in p) {
      const tests: Test[] = [];
      while (i >= 0 && 'test' in parts[i]!) {
        tests.unshift((parts[i] as { test: Test }).test);
        i--;
      }
      const next = tail;
      if (tests.length === 1) {
        const t0 = tests[0]!;
        tail = (f, k) => (t0(f) ? next(f, k) : false);
      } else {
        const n = tests.length;
        tail = (f, k) => {
          for (let j = 0; j < n; j++) if (!tests[j]!(f)) return false;
          return next(f, k);
        };
      }
    } else {
      const s = p.step;
      const next = tail;
      tail = (f, k) => s(f, () => next(f, k));
      i--;
    }
  }
  return tail;
}

/** Element pairs of two composite literals of the same shape (arrays by index, objects by constant key). */
export function splitPairs(a: Term, b: Term): Array<[Term, Term]> | null {
  if (a.t === 'array' && b.t === 'array') {
    if (a.items.length !== b.items.length) return null;
    return a.items.map((x, i) => [x, b.items[i]!]);
  }
  if (a.t === 'object' && b.t === 'object' && a.items.length === b.items.length) {
    const out: Array<[Term, Term]> = [];
    for (const [ka, va] of a.items) {
      if (!isConstTerm(ka)) return null;
      const hit = b.items.find(([kb]) => isConstTerm(kb) && equal(constOf(ka), constOf(kb)));
      if (!hit) return null;
      out.push([va, hit[1]]);
    }
    return out;
  }
  return null;
}

function constOf(t: Term): Value {
  if (t.t === 'scalar') return t.v;
  if (t.t === 'array') return t.items.map(constOf);
  if (t.t === 'set') return new RSet(t.items.map(constOf));
  if (t.t === 'object') return makeObj(t.items.map(([k, v]) => [constOf(k), constOf(v)]));
  return null;
}

export function isConstTerm(t: Term): boolean {
  switch (t.t) {
    case 'scalar':
      return true;
    case 'array':
    case 'set':
      return t.items.every(isConstTerm);
    case 'object':
      return t.items.every(([k, v]) => isConstTerm(k) && isConstTerm(v));
    default:
      return false;
  }
}

/** Dotted static path of a ref (`input.a.b`, `data.x`, an import alias or a rule name expanded), or null. */
export function staticRef(t: Term, env: CompileEnv): string[] | null {
  let head: Term;
  let path: Term[];
  if (t.t === 'var') {
    head = t;
    path = [];
  } else if (t.t === 'ref') {
    head = t.head;
    path = t.path;
  } else return null;
  if (head.t !== 'var') return null;
  const rest: string[] = [];
  for (const p of path) {
    if (p.t !== 'scalar' || typeof p.v !== 'string') return null;
    rest.push(p.v);
  }
  if (env.slots.has(head)) return null;
  if (head.name === 'input' || head.name === 'data') return [head.name, ...rest];
  const imp = env.imports.get(head.name);
  if (imp) {
    const ip = staticRef(imp, env);
    return ip ? [...ip, ...rest] : null;
  }
  if (env.ruleNames.has(head.name)) return ['data', ...env.pkg, head.name, ...rest];
  return [head.name, ...rest];
}

