// Turns the definitions at one rule node into its evaluator: complete rules
// (with else chains and default), partial sets, (nested) partial objects, and
// functions. Conflicting outputs raise OPA's eval_conflict_error.

import type { Rule, Term } from '../ast.js';
import { PolicyError } from '../errors.js';
import type { Ctx, Frame, Gen, Getter, Step } from '../eval/runtime.js';
import type { Location } from '../source.js';
import { ObjBuilder, RSet, type Value, equal, isObj, keyOf, objEntries } from '../value.js';
import { BodyCompiler, type CompileEnv, type DetStep } from './body.js';
import { Resolver } from './resolve.js';
import { type TreeNode, nodeValue } from './tree.js';
import { type GenDef, type GenSetDef, type Variants, firstOf, generateMembers, generateValue, switchOnString, unionOf } from './gen/def.js';

interface Clause {
  run: Step;
  /** null → the rule's value is `true`. */
  value: Getter | null;
  /** Set instead of `value` when the head value itself enumerates (`q := xs[_]`). */
  valueGen: Gen | null;
  /** The value when it is a constant (lets evaluation stop at the first solution). */
  constant: boolean;
}

interface Def {
  rule: Rule;
  nslots: number;
  argPats: Array<(f: Frame, v: Value) => boolean>;
  clauses: Clause[];
  keys: Getter[];
  /** For set-valued leaves (`contains`). */
  member: Getter | null;
  /** The same definition as generated JavaScript (complete rules and functions), when generated. */
  gen: Variants<GenDef> | null;
  /** The same partial set definition as generated JavaScript, when generated. */
  genSet: Variants<GenSetDef> | null;
}

/** The two kinds of context generated code is specialised for (see Emitter.build). */
const VARIANTS = ['plain', 'general'] as const;
type Variant = (typeof VARIANTS)[number];

/** Whether a context has neither `with` overrides nor mocks (the plain generated code serves it). */
function isPlain(c: Ctx): boolean {
  return c.overrides === null && c.mocks === null;
}

/** Whether rule definitions are also compiled to generated JavaScript (the closures stay the reference). */
export interface CodegenOptions {
  codegen: boolean;
}

/** Terms of a head ref after the node's static path (the dynamic object keys). */
export function dynamicKeys(rule: Rule, staticLen: number): Term[] {
  return rule.head.ref.slice(staticLen);
}

function patternVars(t: Term, out: Term[]): void {
  if (t.t === 'var') out.push(t);
  else if (t.t === 'array') for (const x of t.items) patternVars(x, out);
  else if (t.t === 'object') for (const [, v] of t.items) patternVars(v, out);
}

function isConst(t: Term | null): boolean {
  if (t === null) return true;
  if (t.t === 'scalar') return true;
  if (t.t === 'array' || t.t === 'set') return t.items.every((x) => isConst(x));
  if (t.t === 'object') return t.items.every(([k, v]) => isConst(k) && isConst(v));
  return false;
}

/**
 * Compiles one rule definition. `staticLen` is how many head-ref elements name
 * the node (the rest are keys); `envFor` gives the module's environment.
 */
