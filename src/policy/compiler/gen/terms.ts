// Terms as generated JavaScript. Each method emits the code that computes a
// term and then emits its continuation `k` exactly once, given the name of the
// value: once for a plain value, inside a loop for a term that enumerates.
// Boundness (B) is updated in exactly the order the closure compiler updates
// it, so both compilers make the same decisions. Rare shapes are compiled by
// the closure compiler and called from the generated code (`embed*`).

import type { Body, Term } from '../../ast.js';
import type { Ctx, Getter, Step } from '../../eval/runtime.js';
import { isConstTerm, type TermC, unsafe } from '../steps.js';
import { BodyCompiler } from '../body.js';
import { staticDataPath } from '../tree.js';
import { constantKeyPath, emitBuiltin, identityLiteral, prepared, stringFormat } from './calls.js';
import { type Emitter, loopOver } from './emitter.js';

export type K = (x: string) => void;

export abstract class TermGen extends BodyCompiler {
  protected abstract readonly em: Emitter;

  /** Emits `body` in OPA's safe order; `done` emits the code run for each solution. */
  abstract genBody(body: Body, B: Set<number>, done: () => void): void;

  /** A defined value (undefined fails) bound to a fresh const. */
  protected bind(expr: string, k: K): void {
    const t = this.em.temp();
    this.em.line(`const ${t} = ${expr};`);
    this.em.line(`if (${t} === undefined) ${this.em.fail}`);
    k(t);
  }

  /** `bind` for reads of immutable values: a read already bound in an enclosing block is reused. */
  protected bindRead(expr: string, k: K): void {
    const hit = this.em.reuse(expr);
    if (hit !== undefined) return k(hit);
    this.bind(expr, (t) => {
      this.em.remember(expr, t);
      k(t);
    });
  }

  /** Calls a closure-compiled term: a getter directly, a generator with the continuation as a callback. */
  protected embedTerm(tc: TermC, k: K): void {
    if ('get' in tc) return this.bind(`${this.em.ref(tc.get)}(${this.em.frame()})`, k);
    const em = this.em;
    const x = em.temp('x');
    em.open(`if (${em.ref(tc.gen)}(${em.frame()}, (${x}) =>`);
    em.within('return false;', 'return true;', () => k(x));
    em.line('return false;');
    em.close(`)) ${em.stop}`);
  }

  /** Calls a closure-compiled body step with the rest of the generated body as its continuation. */
  protected embedStep(step: Step, k: () => void): void {
    const em = this.em;
    em.open(`if (${em.ref(step)}(${em.frame()}, () =>`);
    em.within('return false;', 'return true;', k);
    em.line('return false;');
    em.close(`)) ${em.stop}`);
  }

  /**
   * True when a term yields at most one value with B as it is (no ref iteration, no
   * relation). Where the closure compiler takes the first value of an enumerating term
   * (`getter`), the generator embeds that getter instead of enumerating.
   */
  protected singleValued(t: Term, B: Set<number>): boolean {
    switch (t.t) {
      case 'scalar':
      case 'arraycomp':
      case 'setcomp':
      case 'objcomp':
        return true;
      case 'var': {
        const s = this.slot(t);
        return s === undefined || B.has(s);
      }
      case 'ref':
        return (
          this.singleValued(t.head, B) &&
          t.path.every((p) => (p.t === 'var' ? this.slot(p) === undefined || B.has(this.slot(p)!) : p.t !== 'array' && p.t !== 'object' ? this.singleValued(p, B) : this.isPatternReady(p, B) && this.singleValued(p, B)))
        );
      case 'array':
      case 'set':
        return t.items.every((x) => this.singleValued(x, B));
      case 'object':
        return t.items.every(([a, b]) => this.singleValued(a, B) && this.singleValued(b, B));
      case 'call': {
        const r = this.resolveFn(t);
        return !!r && !r.builtin?.relation && t.args.every((a) => this.singleValued(a, B));
      }
      case 'template':
        return false;
    }
  }

