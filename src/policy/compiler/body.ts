// Compiles rule bodies, expressions and terms into closures over frame slots.
// Boundness of every variable is decided here, statically, after OPA-style
// reordering for safety, so evaluation never asks "is x bound?" at run time.

import type { Body, Expr, Term, With } from '../ast.js';
import type { Builtin, BuiltinTable } from '../builtins/types.js';
import { regoString } from '../builtins/strings.js';
import { BuiltinError, PolicyError } from '../errors.js';
import { Ctx, type FnImpl, type Frame, type Gen, type Getter, type Mock, type Step, type Test, lookup, patch } from '../eval/runtime.js';
import type { Location } from '../source.js';
import { ObjBuilder, RSet, type Value, equal, isObj, makeObj, objEntries, objGet, objSize } from '../value.js';
import type { Scope, SlotMap } from './resolve.js';
import { type TreeNode, dataAt, nodeValue } from './tree.js';

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

type Compiled = { test: Test } | { step: Step };
type TermC = { get: Getter } | { gen: Gen };

const TRUE_K = (): boolean => true;
const RET_TRUE = TRUE_K;

/** A body made only of deterministic steps carries a direct test (at most one solution). */
export type DetStep = Step & { test?: Test };

function unsafe(name: string, loc: Location): PolicyError {
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

export class BodyCompiler {
  constructor(readonly env: CompileEnv) {}

  slot(t: Term): number | undefined {
    return this.env.slots.get(t);
  }

  // ---------- analysis ----------

  /** Slots a term needs bound when used as a value; ref-key vars go to `outs` instead. */
  private inputs(t: Term, ins: Set<number>, outs: Set<number>): void {
    switch (t.t) {
      case 'var': {
        const s = this.slot(t);
        if (s !== undefined) ins.add(s);
        return;
      }
      case 'ref':
        this.inputs(t.head, ins, outs);
        for (const p of t.path) {
          if (p.t === 'var') {
            const s = this.slot(p);
            if (s !== undefined) outs.add(s);
          } else if (p.t === 'array' || p.t === 'object') this.patternSlots(p, outs, ins);
          else this.inputs(p, ins, outs);
        }
        return;
      case 'array':
      case 'set':
        for (const x of t.items) this.inputs(x, ins, outs);
        return;
      case 'object':
        for (const [k, v] of t.items) {
          this.inputs(k, ins, outs);
          this.inputs(v, ins, outs);
        }
        return;
      case 'call':
        for (const a of t.args) this.inputs(a, ins, outs);
        return;
      case 'template':
        for (const p of t.parts) if (typeof p !== 'string') this.inputs(p, ins, outs);
        return;
      case 'arraycomp':
      case 'setcomp':
      case 'objcomp':
        for (const s of this.freeSlots(t)) ins.add(s);
        return;
      default:
        return;
    }
  }

  /** Slots referenced inside a closure that belong to enclosing scopes. */
  private freeSlots(closure: object): Set<number> {
    const scope = this.env.scopes.get(closure);
    const all = new Set<number>();
    const owned = scope ? scope.ownedDeep() : new Set<number>();
    const visit = (x: unknown): void => {
      if (!x || typeof x !== 'object') return;
      if (Array.isArray(x)) {
        for (const y of x) visit(y);
        return;
      }
      const o = x as Record<string, unknown>;
      if (o.t === 'var') {
        const s = this.slot(o as Term);
        if (s !== undefined && !owned.has(s)) all.add(s);
        return;
      }
      for (const k of Object.keys(o)) if (k !== 'loc') visit(o[k]);
    };
    visit(closure);
    return all;
  }

  /** Vars at pattern positions (var, array items, object values) go to `pats`; the rest are inputs. */
  private patternSlots(t: Term, pats: Set<number>, ins: Set<number>, refOuts: Set<number> = pats): void {
    if (t.t === 'var') {
      const s = this.slot(t);
      if (s !== undefined) pats.add(s);
    } else if (t.t === 'array') for (const x of t.items) this.patternSlots(x, pats, ins, refOuts);
    else if (t.t === 'object')
      for (const [k, v] of t.items) {
        this.inputs(k, ins, refOuts);
        this.patternSlots(v, pats, ins, refOuts);
      }
    else this.inputs(t, ins, refOuts);
  }

  private isPatternReady(t: Term, B: Set<number>): boolean {
    const pats = new Set<number>();
    const ins = new Set<number>();
    this.patternSlots(t, pats, ins, new Set());
    for (const s of pats) if (!B.has(s)) return false;
    return true;
  }

  /** Can `a = b` be compiled with B bound: one side ground, or both composite and pairwise ready. */
  private unifyReady(a: Term, b: Term, B: Set<number>): boolean {
    if (this.isPatternReady(a, B) || this.isPatternReady(b, B)) return true;
    const pairs = splitPairs(a, b);
    if (pairs) {
      const B2 = new Set(B);
      const pending = pairs;
      let progress = true;
      while (pending.length && progress) {
        progress = false;
        for (let i = 0; i < pending.length; i++) {
          const [x, y] = pending[i]!;
          if (this.unifyReady(x, y, B2)) {
            this.outputsOf(x, B2);
            this.outputsOf(y, B2);
            pending.splice(i, 1);
            progress = true;
            break;
          }
        }
      }
      return pending.length === 0;
    }
    return false;
  }

  private outputsOf(t: Term, B: Set<number>): void {
    const pats = new Set<number>();
    const ins = new Set<number>();
    this.patternSlots(t, pats, ins);
    for (const s of pats) B.add(s);
  }

  private exprInfo(e: Expr, mayBind: Set<number>): { needs: Set<number>; outs: Set<number> } {
    const needs = new Set<number>();
    const outs = new Set<number>();
    for (const w of e.with) this.inputs(w.value, needs, outs);
    switch (e.kind) {
      case 'some':
        break;
      case 'somein':
        this.inputs(e.coll, needs, outs);
        if (e.key) this.patternSlots(e.key, outs, needs);
        this.patternSlots(e.value, outs, needs);
        break;
      case 'every': {
        const o2 = new Set<number>();
        this.inputs(e.coll, needs, o2);
        for (const s of this.freeSlots(e)) if (mayBind.has(s)) needs.add(s);
        break;
      }
      case 'term': {
        const t = e.term;
        if (e.negated) {
          const all = new Set<number>();
          this.inputs(t, all, all);
          for (const s of all) if (mayBind.has(s)) needs.add(s);
          break;
        }
        if (t.t === 'call' && (t.fn === 'eq' || t.fn === 'assign')) {
          this.patternSlots(t.args[0]!, outs, needs);
          this.patternSlots(t.args[1]!, outs, needs);
        } else if (t.t === 'call' && this.outputArg(t)) {
          for (let i = 0; i < t.args.length - 1; i++) this.inputs(t.args[i]!, needs, outs);
          this.patternSlots(t.args[t.args.length - 1]!, outs, needs);
        } else this.inputs(t, needs, outs);
      }
    }
    for (const s of outs) needs.delete(s);
    return { needs, outs };
  }

  /** True when a call passes one more argument than the function takes (the result is unified with it). */
  private outputArg(t: Term & { t: 'call' }): boolean {
    const r = this.resolveFn(t);
    return r !== null && r.arity >= 0 && t.args.length === r.arity + 1;
  }

  // ---------- bodies ----------

  /** Compiles a body; B is updated with everything the body binds. */
  body(body: Body, B: Set<number>): Step {
    const mayBind = new Set(B);
    const infos = body.map((e) => this.exprInfo(e, new Set()));
    for (const i of infos) for (const s of i.outs) mayBind.add(s);
    const pending = body.map((e) => e);
    const parts: Compiled[] = [];
    while (pending.length) {
      let picked = -1;
      for (let i = 0; i < pending.length; i++) {
        const e = pending[i]!;
        const { needs } = this.exprInfo(e, mayBind);
        let ok = true;
        for (const s of needs) if (!B.has(s)) ok = false;
        if (ok && e.kind === 'term' && !e.negated && e.term.t === 'call' && (e.term.fn === 'eq' || e.term.fn === 'assign')) {
          ok = this.unifyReady(e.term.args[0]!, e.term.args[1]!, B) || this.hasGenSide(e.term.args[0]!, e.term.args[1]!, B);
        }
        if (ok) {
          picked = i;
          break;
        }
      }
      if (picked < 0) {
        const e = pending[0]!;
        const { needs } = this.exprInfo(e, mayBind);
        let name = '';
        for (const s of needs) if (!B.has(s)) name = this.nameOfSlot(e, s) ?? name;
        if (!name) name = this.firstUnboundName(e, B) ?? '?';
        throw unsafe(name, e.loc);
      }
      const e = pending.splice(picked, 1)[0]!;
      const c = this.expr(e, B);
      if (c) parts.push(c);
    }
    return chain(parts);
  }

  private hasGenSide(a: Term, b: Term, B: Set<number>): boolean {
    // `x[i] = y[j]` style: neither side has pattern vars, both enumerate.
    const pa = new Set<number>();
    const pb = new Set<number>();
    this.patternSlots(a, pa, new Set(), new Set());
    this.patternSlots(b, pb, new Set(), new Set());
    return [...pa].every((s) => B.has(s)) || [...pb].every((s) => B.has(s));
  }

  private nameOfSlot(x: unknown, s: number): string | undefined {
    if (!x || typeof x !== 'object') return undefined;
    if (Array.isArray(x)) {
      for (const y of x) {
        const n = this.nameOfSlot(y, s);
        if (n) return n;
      }
      return undefined;
    }
    const o = x as Record<string, unknown>;
    if (o.t === 'var' && this.slot(o as Term) === s) return o.name as string;
    for (const k of Object.keys(o)) {
      if (k === 'loc') continue;
      const n = this.nameOfSlot(o[k], s);
      if (n) return n;
    }
    return undefined;
  }

  private firstUnboundName(e: Expr, B: Set<number>): string | undefined {
    const pats = new Set<number>();
    const ins = new Set<number>();
    if (e.kind === 'term') this.patternSlots(e.term, pats, ins);
    for (const s of [...ins, ...pats]) if (!B.has(s)) return this.nameOfSlot(e, s);
    return undefined;
  }

  // ---------- expressions ----------

  expr(e: Expr, B: Set<number>): Compiled | null {
    if (e.with.length) return this.withExpr(e, B);
    switch (e.kind) {
      case 'some':
        return null;
      case 'somein':
        return this.someIn(e, B);
      case 'every':
        return this.every(e, B);
      case 'term':
        if (e.negated) {
          const inner = this.body([{ ...e, negated: false }], new Set(B));
          return { test: (f) => !inner(f, TRUE_K) };
        }
        return this.termExpr(e.term, B);
    }
  }

  private termExpr(t: Term, B: Set<number>): Compiled {
    if (t.t === 'call' && (t.fn === 'eq' || t.fn === 'assign')) return this.unify(t.args[0]!, t.args[1]!, B, t.loc);
    if (t.t === 'call' && this.outputArg(t)) {
      const call: Term = { ...t, args: t.args.slice(0, -1) };
      return this.unify(t.args[t.args.length - 1]!, call, B, t.loc);
    }
    const tc = this.term(t, B);
    if ('get' in tc) {
      const g = tc.get;
      return {
        test: (f) => {
          const v = g(f);
          return v !== undefined && v !== false;
        },
      };
    }
    const gen = tc.gen;
    return { step: (f, k) => gen(f, (v) => (v !== false ? k() : false)) };
  }

  private unify(a: Term, b: Term, B: Set<number>, loc: Location): Compiled {
    const aReady = this.isPatternReady(a, B);
    const bReady = this.isPatternReady(b, B);
    if (bReady && !aReady) return this.unify(b, a, B, loc);
    if (aReady) {
      // Evaluate a (it may enumerate), match b as a pattern (or compare, or enumerate and compare).
      const av = this.term(a, B);
      if (bReady) {
        const bv = this.term(b, B);
        if ('get' in av && 'get' in bv) {
          const ga = av.get;
          const gb = bv.get;
          return {
            test: (f) => {
              const x = ga(f);
              if (x === undefined) return false;
              const y = gb(f);
              return y !== undefined && equal(x, y);
            },
          };
        }
        const gena = toGen(av);
        const genb = toGen(bv);
        return { step: (f, k) => gena(f, (x) => genb(f, (y) => (equal(x, y) ? k() : false))) };
      }
      const pat = this.pattern(b, B);
      if ('get' in av) {
        const ga = av.get;
        return {
          test: (f) => {
            const x = ga(f);
            return x !== undefined && pat(f, x);
          },
        };
      }
      const gena = av.gen;
      return { step: (f, k) => gena(f, (x) => (pat(f, x) ? k() : false)) };
    }
    const pairs = splitPairs(a, b);
    if (pairs) {
      const parts: Compiled[] = [];
      while (pairs.length) {
        const i = pairs.findIndex(([x, y]) => this.unifyReady(x, y, B));
        if (i < 0) throw unsafe(this.firstUnboundName({ kind: 'term', negated: false, term: pairs[0]![0], with: [], loc }, B) ?? '?', loc);
        const [x, y] = pairs.splice(i, 1)[0]!;
        parts.push(this.unify(x, y, B, loc));
      }
      const run = chain(parts);
      return { step: run };
    }
    throw unsafe(this.firstUnboundName({ kind: 'term', negated: false, term: a, with: [], loc }, B) ?? '?', loc);
  }

  /** A matcher binding the unbound vars of a pattern term to parts of a value. Marks them bound in B. */
  pattern(t: Term, B: Set<number>): (f: Frame, v: Value) => boolean {
    if (t.t === 'var') {
      const s = this.slot(t);
      if (s !== undefined && !B.has(s)) {
        B.add(s);
        return (f, v) => {
          f.s[s] = v;
          return true;
        };
      }
    }
    if (t.t === 'array' && !this.isPatternReady(t, B)) {
      const subs = t.items.map((x) => this.pattern(x, B));
      const n = subs.length;
      return (f, v) => {
        if (!Array.isArray(v) || v.length !== n) return false;
        for (let i = 0; i < n; i++) if (!subs[i]!(f, v[i]!)) return false;
        return true;
      };
    }
    if (t.t === 'object' && !this.isPatternReady(t, B)) {
      const keys = t.items.map(([k]) => this.getter(k, B));
      const subs = t.items.map(([, v]) => this.pattern(v, B));
      const n = subs.length;
      return (f, v) => {
        if (!isObj(v) || objSize(v) !== n) return false;
        for (let i = 0; i < n; i++) {
          const k = keys[i]!(f);
          if (k === undefined) return false;
          const x = objGet(v, k);
          if (x === undefined || !subs[i]!(f, x)) return false;
        }
        return true;
      };
    }
    const tc = this.term(t, B);
    if ('get' in tc) {
      const g = tc.get;
      return (f, v) => {
        const x = g(f);
        return x !== undefined && equal(x, v);
      };
    }
    const gen = tc.gen;
    return (f, v) => gen(f, (x) => equal(x, v));
  }

  private someIn(e: Expr & { kind: 'somein' }, B: Set<number>): Compiled {
    const coll = toGen(this.term(e.coll, B));
    const keyPat = e.key ? this.pattern(e.key, B) : null;
    const valPat = this.pattern(e.value, B);
    return {
      step: (f, k) =>
        coll(f, (c) => {
          if (Array.isArray(c)) {
            for (let i = 0; i < c.length; i++) {
              if (keyPat && !keyPat(f, i)) continue;
              if (valPat(f, c[i]!) && k()) return true;
            }
          } else if (c instanceof RSet) {
            for (const x of c.values()) {
              if (keyPat && !keyPat(f, x)) continue;
              if (valPat(f, x) && k()) return true;
            }
          } else if (isObj(c)) {
            for (const [kk, x] of objEntries(c)) {
              if (keyPat && !keyPat(f, kk)) continue;
              if (valPat(f, x) && k()) return true;
            }
          }
          return false;
        }),
    };
  }

  private every(e: Expr & { kind: 'every' }, B: Set<number>): Compiled {
    const coll = this.getter(e.coll, B);
    const B2 = new Set(B);
    const keyPat = e.key ? this.pattern(e.key, B2) : null;
    const valPat = this.pattern(e.value, B2);
    const body = this.body(e.body, B2);
    const holds = (f: Frame, kk: Value, x: Value): boolean => {
      if (keyPat && !keyPat(f, kk)) return true; // a key that does not match the pattern is not in the domain
      if (!valPat(f, x)) return true;
      return body(f, TRUE_K);
    };
    return {
      test: (f) => {
        const c = coll(f);
        if (c === undefined) return false;
        if (Array.isArray(c)) {
          for (let i = 0; i < c.length; i++) if (!holds(f, i, c[i]!)) return false;
        } else if (c instanceof RSet) {
          for (const x of c.values()) if (!holds(f, x, x)) return false;
        } else if (isObj(c)) {
          for (const [kk, x] of objEntries(c)) if (!holds(f, kk, x)) return false;
        } else return false;
        return true;
      },
    };
  }

  // ---------- with ----------

  private withExpr(e: Expr, B: Set<number>): Compiled {
    const mods = e.with.map((w) => this.withMod(w, B));
    const inner = this.expr({ ...e, with: [] } as Expr, B);
    const run: Step = inner === null ? (_f, k) => k() : 'test' in inner ? ((t) => (f: Frame, k: () => boolean) => (t(f) ? k() : false))(inner.test) : inner.step;
    return {
      step: (f, k) => {
        const outer = f.c;
        let c = outer;
        for (const m of mods) c = m(f, c);
        f.c = c;
        try {
          return run(f, () => {
            f.c = outer;
            try {
              return k();
            } finally {
              f.c = c;
            }
          });
        } finally {
          f.c = outer;
        }
      },
    };
  }

  private withMod(w: With, B: Set<number>): (f: Frame, c: Ctx) => Ctx {
    const target = w.target;
    const path = staticRef(target, this.env);
    if (!path) throw new PolicyError('rego_compile_error', 'with keyword target must reference existing input, data, or a function', w.loc);
    if (path[0] === 'input') {
      const rest = path.slice(1);
      const value = this.getter(w.value, B);
      return (f, c) => {
        const v = value(f);
        if (v === undefined) return c;
        return new Ctx(c.nodes, patch(c.input, rest, v), c.data, c.overrides, c.mocks, c.opts, c);
      };
    }
    const fnKey = this.fnKeyForPath(path);
    if (fnKey) {
      const mock = this.mockFor(w.value, B);
      return (f, c) => {
        const m = mock(f);
        if (!m) return c;
        const mocks = new Map(c.mocks ?? []);
        mocks.set(fnKey, m);
        return new Ctx(c.nodes, c.input, c.data, c.overrides, mocks, c.opts, c);
      };
    }
    if (path[0] !== 'data') throw new PolicyError('rego_compile_error', 'with keyword target must reference existing input, data, or a function', w.loc);
    const rest = path.slice(1);
    const value = this.getter(w.value, B);
    return (f, c) => {
      const v = value(f);
      if (v === undefined) return c;
      return new Ctx(c.nodes, c.input, c.data, [...(c.overrides ?? []), { path: rest, value: v }], c.mocks, c.opts, c);
    };
  }

  /** Key under which a function is mocked (`data.pkg.f` or a builtin name), when the path names one. */
  private fnKeyForPath(path: string[]): string | null {
    if (path[0] === 'data') {
      const n = this.env.root.find(path.slice(1));
      return n?.kind === 'function' ? path.join('.') : null;
    }
    const name = path.join('.');
    return this.env.builtins.has(name) ? name : null;
  }

  private mockFor(t: Term, B: Set<number>): (f: Frame) => Mock | null {
    const path = staticRef(t, this.env);
    if (path) {
      if (path[0] === 'data') {
        const n = this.env.root.find(path.slice(1));
        if (n?.kind === 'function') {
          const key = path.join('.');
          return () => ({ fn: (args, c, loc) => callUser(n, key, args, c, loc), arity: n.arity });
        }
      } else {
        const b = this.env.builtins.get(path.join('.'));
        if (b) return () => ({ fn: (args, c, loc) => callBuiltin(b, args, c, loc), arity: b.arity });
      }
    }
    const g = this.getter(t, B);
    return (f) => {
      const v = g(f);
      return v === undefined ? null : { value: v };
    };
  }

  // ---------- terms ----------

  getter(t: Term, B: Set<number>): Getter {
    const tc = this.term(t, B);
    if ('get' in tc) return tc.get;
    const gen = tc.gen;
    // A term that enumerates where one value is needed: take the first (OPA would reject most of these).
    return (f) => {
      let out: Value | undefined;
      gen(f, (v) => {
        out = v;
        return true;
      });
      return out;
    };
  }

  term(t: Term, B: Set<number>): TermC {
    switch (t.t) {
      case 'scalar': {
        const v = t.v;
        return { get: () => v };
      }
      case 'var': {
        const s = this.slot(t);
        if (s !== undefined) {
          if (!B.has(s)) throw unsafe(t.name, t.loc);
          return { get: (f) => f.s[s] };
        }
        return this.ref({ t: 'ref', head: t, path: [], loc: t.loc }, B);
      }
      case 'ref':
        return this.ref(t, B);
      case 'array':
      case 'set':
      case 'object':
        return this.collection(t, B);
      case 'call':
        return this.call(t, B);
      case 'arraycomp':
      case 'setcomp':
      case 'objcomp':
        return { get: this.comprehension(t, B) };
      case 'template':
        return this.template(t, B);
    }
  }

  private collection(t: Term & { t: 'array' | 'set' | 'object' }, B: Set<number>): TermC {
    const items: Term[] = t.t === 'object' ? t.items.flat() : t.items;
    const cs = items.map((x) => this.term(x, B));
    const build = (vals: Value[]): Value => {
      if (t.t === 'array') return vals;
      if (t.t === 'set') return new RSet(vals);
      const entries: Array<[Value, Value]> = [];
      for (let i = 0; i < vals.length; i += 2) entries.push([vals[i]!, vals[i + 1]!]);
      return makeObj(entries);
    };
    if (cs.every((c) => 'get' in c)) {
      const gs = cs.map((c) => (c as { get: Getter }).get);
      if (items.every((x) => isConstTerm(x))) {
        const v = build(gs.map((g) => g({ s: [], c: null as unknown as Ctx })!));
        return { get: () => v };
      }
      const n = gs.length;
      // Objects with constant string keys (the common `{"allow": x, ...}`) are built directly.
      if (t.t === 'object' && t.items.every(([k]) => k.t === 'scalar' && typeof k.v === 'string')) {
        const keys = t.items.map(([k]) => (k as { v: string }).v);
        const vg = t.items.map((_, i) => gs[2 * i + 1]!);
        const m = keys.length;
        return {
          get: (f) => {
            const o: Record<string, Value> = {};
            for (let i = 0; i < m; i++) {
              const v = vg[i]!(f);
              if (v === undefined) return undefined;
              o[keys[i]!] = v;
            }
            return o;
          },
        };
      }
      return {
        get: (f) => {
          const vals: Value[] = new Array(n);
          for (let i = 0; i < n; i++) {
            const v = gs[i]!(f);
            if (v === undefined) return undefined;
            vals[i] = v;
          }
          return build(vals);
        },
      };
    }
    const all = genAll(cs.map(toGen));
    return { gen: (f, k) => all(f, (vals) => k(build(vals))) };
  }

  private comprehension(t: Term & { t: 'arraycomp' | 'setcomp' | 'objcomp' }, B: Set<number>): Getter {
    const B2 = new Set(B);
    const body = this.body(t.body, B2);
    if (t.t === 'arraycomp') {
      const head = this.getter(t.head, B2);
      return (f) => {
        const out: Value[] = [];
        body(f, () => {
          const v = head(f);
          if (v !== undefined) out.push(v);
          return false;
        });
        return out;
      };
    }
    if (t.t === 'setcomp') {
      const head = this.getter(t.head, B2);
      return (f) => {
        const out = new RSet();
        body(f, () => {
          const v = head(f);
          if (v !== undefined) out.add(v);
          return false;
        });
        return out;
      };
    }
    const key = this.getter(t.key, B2);
    const val = this.getter(t.value, B2);
    const loc = t.loc;
    return (f) => {
      const out = new ObjBuilder();
      body(f, () => {
        const k = key(f);
        const v = val(f);
        if (k === undefined || v === undefined) return false;
        const prev = out.get(k);
        if (prev !== undefined && !equal(prev, v)) throw new PolicyError('eval_conflict_error', 'object keys must be unique', loc);
        out.set(k, v);
        return false;
      });
      return out.build();
    };
  }

  private template(t: Term & { t: 'template' }, B: Set<number>): TermC {
    const parts = t.parts.map((p) => (typeof p === 'string' ? p : this.getter(p, B)));
    return {
      get: (f) => {
        let s = '';
        for (const p of parts) {
          if (typeof p === 'string') s += p;
          else {
            const v = p(f);
            s += v === undefined ? '<undefined>' : typeof v === 'string' ? v : regoString(v);
          }
        }
        return s;
      },
    };
  }

  // ---------- refs ----------

  private ref(t: Term & { t: 'ref' }, B: Set<number>): TermC {
    const head = t.head;
    if (head.t === 'var' && this.slot(head) === undefined) {
      const name = head.name;
      if (name === 'input') return this.applyPath((f) => f.c.input, t.path, B);
      if (name === 'data') return this.dataRef(t.path, B);
      const imp = this.env.imports.get(name);
      if (imp) {
        const expanded: Term = imp.t === 'ref' ? { ...imp, path: [...imp.path, ...t.path] } : { t: 'ref', head: imp, path: t.path, loc: t.loc };
        return this.ref(expanded as Term & { t: 'ref' }, B);
      }
      if (this.env.ruleNames.has(name)) {
        const pkgPath: Term[] = [...this.env.pkg, name].map((p) => ({ t: 'scalar', v: p, loc: head.loc }));
        return this.dataRef([...pkgPath, ...t.path], B);
      }
      throw unsafe(name, head.loc);
    }
    const base = this.term(head, B);
    if ('get' in base) return this.applyPath(base.get, t.path, B);
    const bg = base.gen;
    const rest = this.applyPath((f) => f.s[RESERVED], t.path, B);
    // Rare: a ref whose head enumerates (e.g. a call with enumerated args); evaluate path per value.
    const restGen = toGen(rest);
    return {
      gen: (f, k) =>
        bg(f, (v) => {
          const save = f.s[RESERVED];
          f.s[RESERVED] = v;
          const r = restGen(f, k);
          f.s[RESERVED] = save;
          return r;
        }),
    };
  }

  private dataRef(path: Term[], B: Set<number>): TermC {
    const root = this.env.root;
    const stat: string[] = [];
    for (const p of path) {
      if (p.t === 'scalar' && typeof p.v === 'string') stat.push(p.v);
      else break;
    }
    // Walk the virtual tree along the static prefix.
    let node = root;
    let i = 0;
    let offTree = false;
    while (i < stat.length) {
      const next = node.children.get(stat[i]!);
      if (!next) {
        offTree = !node.isRule;
        break;
      }
      node = next;
      i++;
      if (node.isRule) break;
    }
    let baseGet: Getter;
    let consumed: number;
    if (offTree) {
      const full = stat.slice();
      consumed = stat.length;
      baseGet = (f) => {
        let v: Value | undefined = f.c.data;
        for (let j = 0; j < full.length && v !== undefined; j++) v = lookup(v, full[j]!);
        return v;
      };
    } else {
      consumed = i;
      const n = node;
      if (n.isRule && n.kind === 'function') return { get: () => undefined };
      baseGet = n.isRule ? (f) => f.c.ruleValue(n) : (f) => nodeValue(f.c, n);
    }
    const prefix = stat.slice(0, consumed);
    const fast = baseGet;
    let get: Getter = (f) => (f.c.overrides === null ? fast(f) : dataAt(f.c, root, prefix));
    if (!offTree && node.isRule) {
      // A rule reference (the most common ref in policies): one closure, no detour.
      const n = node;
      get = (f) => {
        const c = f.c;
        return c.overrides === null ? c.ruleValue(n) : dataAt(c, root, prefix);
      };
    }
    return this.applyPath(get, path.slice(consumed), B);
  }

  /** Applies ref path elements to a base value: ground keys look up, unbound vars enumerate. */
  private applyPath(base: Getter, path: Term[], B: Set<number>): TermC {
    if (!path.length) return { get: base };
    type Op = { k: 'get'; g: Getter } | { k: 'const'; v: Value } | { k: 'iter'; pat: (f: Frame, v: Value) => boolean };
    const ops: Op[] = [];
    for (const p of path) {
      if (p.t === 'scalar') ops.push({ k: 'const', v: p.v });
      else if (p.t === 'var' && this.slot(p) !== undefined && !B.has(this.slot(p)!)) ops.push({ k: 'iter', pat: this.pattern(p, B) });
      else if ((p.t === 'array' || p.t === 'object') && !this.isPatternReady(p, B)) ops.push({ k: 'iter', pat: this.pattern(p, B) });
      else ops.push({ k: 'get', g: this.getter(p, B) });
    }
    if (ops.every((o) => o.k !== 'iter')) {
      if (ops.every((o) => o.k === 'const')) {
        const keys = ops.map((o) => (o as { v: Value }).v);
        if (keys.length === 1) {
          const k0 = keys[0]!;
          return {
            get: (f) => {
              const v = base(f);
              return v === undefined ? undefined : lookup(v, k0);
            },
          };
        }
        return {
          get: (f) => {
            let v = base(f);
            for (let j = 0; j < keys.length && v !== undefined; j++) v = lookup(v, keys[j]!);
            return v;
          },
        };
      }
      return {
        get: (f) => {
          let v = base(f);
          for (let j = 0; j < ops.length && v !== undefined; j++) {
            const o = ops[j]!;
            const key = o.k === 'const' ? o.v : (o as { g: Getter }).g(f);
            if (key === undefined) return undefined;
            v = lookup(v, key);
          }
          return v;
        },
      };
    }
    const walk = (f: Frame, v: Value, j: number, k: (v: Value) => boolean): boolean => {
      for (; j < ops.length; j++) {
        const o = ops[j]!;
        if (o.k === 'iter') {
          const pat = o.pat;
          if (Array.isArray(v)) {
            for (let i = 0; i < v.length; i++) if (pat(f, i) && walk(f, v[i]!, j + 1, k)) return true;
          } else if (v instanceof RSet) {
            for (const x of [...v.values()]) if (pat(f, x) && walk(f, x, j + 1, k)) return true;
          } else if (isObj(v)) {
            for (const [kk, x] of objEntries(v)) if (pat(f, kk) && walk(f, x, j + 1, k)) return true;
          }
          return false;
        }
        const key = o.k === 'const' ? o.v : o.g(f);
        if (key === undefined) return false;
        const next = lookup(v, key);
        if (next === undefined) return false;
        v = next;
      }
      return k(v);
    };
    return {
      gen: (f, k) => {
        const v = base(f);
        return v === undefined ? false : walk(f, v, 0, k);
      },
    };
  }

  // ---------- calls ----------

  resolveFn(t: Term & { t: 'call' }): { arity: number; user?: TreeNode; key: string; builtin?: Builtin } | null {
    const parts = t.fn.split('.');
    let path: string[] | null = null;
    if (parts[0] === 'data') path = parts.slice(1);
    else if (this.env.imports.has(parts[0]!)) {
      const imp = staticRef(this.env.imports.get(parts[0]!)!, this.env);
      if (imp && imp[0] === 'data') path = [...imp.slice(1), ...parts.slice(1)];
    } else if (this.env.ruleNames.has(parts[0]!)) path = [...this.env.pkg, ...parts];
    if (path) {
      const n = this.env.root.find(path);
      if (n?.kind === 'function') return { arity: n.arity, user: n, key: 'data.' + path.join('.') };
      return null;
    }
    const b = this.env.builtins.get(t.fn);
    if (b) return { arity: b.arity, builtin: b, key: b.name };
    return null;
  }

  private call(t: Term & { t: 'call' }, B: Set<number>): TermC {
    const r = this.resolveFn(t);
    if (!r) throw new PolicyError('rego_type_error', `undefined function ${t.fn}`, t.loc);
    if (t.args.length !== r.arity && r.arity >= 0) {
      throw new PolicyError('rego_type_error', `${t.fn}: arity mismatch\n\thave: ${t.args.length} arguments\n\twant: ${r.arity} arguments`, t.loc);
    }
    const key = r.key;
    const loc = t.loc;
    let impl: FnImpl;
    if (r.user) {
      const node = r.user;
      impl = (args, c) => callUser(node, key, args, c, loc);
    } else {
      const b = r.builtin!;
      impl = (args, c) => callBuiltin(b, args, c, loc);
    }
    const invoke: FnImpl = (args, c) => {
      const m = c.mocks;
      if (m !== null) {
        const mk = m.get(key);
        if (mk) {
          if ('value' in mk) return mk.value;
          // Inside the replacement, the replaced function is the original again (no self-recursion).
          const rest = new Map(m);
          rest.delete(key);
          return mk.fn(args, new Ctx(c.nodes, c.input, c.data, c.overrides, rest.size ? rest : null, c.opts, c), loc);
        }
      }
      return impl(args, c, loc);
    };
    const cs = t.args.map((a) => this.term(a, B));
    if (r.builtin?.relation) {
      const all = genAll(cs.map(toGen));
      return {
        gen: (f, k) =>
          all(f, (args) => {
            const vs = invoke(args, f.c, loc);
            if (!Array.isArray(vs)) return false;
            for (const v of vs) if (k(v)) return true;
            return false;
          }),
      };
    }
    if (cs.every((c) => 'get' in c)) {
      const gs = cs.map((c) => (c as { get: Getter }).get);
      const n = gs.length;
      if (n === 1) {
        const g0 = gs[0]!;
        return {
          get: (f) => {
            const a = g0(f);
            return a === undefined ? undefined : invoke([a], f.c, loc);
          },
        };
      }
      if (n === 2 && r.builtin?.fn2) {
        // Operators (`==`, `<`, `+` …): no argument array, no mock lookup unless `with` mocked something.
        const g0 = gs[0]!;
        const g1 = gs[1]!;
        const fn2 = r.builtin.fn2;
        return {
          get: (f) => {
            const a = g0(f);
            if (a === undefined) return undefined;
            const b = g1(f);
            if (b === undefined) return undefined;
            return f.c.mocks === null ? fn2(a, b) : invoke([a, b], f.c, loc);
          },
        };
      }
      if (n === 2) {
        const g0 = gs[0]!;
        const g1 = gs[1]!;
        return {
          get: (f) => {
            const a = g0(f);
            if (a === undefined) return undefined;
            const b = g1(f);
            return b === undefined ? undefined : invoke([a, b], f.c, loc);
          },
        };
      }
      return {
        get: (f) => {
          const args: Value[] = new Array(n);
          for (let i = 0; i < n; i++) {
            const v = gs[i]!(f);
            if (v === undefined) return undefined;
            args[i] = v;
          }
          return invoke(args, f.c, loc);
        },
      };
    }
    const all = genAll(cs.map(toGen));
    return {
      gen: (f, k) =>
        all(f, (args) => {
          const v = invoke(args, f.c, loc);
          return v === undefined ? false : k(v);
        }),
    };
  }
}

/** Scratch slot used while enumerating a ref whose head itself enumerates. */
const RESERVED = 0x3fffffff;

export function callBuiltin(b: Builtin, args: Value[], c: Ctx, loc: Location | undefined): Value | undefined {
  try {
    return b.fn(args, c);
  } catch (e) {
    if (e instanceof BuiltinError) {
      if (c.opts.strict) throw new PolicyError(e.type ? 'eval_type_error' : 'eval_builtin_error', `${b.name}: ${e.message}`, loc);
      return undefined;
    }
    if (e instanceof PolicyError) throw e;
    if (e instanceof RangeError) throw new PolicyError('eval_builtin_error', `${b.name}: ${e.message}`, loc);
    throw e;
  }
}

export function callUser(node: TreeNode, _key: string, args: Value[], c: Ctx, loc: Location | undefined): Value | undefined {
  return node.call(args, c, loc);
}

/** Enumerates the cartesian product of several generators. */
function genAll(gens: Gen[]): (f: Frame, k: (vals: Value[]) => boolean) => boolean {
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
function splitPairs(a: Term, b: Term): Array<[Term, Term]> | null {
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

function isConstTerm(t: Term): boolean {
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