function compileDef(rule: Rule, staticLen: number, envFor: (r: Resolver) => CompileEnv, isRootName: (n: string) => boolean, isSet: boolean, msg: string, codegen: boolean): Def {
  const resolver = new Resolver(isRootName);
  const args = rule.head.args ?? [];
  const argVars: Term[] = [];
  for (const a of args) patternVars(a, argVars);
  const base = resolver.body([], null, args, argVars);
  const keyTerms = dynamicKeys(rule, staticLen);
  const memberTerm = rule.head.contains ?? (isSet && rule.legacySet ? keyTerms[keyTerms.length - 1]! : null);
  const keys = rule.legacySet ? keyTerms.slice(0, -1) : keyTerms;
  const headTerms: Term[] = [...keys];
  if (memberTerm) headTerms.push(memberTerm);
  if (rule.head.value) headTerms.push(rule.head.value);
  resolver.body(rule.body, base, headTerms);
  const elseScopes = rule.elses.map((e) => resolver.body(e.body, base, e.value ? [e.value] : []));
  void elseScopes;
  const env = envFor(resolver);
  const bc = new BodyCompiler(env);

  const argB = new Set<number>();
  const argPats = args.map((a) => bc.pattern(a, argB));
  const clauses: Clause[] = [];
  const B = new Set(argB);
  const run = bc.body(rule.body, B);
  const keyGetters = keys.map((k) => bc.getter(k, B));
  const member = memberTerm ? bc.getter(memberTerm, B) : null;
  const headValue = (t: Term | null, HB: Set<number>): Pick<Clause, 'value' | 'valueGen'> => {
    if (!t) return { value: null, valueGen: null };
    const tc = bc.term(t, HB);
    return 'get' in tc ? { value: tc.get, valueGen: null } : { value: null, valueGen: tc.gen };
  };
  clauses.push({ run, ...headValue(rule.head.value, B), constant: isConst(rule.head.value) });
  for (const e of rule.elses) {
    const EB = new Set(argB);
    const erun = e.body.length ? bc.body(e.body, EB) : (_f: Frame, k: () => boolean) => k();
    clauses.push({ run: erun, ...headValue(e.value, EB), constant: isConst(e.value) });
  }
  const nslots = resolver.counter.n;
  const def: Def = { rule, nslots, argPats, clauses, keys: keyGetters, member, gen: null, genSet: null };
  // The closures above validated the rule (safety, arity, unknown functions); the generator
  // follows the same decisions and covers the shapes evalDef and the set evaluator handle.
  if (codegen && keys.length === 0) {
    const shape = { rule, nslots, constant: clauses.map((c) => c.constant), member: memberTerm, msg };
    try {
      if (memberTerm === null) def.gen = generateValue(envFor(resolver), shape);
      else if (isSet && rule.elses.length === 0) def.genSet = generateMembers(envFor(resolver), shape);
    } catch {
      // The closures mean the same: a rule the generator cannot handle (or a runtime that forbids
      // `new Function`) is evaluated by them. Tests check that the default bundle is generated.
      def.gen = null;
      def.genSet = null;
    }
  }
  return def;
}

const RET_TRUE = (): boolean => true;
/** Frames of rules without variables share one (never written) slot array. */
const NO_SLOTS: Array<Value | undefined> = [];

function conflict(msg: string, loc: Location): PolicyError {
  return new PolicyError('eval_conflict_error', msg, loc);
}

/** Evaluates a def's clause chain; returns its value or undefined. `args` for functions. */
function evalDef(d: Def, c: Ctx, args: Value[] | null, msg: string): Value | undefined {
  if (d.gen !== null) return isPlain(c) ? d.gen.plain(c, args) : d.gen.general(c, args);
  // One frame serves every clause of the chain: each clause writes a slot before reading it,
  // and the argument slots are bound once.
  const f: Frame = { s: d.nslots === 0 ? NO_SLOTS : new Array(d.nslots), c };
  if (args) {
    for (let i = 0; i < d.argPats.length; i++) if (!d.argPats[i]!(f, args[i]!)) return undefined;
  }
  const clauses = d.clauses;
  for (let ci = 0; ci < clauses.length; ci++) {
    const cl = clauses[ci]!;
    // Constant head (`allow if …`, `x := "a" if …`): the first solution decides, no closure needed.
    if (cl.constant && cl.valueGen === null) {
      if (cl.run(f, RET_TRUE)) return cl.value === null ? true : cl.value(f);
      continue;
    }
    const det = (cl.run as DetStep).test;
    if (det !== undefined && cl.valueGen === null) {
      // At most one solution: no conflict to check within this clause.
      if (!det(f)) continue;
      const v = cl.value === null ? true : cl.value(f);
      if (v === undefined) continue;
      return v;
    }
    let out: Value | undefined;
    let found = false;
    const value = cl.value;
    const constant = cl.constant;
    const gen = cl.valueGen;
    const take = (v: Value): boolean => {
      found = true;
      if (out === undefined) out = v;
      else if (!equal(out, v)) throw conflict(msg, d.rule.loc);
      return constant;
    };
    cl.run(
      f,
      gen !== null
        ? () => gen(f, take)
        : () => {
            const v = value === null ? true : value(f);
            return v === undefined ? false : take(v);
          },
    );
    if (found) return out;
  }
  return undefined;
}