  /** `getter` semantics (first value of an enumerating term). */
  protected genGetter(t: Term, B: Set<number>, k: K): void {
    if (this.singleValued(t, B)) return this.genTerm(t, B, k);
    const g: Getter = this.getter(t, B);
    this.bind(`${this.em.ref(g)}(${this.em.frame()})`, k);
  }

  genTerm(t: Term, B: Set<number>, k: K): void {
    switch (t.t) {
      case 'scalar':
        return k(this.em.literal(t.v));
      case 'var': {
        const s = this.slot(t);
        if (s !== undefined) {
          if (!B.has(s)) throw unsafe(t.name, t.loc);
          return k(this.em.slot(s));
        }
        return this.genRef({ t: 'ref', head: t, path: [], loc: t.loc }, B, k);
      }
      case 'ref':
        return this.genRef(t, B, k);
      case 'array':
      case 'set':
      case 'object':
        return this.genCollection(t, B, k);
      case 'call':
        return this.genCall(t, B, k);
      case 'arraycomp':
      case 'setcomp':
      case 'objcomp':
        return this.genComprehension(t, B, k);
      default:
        return this.embedTerm(this.term(t, B), k);
    }
  }

  /** Emits terms left to right (each inside the previous one's continuation). */
  protected genAll(ts: Term[], B: Set<number>, k: (xs: string[]) => void, get = false): void {
    const xs: string[] = [];
    const step = (i: number): void => {
      if (i === ts.length) return k(xs);
      const next: K = (x) => {
        xs.push(x);
        step(i + 1);
      };
      if (get) this.genGetter(ts[i]!, B, next);
      else this.genTerm(ts[i]!, B, next);
    };
    step(0);
  }

  protected genCollection(t: Term & { t: 'array' | 'set' | 'object' }, B: Set<number>, k: K): void {
    if (t.t === 'array' ? t.items.every(isConstTerm) : t.t === 'set' ? t.items.every(isConstTerm) : t.items.every(([a, b]) => isConstTerm(a) && isConstTerm(b))) {
      // Built once by the closure compiler (which shares the one value between evaluations too).
      const tc = this.term(t, B);
      if ('get' in tc) return k(this.em.ref(tc.get({ s: [], c: null as unknown as Ctx })));
      return this.embedTerm(tc, k);
    }
    if (t.t === 'array') return this.genAll(t.items, B, (xs) => this.bind(`[${xs.join(', ')}]`, k));
    if (t.t === 'set') return this.genAll(t.items, B, (xs) => this.bind(`new RSet([${xs.join(', ')}])`, k));
    const flat = t.items.flat();
    const plainKeys = t.items.every(([a]) => a.t === 'scalar' && typeof a.v === 'string' && a.v !== '__proto__');
    this.genAll(flat, B, (xs) => {
      const pairs: string[] = [];
      for (let i = 0; i < xs.length; i += 2) pairs.push(plainKeys ? `${xs[i]}: ${xs[i + 1]}` : `[${xs[i]}, ${xs[i + 1]}]`);
      this.bind(plainKeys ? `{${pairs.join(', ')}}` : `makeObj([${pairs.join(', ')}])`, k);
    });
  }

  protected genComprehension(t: Term & { t: 'arraycomp' | 'setcomp' | 'objcomp' }, B: Set<number>, k: K): void {
    if (t.t === 'objcomp') return this.embedTerm(this.term(t, B), k);
    const em = this.em;
    const B2 = new Set(B);
    const out = em.temp('out');
    const label = em.temp('C');
    em.line(`const ${out} = ${t.t === 'arraycomp' ? '[]' : 'new RSet()'};`);
    em.open(`${label}:`);
    em.within(`break ${label};`, `break ${label};`, () =>
      this.genBody(t.body, B2, () => this.genGetter(t.head, B2, (v) => em.line(`${out}.${t.t === 'arraycomp' ? 'push' : 'add'}(${v});`))),
    );
    em.close();
    k(out);
  }

