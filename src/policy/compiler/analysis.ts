// Safety analysis of bodies: which variables an expression needs bound and
// which it binds, so the compiler can order expressions as OPA does and report
// unsafe variables with their location.

import type { Expr, Term } from '../ast.js';
import type { Builtin } from '../builtins/types.js';
import { type TreeNode } from './tree.js';
import { type CompileEnv, splitPairs, staticRef } from './steps.js';

export abstract class Analysis {
  constructor(readonly env: CompileEnv) {}

  slot(t: Term): number | undefined {
    return this.env.slots.get(t);
  }

  // ---------- analysis ----------

  /** Slots a term needs bound when used as a value; ref-key vars go to `outs` instead. */
  protected inputs(t: Term, ins: Set<number>, outs: Set<number>): void {
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
  protected freeSlots(closure: object): Set<number> {
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
  protected patternSlots(t: Term, pats: Set<number>, ins: Set<number>, refOuts: Set<number> = pats): void {
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

  protected isPatternReady(t: Term, B: Set<number>): boolean {
    const pats = new Set<number>();
    const ins = new Set<number>();
    this.patternSlots(t, pats, ins, new Set());
    for (const s of pats) if (!B.has(s)) return false;
    return true;
  }

  /** Can `a = b` be compiled with B bound: one side ground, or both composite and pairwise ready. */
  protected unifyReady(a: Term, b: Term, B: Set<number>): boolean {
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

  protected outputsOf(t: Term, B: Set<number>): void {
    const pats = new Set<number>();
    const ins = new Set<number>();
    this.patternSlots(t, pats, ins);
    for (const s of pats) B.add(s);
  }

  protected exprInfo(e: Expr, mayBind: Set<number>): { needs: Set<number>; outs: Set<number> } {
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

  /** Everything a body may bind on top of B: a negation or `every` needs those bound first. */
  protected mayBindOf(body: readonly Expr[], B: Set<number>): Set<number> {
    const mayBind = new Set(B);
    for (const e of body) for (const s of this.exprInfo(e, new Set()).outs) mayBind.add(s);
    return mayBind;
  }

  /**
   * Index of the first pending expression that can run with B bound (OPA's safety order),
   * or -1 when none can. The closure compiler and the code generator both order bodies
   * with this, so they agree on evaluation order.
   */
  protected nextReady(pending: readonly Expr[], mayBind: Set<number>, B: Set<number>): number {
    for (let i = 0; i < pending.length; i++) {
      const e = pending[i]!;
      const { needs } = this.exprInfo(e, mayBind);
      let ok = true;
      for (const s of needs) if (!B.has(s)) ok = false;
      if (ok && e.kind === 'term' && !e.negated && e.term.t === 'call' && (e.term.fn === 'eq' || e.term.fn === 'assign')) {
        ok = this.unifyReady(e.term.args[0]!, e.term.args[1]!, B) || this.hasGenSide(e.term.args[0]!, e.term.args[1]!, B);
      }
      if (ok) return i;
    }
    return -1;
  }

  /** True when a call passes one more argument than the function takes (the result is unified with it). */
  protected outputArg(t: Term & { t: 'call' }): boolean {
    const r = this.resolveFn(t);
    return r !== null && r.arity >= 0 && t.args.length === r.arity + 1;
  }

  protected hasGenSide(a: Term, b: Term, B: Set<number>): boolean {
    // `x[i] = y[j]` style: neither side has pattern vars, both enumerate.
    const pa = new Set<number>();
    const pb = new Set<number>();
    this.patternSlots(a, pa, new Set(), new Set());
    this.patternSlots(b, pb, new Set(), new Set());
    return [...pa].every((s) => B.has(s)) || [...pb].every((s) => B.has(s));
  }

  protected nameOfSlot(x: unknown, s: number): string | undefined {
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

  protected firstUnboundName(e: Expr, B: Set<number>): string | undefined {
    const pats = new Set<number>();
    const ins = new Set<number>();
    if (e.kind === 'term') this.patternSlots(e.term, pats, ins);
    for (const s of [...ins, ...pats]) if (!B.has(s)) return this.nameOfSlot(e, s);
    return undefined;
  }

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

}