const FN_CONFLICT = 'functions must not produce multiple outputs for same inputs';
const COMPLETE_CONFLICT = 'complete rules must not produce multiple outputs';

export function compileNode(
  node: TreeNode,
  staticLenOf: (r: Rule) => number,
  envFor: (rule: Rule) => (r: Resolver) => CompileEnv,
  isRootNameFor: (rule: Rule) => (n: string) => boolean,
  opts: CodegenOptions = { codegen: true },
): void {
  const plain = compileEvaluators(node, staticLenOf, envFor, isRootNameFor, opts);
  // Evaluators that are not generated serve every context alike.
  node.evaluatePlain = plain?.evaluate ?? node.evaluate;
  node.callPlain = plain?.call ?? node.call;
}

/** Sets node.evaluate/call; returns the plain variants where generated code has them. */
function compileEvaluators(
  node: TreeNode,
  staticLenOf: (r: Rule) => number,
  envFor: (rule: Rule) => (r: Resolver) => CompileEnv,
  isRootNameFor: (rule: Rule) => (n: string) => boolean,
  opts: CodegenOptions,
): { evaluate?: TreeNode['evaluate']; call?: TreeNode['call'] } | null {
  const rules = node.rules.filter((r) => !r.isDefault);
  const defaults = node.rules.filter((r) => r.isDefault);
  const kind = node.kind!;
  const msgOf = kind === 'function' ? FN_CONFLICT : COMPLETE_CONFLICT;
  const defs = rules.map((r) => compileDef(r, staticLenOf(r), envFor(r), isRootNameFor(r), kind === 'set' || kind === 'object', msgOf, opts.codegen));
  if (defaults.length > 1) throw new PolicyError('rego_type_error', `multiple default rules data.${node.path.join('.')} found`, defaults[1]!.loc);
  // A default's value may be a comprehension over data, so it is evaluated per evaluation, when needed.
  const defDef = defaults.length ? compileDef(defaults[0]!, staticLenOf(defaults[0]!), envFor(defaults[0]!), isRootNameFor(defaults[0]!), false, '', opts.codegen) : null;
  const defaultOf = (c: Ctx): Value | undefined => (defDef ? evalDef(defDef, c, null, '') : undefined);
  node.generated = [...defs, ...(defDef ? [defDef] : [])].every((d) => d.gen !== null || d.genSet !== null);

  if (kind === 'function') {
    const msg = FN_CONFLICT;
    // Rule indexing: definitions whose first argument is a scalar constant (`reason("x") := …`)
    // are found by that argument; the others are always tried.
    const index = new Map<string, Def[]>();
    const always: Def[] = [];
    for (const d of defs) {
      const a0 = d.rule.head.args?.[0];
      if (a0 && a0.t === 'scalar') {
        const k = keyOf(a0.v);
        index.set(k, [...(index.get(k) ?? []), d]);
      } else always.push(d);
    }
    const useIndex = index.size >= 2;
    // Candidates per indexed constant, merged with the unindexed definitions in source order;
    // strings (the usual index) are looked up by themselves, without building a key.
    const byString = new Map<string, Def[]>();
    const byKey = new Map<string, Def[]>();
    for (const [k, hit] of index) {
      const merged = defs.filter((d) => hit.includes(d) || always.includes(d));
      if (k.charCodeAt(0) === 115 /* s */) byString.set(k.slice(1), merged);
      else byKey.set(k, merged);
    }
    const candidatesFor = (a0: Value): Def[] => {
      if (typeof a0 === 'string') return byString.get(a0) ?? always;
      if (typeof a0 === 'object' && a0 !== null) return defs;
      return byKey.get(keyOf(a0)) ?? always;
    };
    if (node.generated) {
      // Each candidate list as one generated dispatcher over its definitions, per variant.
      const fallback = defDef === null ? null : defaultOf;
      const callOf = (v: Variant): TreeNode['call'] => {
        const tryAll = (ds: Def[]): GenDef => firstOf(ds.map((d) => d.gen![v]), ds.map((d) => () => conflict(msg, d.rule.loc)), fallback);
        const allFn = tryAll(defs);
        if (!useIndex) return (args, c) => allFn(c, args);
        const alwaysFn = tryAll(always);
        const keyFns = new Map([...byKey].map(([k, ds]) => [k, tryAll(ds)]));
        // Other scalars (numbers, booleans, null) by their key; strings by a generated switch.
        const byOtherKey = (c: Ctx, args: Value[] | null): Value | undefined => (keyFns.get(keyOf(args![0]!)) ?? alwaysFn)(c, args);
        return switchOnString([...byString].map(([k, ds]) => [k, tryAll(ds)]), alwaysFn, allFn, byOtherKey);
      };
      node.call = callOf('general');
      return { call: callOf('plain') };
    }
    node.call = (args, c) => {
      let result: Value | undefined;
      const cands = useIndex && args.length ? candidatesFor(args[0]!) : defs;
      for (let i = 0; i < cands.length; i++) {
        const d = cands[i]!;
        const v = evalDef(d, c, args, msg);
        if (v === undefined) continue;
        if (result === undefined) result = v;
        else if (!equal(result, v)) throw conflict(msg, d.rule.loc);
      }
      return result === undefined ? defaultOf(c) : result;
    };
    return null;
  }
  if (kind === 'complete') {
    const msg = COMPLETE_CONFLICT;
    const only = defs.length === 1 ? defs[0]! : null;
    const cl = only && only.clauses.length === 1 ? only.clauses[0]! : null;
    const det = cl ? (cl.run as DetStep).test : undefined;
    if (node.generated && defs.length > 1) {
      const fallback = defDef === null ? null : defaultOf;
      const evaluateOf = (v: Variant): TreeNode['evaluate'] =>
        firstOf(
          defs.map((d) => d.gen![v]),
          defs.map((d) => () => conflict(msg, d.rule.loc)),
          fallback,
        ) as TreeNode['evaluate'];
      node.evaluate = evaluateOf('general');
      return { evaluate: evaluateOf('plain') };
    }
    if (only && only.gen !== null) {
      const evaluateOf = (variant: Variant): TreeNode['evaluate'] => {
        const gen = only.gen![variant];
        // No default: the generated definition is the evaluator (a rule takes no arguments).
        if (defDef === null) return gen as TreeNode['evaluate'];
        return (c) => {
          const v = gen(c, null);
          return v !== undefined ? v : defaultOf(c);
        };
      };
      node.evaluate = evaluateOf('general');
      return { evaluate: evaluateOf('plain') };
    }
    if (only && cl && det !== undefined && cl.valueGen === null) {
      // The common `x := <expr> if <tests>`: one definition, one clause, at most one solution.
      const value = cl.value;
      const nslots = only.nslots;
      node.evaluate = (c) => {
        const f: Frame = { s: nslots === 0 ? NO_SLOTS : new Array(nslots), c };
        if (det(f)) {
          const v = value === null ? true : value(f);
          if (v !== undefined) return v;
        }
        return defDef === null ? undefined : defaultOf(c);
      };
      return null;
    }
    node.evaluate = (c) => {
      let result: Value | undefined;
      for (let i = 0; i < defs.length; i++) {
        const d = defs[i]!;
        const v = evalDef(d, c, null, msg);
        if (v === undefined) continue;
        if (result === undefined) result = v;
        else if (!equal(result, v)) throw conflict(msg, d.rule.loc);
      }
      return result === undefined ? defaultOf(c) : result;
    };
    return null;
  }
  if (kind === 'set') {
    if (defs.every((d) => d.genSet !== null)) {
      node.evaluate = unionOf(defs.map((d) => d.genSet!.general));
      return { evaluate: unionOf(defs.map((d) => d.genSet!.plain)) };
    }
    node.evaluate = (c) => {
      const out = new RSet();
      for (let di = 0; di < defs.length; di++) {
        const d = defs[di]!;
        if (d.genSet !== null) {
          if (isPlain(c)) d.genSet.plain(c, out);
          else d.genSet.general(c, out);
          continue;
        }
        const f: Frame = { s: d.nslots === 0 ? NO_SLOTS : new Array(d.nslots), c };
        const m = d.member!;
        const det = (d.clauses[0]!.run as DetStep).test;
        if (det !== undefined) {
          if (det(f)) {
            const v = m(f);
            if (v !== undefined) out.add(v);
          }
          continue;
        }
        d.clauses[0]!.run(f, () => {
          const v = m(f);
          if (v !== undefined) out.add(v);
          return false;
        });
      }
      return out;
    };
    return null;
  }
  // Partial objects, possibly nested (`p[a][b] := v`) and with set leaves (`p[a] contains x`).
  node.evaluate = (c) => {
    const root = new ObjBuilder();
    for (const d of defs) {
      const f: Frame = { s: d.nslots === 0 ? NO_SLOTS : new Array(d.nslots), c };
      const cl = d.clauses[0]!;
      cl.run(f, () => {
        const keys: Value[] = [];
        for (const g of d.keys) {
          const k = g(f);
          if (k === undefined) return false;
          keys.push(k);
        }
        if (d.member) {
          const m = d.member(f);
          if (m === undefined) return false;
          insert(root, keys, m, true, d.rule.loc);
        } else {
          const v = cl.value === null ? true : cl.value(f);
          if (v === undefined) return false;
          insert(root, keys, v, false, d.rule.loc);
        }
        return false;
      });
    }
    // Rules below this node (`p.d.r := 3` beside `p[q].r.s := i`) merge into the same object.
    for (const [name, child] of node.children) {
      const v = nodeValue(c, child);
      if (v !== undefined) mergeAt(root, name, v, node.rules[0]!.loc);
    }
    return finish(root);
  };
  return null;
}

