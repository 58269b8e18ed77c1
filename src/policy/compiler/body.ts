// Compiles rule bodies and expressions into closures over frame slots.
// Boundness of every variable is decided here, statically, after OPA-style
// reordering for safety, so evaluation never asks "is x bound?" at run time.

import type { Body, Expr, Term, With } from '../ast.js';
import { PolicyError } from '../errors.js';
import { Ctx, type Frame, type Mock, type Step, patch } from '../eval/runtime.js';
import type { Location } from '../source.js';
import { RSet, type Value, equal, isObj, objEntriesSorted } from '../value.js';
import { TermCompiler } from './terms.js';
import { type Compiled, type DetStep, TRUE_K, callBuiltin, callUser, chain, splitPairs, staticRef, toGen, unsafe } from './steps.js';

export { type CompileEnv, type DetStep, callBuiltin, callUser, chain, staticRef, toGen } from './steps.js';

export class BodyCompiler extends TermCompiler {
  // ---------- bodies ----------

  /** Compiles a body; B is updated with everything the body binds. */
  body(body: Body, B: Set<number>): Step {
    const mayBind = this.mayBindOf(body, B);
    const pending = body.slice();
    const parts: Compiled[] = [];
    while (pending.length) {
      const picked = this.nextReady(pending, mayBind, B);
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
          const direct = (inner as DetStep).test;
          if (direct !== undefined) return { test: (f) => !direct(f) };
          return { test: (f) => !inner(f, TRUE_K) };
        }
        return this.termExpr(e.term, B);
    }
  }

  protected termExpr(t: Term, B: Set<number>): Compiled {
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

  protected unify(a: Term, b: Term, B: Set<number>, loc: Location): Compiled {
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
  protected someIn(e: Expr & { kind: 'somein' }, B: Set<number>): Compiled {
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
            for (const x of c.sorted()) {
              if (keyPat && !keyPat(f, x)) continue;
              if (valPat(f, x) && k()) return true;
            }
          } else if (isObj(c)) {
            for (const [kk, x] of objEntriesSorted(c)) {
              if (keyPat && !keyPat(f, kk)) continue;
              if (valPat(f, x) && k()) return true;
            }
          }
          return false;
        }),
    };
  }

  protected every(e: Expr & { kind: 'every' }, B: Set<number>): Compiled {
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
          for (const x of c.sorted()) if (!holds(f, x, x)) return false;
        } else if (isObj(c)) {
          for (const [kk, x] of objEntriesSorted(c)) if (!holds(f, kk, x)) return false;
        } else return false;
        return true;
      },
    };
  }

  // ---------- with ----------

  protected withExpr(e: Expr, B: Set<number>): Compiled {
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

  protected withMod(w: With, B: Set<number>): (f: Frame, c: Ctx) => Ctx {
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
  protected fnKeyForPath(path: string[]): string | null {
    if (path[0] === 'data') {
      const n = this.env.root.find(path.slice(1));
      return n?.kind === 'function' ? path.join('.') : null;
    }
    const name = path.join('.');
    return this.env.builtins.has(name) ? name : null;
  }

  protected mockFor(t: Term, B: Set<number>): (f: Frame) => Mock | null {
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

}