  // ---------- refs ----------

  protected genRef(t: Term & { t: 'ref' }, B: Set<number>, k: K): void {
    const head = t.head;
    if (head.t === 'var' && this.slot(head) === undefined) {
      const name = head.name;
      if (name === 'input') return this.bindRead('c.input', (x) => this.genPath(x, t.path, B, k));
      if (name === 'data') return this.genDataRef(t, B, k);
      const imp = this.env.imports.get(name);
      if (imp) {
        const expanded: Term = imp.t === 'ref' ? { ...imp, path: [...imp.path, ...t.path] } : { t: 'ref', head: imp, path: t.path, loc: t.loc };
        return this.genRef(expanded as Term & { t: 'ref' }, B, k);
      }
      if (this.env.ruleNames.has(name)) {
        const pkgPath: Term[] = [...this.env.pkg, name].map((p) => ({ t: 'scalar', v: p, loc: head.loc }));
        return this.genDataRef({ t: 'ref', head: { t: 'var', name: 'data', loc: head.loc }, path: [...pkgPath, ...t.path], loc: t.loc }, B, k);
      }
      throw unsafe(name, head.loc);
    }
    this.genTerm(head, B, (h) => this.genPath(h, t.path, B, k));
  }

  /** `data.…` refs: a rule's value straight from the evaluation cache; other shapes through the closure compiler. */
  protected genDataRef(t: Term & { t: 'ref' }, B: Set<number>, k: K): void {
    const path = t.path;
    // The same walk as the closure compiler's dataRef: along the virtual tree to a rule, a
    // package node, or off the tree into base data.
    const { keys: stat, node, consumed: i, offTree } = staticDataPath(this.env.root, path);
    const em = this.em;
    if (offTree || !node.isRule) {
      const prefix = offTree ? stat : stat.slice(0, i);
      const read = offTree ? `lookupPath(c.data, ${em.ref(prefix)})` : `nodeValue(c, ${em.ref(node)})`;
      return this.bindRead(`(noOverrides ? ${read} : dataAt(c, ${em.ref(this.env.root)}, ${em.ref(prefix)}))`, (x) =>
        this.genPath(x, path.slice(prefix.length), B, k),
      );
    }
    if (node.kind === 'function') return this.embedTerm(this.dataRef(path, B), k);
    const prefix = stat.slice(0, i);
    const rest = path.slice(i);
    const key = `rule ${node.id}`;
    const known = em.reuse(key);
    if (known !== undefined) return this.genPath(known, rest, B, k);
    // Ctx.ruleValue in place, so that each site calls one rule's evaluator (a call V8 can inline);
    // a pending entry (recursion) is left to ruleValue, which raises the error.
    const n = em.ref(node);
    const v = em.temp();
    const cache = em.temp('cache');
    em.line(`let ${v};`);
    em.open('if (noOverrides)');
    em.line(`const ${cache} = ${node.isStatic ? 'c.shared !== null ? c.shared : c.cache' : 'c.cache'};`);
    em.line(`${v} = ${cache}[${node.id}];`);
    // Without overrides or mocks, the rule's plain evaluator (its generated code specialised for that).
    em.line(`if (${v} === undefined) { ${cache}[${node.id}] = PENDING; ${v} = noMocks ? ${n}.evaluatePlain(c) : ${n}.evaluate(c); ${cache}[${node.id}] = ${v} === undefined ? UNDEF : ${v}; }`);
    em.line(`else if (${v} === UNDEF) ${v} = undefined;`);
    em.line(`else if (${v} === PENDING) ${v} = c.ruleValue(${n});`);
    em.close(` else ${v} = dataAt(c, ${em.ref(this.env.root)}, ${em.ref(prefix)});`);
    em.line(`if (${v} === undefined) ${em.fail}`);
    em.remember(key, v);
    this.genPath(v, rest, B, k);
  }