function mergeAt(b: ObjBuilder, k: Value, v: Value, loc: Location): void {
  const prev = b.get(k) as unknown;
  if (prev === undefined) {
    b.set(k, v);
    return;
  }
  if (prev instanceof RSet && v instanceof RSet) {
    for (const vv of v.values()) prev.add(vv);
    return;
  }
  if (prev instanceof ObjBuilder && isObj(v)) {
    for (const [kk, vv] of objEntries(v)) mergeAt(prev, kk, vv, loc);
    return;
  }
  if (!(prev instanceof ObjBuilder) && equal(prev as Value, v)) return;
  throw conflict('object keys must be unique', loc);
}

function insert(root: ObjBuilder, keys: Value[], v: Value, member: boolean, loc: Location): void {
  let cur = root;
  for (let i = 0; i < keys.length - 1; i++) {
    const k = keys[i]!;
    const next = cur.get(k) as unknown;
    if (next === undefined) {
      const b = new ObjBuilder();
      cur.set(k, b as unknown as Value);
      cur = b;
    } else if (next instanceof ObjBuilder) cur = next;
    else throw conflict('object keys must be unique', loc);
  }
  const last = keys[keys.length - 1]!;
  const prev = cur.get(last) as unknown;
  if (member) {
    if (prev === undefined) cur.set(last, new RSet([v]));
    else if (prev instanceof RSet) prev.add(v);
    else throw conflict('object keys must be unique', loc);
    return;
  }
  if (prev === undefined) cur.set(last, v);
  else if (prev instanceof ObjBuilder || !equal(prev as Value, v)) throw conflict('object keys must be unique', loc);
}

function finish(b: ObjBuilder): Value {
  const o = b.build();
  const fix = (v: Value): Value => (v instanceof ObjBuilder ? finish(v) : v);
  if ('map' in o && o.map instanceof Map) {
    for (const e of o.map.values()) (e as [Value, Value])[1] = fix((e as [Value, Value])[1]);
  } else {
    const p = o as Record<string, Value>;
    for (const k of Object.keys(p)) p[k] = fix(p[k]!);
  }
  return o;
}
