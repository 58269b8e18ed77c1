// Rule bodies and expressions as generated JavaScript: the body is ordered
// exactly as the closure compiler orders it (safety), each expression becomes
// checks, bindings or loops, and everything after it is emitted inside it.
// `every` and `with` are compiled by the closure compiler and called.

import type { Body, Expr, Term } from '../../ast.js';
import type { Location } from '../../source.js';
import { splitPairs, unsafe } from '../steps.js';
import { Emitter, loopOver } from './emitter.js';
import { TermGen } from './terms.js';
import type { CompileEnv } from '../steps.js';

export class BodyGen extends TermGen {
  protected readonly em = new Emitter();

  constructor(env: CompileEnv) {
    super(env);
  }

  genBody(body: Body, B: Set<number>, done: () => void): void {
    const mayBind = this.mayBindOf(body, B);
    const pending = body.slice();
    const next = (): void => {
      if (!pending.length) return done();
      const picked = this.nextReady(pending, mayBind, B);
      // The closure compiler accepted this body, so an unsafe body here is a generator bug.
      if (picked < 0) throw unsafe('?', pending[0]!.loc);
      const e = pending.splice(picked, 1)[0]!;
      this.genExpr(e, B, next);
    };
    next();
  }

  protected genExpr(e: Expr, B: Set<number>, k: () => void): void {
    const em = this.em;
    if (e.with.length || e.kind === 'every') {
      const c = this.expr(e, B)!;
      if ('test' in c) {
        em.line(`if (!${em.ref(c.test)}(${em.frame()})) ${em.fail}`);
        return k();
      }
      return this.embedStep(c.step, k);
    }
    switch (e.kind) {
      case 'some':
        return k();
      case 'somein':
        return this.genSomeIn(e, B, k);
      case 'term':
        if (e.negated) return this.genNot(e, B, k);
        return this.genTermExpr(e.term, B, k);
    }
  }

  protected genNot(e: Expr & { kind: 'term' }, B: Set<number>, k: () => void): void {
    const em = this.em;
    const found = em.temp('found');
    const label = em.temp('N');
    em.line(`let ${found} = false;`);
    em.open(`${label}:`);
    em.within(`break ${label};`, `break ${label};`, () =>
      this.genBody([{ ...e, negated: false }], new Set(B), () => {
        em.line(`${found} = true;`);
        em.line(em.stop);
      }),
    );
    em.close();
    em.line(`if (${found}) ${em.fail}`);
    k();
  }

  protected genTermExpr(t: Term, B: Set<number>, k: () => void): void {
    if (t.t === 'call' && (t.fn === 'eq' || t.fn === 'assign')) return this.genUnify(t.args[0]!, t.args[1]!, B, t.loc, k);
    if (t.t === 'call' && this.outputArg(t)) {
      const call: Term = { ...t, args: t.args.slice(0, -1) };
      return this.genUnify(t.args[t.args.length - 1]!, call, B, t.loc, k);
    }
    this.genTerm(t, B, (x) => {
      this.em.line(`if (${x} === false) ${this.em.fail}`);
      k();
    });
  }

  protected genUnify(a: Term, b: Term, B: Set<number>, loc: Location, k: () => void): void {
    const aReady = this.isPatternReady(a, B);
    const bReady = this.isPatternReady(b, B);
    if (bReady && !aReady) return this.genUnify(b, a, B, loc, k);
    const em = this.em;
    if (aReady) {
      if (bReady) {
        return this.genTerm(a, B, (x) =>
          this.genTerm(b, B, (y) => {
            em.line(`if (!equal(${x}, ${y})) ${em.fail}`);
            k();
          }),
        );
      }
      return this.genTerm(a, B, (x) => {
        this.genPattern(b, B, x);
        k();
      });
    }
    const pairs = splitPairs(a, b);
    if (!pairs) throw unsafe('?', loc);
    const next = (): void => {
      if (!pairs.length) return k();
      const i = pairs.findIndex(([x, y]) => this.unifyReady(x, y, B));
      if (i < 0) throw unsafe('?', loc);
      const [x, y] = pairs.splice(i, 1)[0]!;
      this.genUnify(x, y, B, loc, next);
    };
    next();
  }

  protected genSomeIn(e: Expr & { kind: 'somein' }, B: Set<number>, k: () => void): void {
    const em = this.em;
    this.genTerm(e.coll, B, (coll) => {
      const label = em.temp('L');
      const it = loopOver(em, coll, label);
      em.within(`continue ${label};`, em.stop, () => {
        if (e.key) this.genPattern(e.key, B, it.key);
        this.genPattern(e.value, B, it.value);
        k();
      });
      em.close();
    });
  }
}