  /** Applies ref path elements: ground keys look up, unbound vars and patterns enumerate. */
  protected genPath(base: string, path: Term[], B: Set<number>, k: K): void {
    const em = this.em;
    if (!path.length) return k(base);
    const walk = (v: string, j: number): void => {
      if (j === path.length) return k(v);
      const p = path[j]!;
      if (p.t === 'scalar') {
        // A key no plain object inherits: read it in place (an inline cache per site), else the general lookup.
        if (typeof p.v === 'string' && !(p.v in Object.prototype) && p.v !== '__proto__') {
          const key = em.literal(p.v);
          return this.bindRead(`(typeof ${v} === 'object' && ${v} !== null && ${v}.constructor === Object ? ${v}[${key}] : lookup(${v}, ${key}))`, (x) => walk(x, j + 1));
        }
        if (typeof p.v === 'number' && Number.isSafeInteger(p.v) && p.v >= 0) {
          // An array index read in place (arrays hold no holes: out of range is undefined).
          return this.bindRead(`(Array.isArray(${v}) ? ${v}[${p.v}] : lookup(${v}, ${p.v}))`, (x) => walk(x, j + 1));
        }
        return this.bindRead(`lookup(${v}, ${em.literal(p.v)})`, (x) => walk(x, j + 1));
      }
      const s = p.t === 'var' ? this.slot(p) : undefined;
      if ((s !== undefined && !B.has(s)) || ((p.t === 'array' || p.t === 'object') && !this.isPatternReady(p, B))) {
        // Enumerate the collection; the key must match the pattern.
        const label = em.temp('L');
        const e = loopOver(em, v, label);
        em.within(`continue ${label};`, em.stop, () => {
          this.genPattern(p, B, e.key);
          walk(e.value, j + 1);
        });
        em.close();
        return;
      }
      const key: K = (kx) => this.bind(`lookup(${v}, ${kx})`, (x) => walk(x, j + 1));
      if (s !== undefined) return key(em.slot(s));
      if (this.singleValued(p, B)) return this.genTerm(p, B, key);
      return this.bind(`${em.ref(this.getter(p, B))}(${em.frame()})`, key);
    };
    walk(base, 0);
  }

  // ---------- patterns ----------

  /** Matches the value named `x` against a pattern term, binding its unbound vars (and marking them in B). */
  genPattern(t: Term, B: Set<number>, x: string): void {
    const em = this.em;
    if (t.t === 'var') {
      const s = this.slot(t);
      if (s !== undefined && !B.has(s)) {
        B.add(s);
        em.line(`${em.slot(s)} = ${x};`);
        return;
      }
    }
    if (t.t === 'array' && !this.isPatternReady(t, B)) {
      const a = em.temp('a');
      em.line(`const ${a} = ${x};`);
      em.line(`if (!Array.isArray(${a}) || ${a}.length !== ${t.items.length}) ${em.fail}`);
      t.items.forEach((item, i) => this.genPattern(item, B, `${a}[${i}]`));
      return;
    }
    if (t.t === 'object' && !this.isPatternReady(t, B)) {
      em.line(`if (!${em.ref(this.pattern(t, B))}(${em.frame()}, ${x})) ${em.fail}`);
      return;
    }
    if (t.t === 'scalar' && typeof t.v === 'string') {
      em.line(`if (${x} !== ${em.literal(t.v)}) ${em.fail}`);
      return;
    }
    if (this.singleValued(t, B)) {
      this.genTerm(t, B, (y) => em.line(`if (!equal(${y}, ${x})) ${em.fail}`));
      return;
    }
    em.line(`if (!${em.ref(this.pattern(t, B))}(${em.frame()}, ${x})) ${em.fail}`);
  }

  // ---------- calls ----------

