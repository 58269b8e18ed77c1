// Compiles terms (scalars, variables, refs into input/data/rules, collections,
// comprehensions, template strings, calls) into getters, or generators where a
// ref has unbound keys, plus patterns that bind variables by unification.

import type { Body, Term } from '../ast.js';
import { regoString } from '../builtins/strings.js';
import { PolicyError } from '../errors.js';
import { Ctx, type FnImpl, type Frame, type Getter, type Step, lookup } from '../eval/runtime.js';
import { ObjBuilder, RSet, type Value, equal, isObj, makeObj, objEntriesSorted, objGet, objSize } from '../value.js';
import { dataAt, nodeValue, staticDataPath } from './tree.js';
import { Analysis } from './analysis.js';
import { type TermC, callBuiltin, callUser, genAll, isConstTerm, toGen, unsafe } from './steps.js';

export abstract class TermCompiler extends Analysis {
  /** Compiles a body; B is updated with everything the body binds (see BodyCompiler). */
  abstract body(body: Body, B: Set<number>): Step;

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

  protected collection(t: Term & { t: 'array' | 'set' | 'object' }, B: Set<number>): TermC {
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

  protected comprehension(t: Term & { t: 'arraycomp' | 'setcomp' | 'objcomp' }, B: Set<number>): Getter {
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

  protected template(t: Term & { t: 'template' }, B: Set<number>): TermC {
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

  protected ref(t: Term & { t: 'ref' }, B: Set<number>): TermC {
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
    // The head's current value lives in a cell (saved and restored around each use, so nested
    // evaluations of the same ref do not clobber each other).
    const cell: { v: Value | undefined } = { v: undefined };
    const rest = this.applyPath(() => cell.v, t.path, B);
    const restGen = toGen(rest);
    return {
      gen: (f, k) =>
        bg(f, (v) => {
          const save = cell.v;
          cell.v = v;
          const r = restGen(f, k);
          cell.v = save;
          return r;
        }),
    };
  }

  protected dataRef(path: Term[], B: Set<number>): TermC {
    const root = this.env.root;
    const { keys: stat, node, consumed: i, offTree } = staticDataPath(root, path);
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
  protected applyPath(base: Getter, path: Term[], B: Set<number>): TermC {
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
            for (const x of v.sorted()) if (pat(f, x) && walk(f, x, j + 1, k)) return true;
          } else if (isObj(v)) {
            for (const [kk, x] of objEntriesSorted(v)) if (pat(f, kk) && walk(f, x, j + 1, k)) return true;
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

  protected call(t: Term & { t: 'call' }, B: Set<number>): TermC {
    const { r, invoke } = this.callTarget(t);
    const loc = t.loc;
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

  /** The function a call names (checked: defined, right arity) and its invoker, which honours `with` mocks. */
  protected callTarget(t: Term & { t: 'call' }): { r: NonNullable<ReturnType<Analysis['resolveFn']>>; invoke: FnImpl } {
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
    return { r, invoke };
  }
}