  protected genCall(t: Term & { t: 'call' }, B: Set<number>, k: K): void {
    const { r, invoke } = this.callTarget(t);
    if (r.builtin?.relation) return this.embedTerm(this.call(t, B), k);
    const em = this.em;
    const loc = em.ref(t.loc);
    const inv = em.ref(invoke);
    const text = r.builtin?.name === 'sprintf' ? stringFormat(t) : null;
    if (text) {
      // sprintf of a constant format with %s/%v verbs only: string arguments are joined in place;
      // any other argument takes the builtin (which gives the same text for strings).
      const items = (t.args[1] as Term & { t: 'array' }).items;
      return this.genAll(items, B, (xs) => {
        const v = em.temp();
        const strings = xs.map((x) => `typeof ${x} === 'string'`).join(' && ');
        const joined = [...xs.map((x, i) => `${em.literal(text.pieces[i]!)} + ${x}`), em.literal(text.last)].join(' + ');
        em.line(`let ${v};`);
        em.line(`if (noMocks && ${strings || 'true'}) ${v} = ${joined};`);
        em.open('else');
        emitBuiltin(em, v, prepared(t, r.builtin!), [em.literal(text.format), `[${xs.join(', ')}]`], inv, loc);
        em.close();
        em.line(`if (${v} === undefined) ${em.fail}`);
        k(v);
      });
    }
    const keyPath = r.builtin?.name === 'object.get' ? constantKeyPath(t) : null;
    this.genAll(t.args, B, (xs) => {
      const args = `[${xs.join(', ')}]`;
      if (keyPath !== null) {
        // object.get of a plain object along constant keys: each step read in place, as a ref
        // reads it (what the builtin's lookup gives); other objects and types take the builtin.
        const v = em.temp();
        const x = em.temp('x');
        em.line(`let ${v};`);
        em.open(`if (noMocks && typeof ${xs[0]} === 'object' && ${xs[0]} !== null && ${xs[0]}.constructor === Object)`);
        em.line(`let ${x} = ${xs[0]};`);
        for (const key of keyPath) {
          const kx = em.literal(key);
          em.line(`if (${x} !== undefined) ${x} = typeof ${x} === 'object' && ${x} !== null && ${x}.constructor === Object ? ${x}[${kx}] : lookup(${x}, ${kx});`);
        }
        em.line(`${v} = ${x} === undefined ? ${xs[2]} : ${x};`);
        em.close();
        em.open('else');
        emitBuiltin(em, v, prepared(t, r.builtin!), xs, inv, loc);
        em.close();
        em.line(`if (${v} === undefined) ${em.fail}`);
        return k(v);
      }
      if (r.user) {
        const fn = em.ref(r.user);
        return this.bind(`(noMocks ? (noOverrides ? ${fn}.callPlain(${args}, c, ${loc}) : ${fn}.call(${args}, c, ${loc})) : ${inv}(${args}, c, ${loc}))`, k);
      }
      const op = r.builtin!.name === 'equal' ? '===' : r.builtin!.name === 'neq' ? '!==' : null;
      if (op && (identityLiteral(t.args[0]!) || identityLiteral(t.args[1]!))) {
        // Against a string, boolean or null constant, OPA's equality is JavaScript's identity.
        return this.bind(`(noMocks ? ${xs[0]} ${op} ${xs[1]} : ${inv}(${args}, c, ${loc}))`, k);
      }
      if (r.builtin!.name === 'internal.member_2') {
        // `x in s` for a set is the set's own lookup (what member does first), called in place.
        return this.bind(`(noMocks ? (${xs[1]} instanceof RSet ? ${xs[1]}.has(${xs[0]}) : ${em.ref(r.builtin!.fn2)}(${xs[0]}, ${xs[1]})) : ${inv}(${args}, c, ${loc}))`, k);
      }
      if (r.builtin!.fn2 && xs.length === 2) return this.bind(`(noMocks ? ${em.ref(r.builtin!.fn2)}(${xs[0]}, ${xs[1]}) : ${inv}(${args}, c, ${loc}))`, k);
      const v = em.temp();
      em.line(`let ${v};`);
      emitBuiltin(em, v, prepared(t, r.builtin!), xs, inv, loc);
      em.line(`if (${v} === undefined) ${em.fail}`);
      k(v);
    });
  }
}
