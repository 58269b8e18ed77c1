// Variable resolution: gives every variable occurrence of a rule a frame slot,
// honouring Rego scoping (`some`/`:=` declare locals; a comprehension or `every`
// body sees a variable of the enclosing body when that body mentions the name;
// each `_` is fresh). Later passes work on slots only.

import type { Body, Expr, Term } from '../ast.js';

export class Scope {
  readonly names = new Map<string, number>();
  readonly own = new Set<number>();
  readonly children: Scope[] = [];
  /** Index of the expression that declares a name with `:=` or `some` (closures before it do not see it). */
  readonly declIndex = new Map<string, number>();
  /** Index of the expression whose closures are being resolved. */
  cursor = Infinity;
  constructor(
    readonly parent: Scope | null,
    readonly slots: { n: number },
  ) {}
  /** Slots first allocated in this scope or any nested one. */
  ownedDeep(out: Set<number> = new Set()): Set<number> {
    for (const s of this.own) out.add(s);
    for (const c of this.children) c.ownedDeep(out);
    return out;
  }
  lookup(name: string): number | undefined {
    return this.names.get(name) ?? this.parent?.lookup(name);
  }
  /** Lookup from a nested closure: a name declared by a later expression is not visible yet. */
  lookupFromChild(name: string): number | undefined {
    const s = this.names.get(name);
    if (s !== undefined) {
      const d = this.declIndex.get(name);
      if (d === undefined || d < this.cursor) return s;
    }
    return this.parent?.lookupFromChild(name);
  }
  fresh(): number {
    const s = this.slots.n++;
    this.own.add(s);
    return s;
  }
}

/** Slot of each resolved var node. */
export type SlotMap = Map<Term, number>;

const ROOTS = new Set(['input', 'data']);

/** Var names occurring at this body level (not inside nested closures), in order. */
function namesInTerm(t: Term, out: Term[]): void {
  switch (t.t) {
    case 'var':
      out.push(t);
      return;
    case 'ref':
      namesInTerm(t.head, out);
      for (const p of t.path) namesInTerm(p, out);
      return;
    case 'array':
    case 'set':
      for (const x of t.items) namesInTerm(x, out);
      return;
    case 'object':
      for (const [k, v] of t.items) {
        namesInTerm(k, out);
        namesInTerm(v, out);
      }
      return;
    case 'call':
      for (const a of t.args) namesInTerm(a, out);
      return;
    case 'template':
      for (const p of t.parts) if (typeof p !== 'string') namesInTerm(p, out);
      return;
    default:
      return; // scalars and closures
  }
}

function patternVars(t: Term, out: Term[]): void {
  if (t.t === 'var') out.push(t);
  else if (t.t === 'array') for (const x of t.items) patternVars(x, out);
  else if (t.t === 'object') for (const [, v] of t.items) patternVars(v, out);
}

export class Resolver {
  readonly slots: SlotMap = new Map();
  readonly counter = { n: 0 };
  /** The scope of each closure (comprehension term or `every` expression). */
  readonly scopes = new Map<object, Scope>();
  /** Heads of `with … as <name>` values: variables only if the name is otherwise in scope. */
  private deferred: Term[] = [];
  /** Names of functions in scope; a call's name is not a variable. */
  constructor(private readonly isRootName: (name: string) => boolean = (n) => ROOTS.has(n)) {}

  /**
   * Resolves one body level. `extra` are head terms that belong to this level.
   * Returns the scope so callers can resolve more terms in it.
   */
  body(body: Body, parent: Scope | null, extra: Term[] = [], predeclared: Term[] = []): Scope {
    const scope = new Scope(parent, this.counter);
    parent?.children.push(scope);
    const declared = new Set<string>(predeclared.map((t) => (t.t === 'var' ? t.name : '')));
    body.forEach((e, i) => {
      const mine = new Set<string>();
      this.collectDeclared(e, mine);
      for (const n of mine) {
        declared.add(n);
        if (!scope.declIndex.has(n)) scope.declIndex.set(n, i);
      }
    });
    const occ: Term[] = [...predeclared];
    for (const t of extra) namesInTerm(t, occ);
    for (const e of body) this.namesInExpr(e, occ);
    const deferred = this.deferred;
    this.deferred = [];
    for (const v of occ) {
      if (v.t !== 'var') continue;
      this.bindName(v, scope, declared);
    }
    for (const v of deferred) {
      if (v.t !== 'var') continue;
      const s = scope.names.get(v.name) ?? scope.parent?.lookupFromChild(v.name);
      if (s !== undefined) this.slots.set(v, s);
    }
    // Nested closures see this scope.
    scope.cursor = Infinity;
    for (const t of extra) this.nested(t, scope);
    body.forEach((e, i) => {
      scope.cursor = i;
      this.nestedExpr(e, scope);
    });
    scope.cursor = Infinity;
    return scope;
  }

  private bindName(v: Term & { t: 'var' }, scope: Scope, declared: Set<string>): void {
    if (this.slots.has(v)) return;
    if (v.name === '_' || v.name.startsWith('$_')) {
      this.slots.set(v, scope.fresh());
      return;
    }
    if (this.isRootName(v.name) && scope.parent?.lookupFromChild(v.name) === undefined && !scope.names.has(v.name) && !declared.has(v.name)) return;
    let s = scope.names.get(v.name);
    if (s === undefined) {
      const outer = declared.has(v.name) ? undefined : scope.parent?.lookupFromChild(v.name);
      s = outer ?? scope.fresh();
      scope.names.set(v.name, s);
    }
    this.slots.set(v, s);
  }

  private collectDeclared(e: Expr, out: Set<string>): void {
    if (e.kind === 'some') for (const v of e.vars) if (v.t === 'var') out.add(v.name);
    if (e.kind === 'somein') {
      const vs: Term[] = [];
      if (e.key) patternVars(e.key, vs);
      patternVars(e.value, vs);
      for (const v of vs) if (v.t === 'var') out.add(v.name);
    }
    if (e.kind === 'term' && e.term.t === 'call' && e.term.fn === 'assign') {
      const vs: Term[] = [];
      patternVars(e.term.args[0]!, vs);
      for (const v of vs) if (v.t === 'var') out.add(v.name);
    }
  }

  private namesInExpr(e: Expr, out: Term[]): void {
    switch (e.kind) {
      case 'term':
        namesInTerm(e.term, out);
        break;
      case 'some':
        for (const v of e.vars) out.push(v);
        break;
      case 'somein':
        if (e.key) namesInTerm(e.key, out);
        namesInTerm(e.value, out);
        namesInTerm(e.coll, out);
        break;
      case 'every':
        namesInTerm(e.coll, out);
        break;
    }
    for (const w of e.with) {
      // `with f as g`: a plain name may be a function (count, object.union_n), resolved later
      // unless it is also a variable of this body.
      if (w.value.t === 'var' || (w.value.t === 'ref' && w.value.head.t === 'var')) this.deferred.push(w.value.t === 'var' ? w.value : w.value.head);
      else namesInTerm(w.value, out);
    }
  }

  private nestedExpr(e: Expr, scope: Scope): void {
    switch (e.kind) {
      case 'term':
        this.nested(e.term, scope);
        break;
      case 'somein':
        if (e.key) this.nested(e.key, scope);
        this.nested(e.value, scope);
        this.nested(e.coll, scope);
        break;
      case 'every': {
        this.nested(e.coll, scope);
        const pre: Term[] = [];
        if (e.key) patternVars(e.key, pre);
        patternVars(e.value, pre);
        const inner = this.body(e.body, scope, [], pre);
        this.scopes.set(e, inner);
        if (e.key) this.nested(e.key, inner);
        this.nested(e.value, inner);
        break;
      }
    }
    for (const w of e.with) this.nested(w.value, scope);
  }

  /** Resolves closures found inside a term of an already-resolved level. */
  nested(t: Term, scope: Scope): void {
    switch (t.t) {
      case 'ref':
        this.nested(t.head, scope);
        for (const p of t.path) this.nested(p, scope);
        return;
      case 'array':
      case 'set':
        for (const x of t.items) this.nested(x, scope);
        return;
      case 'object':
        for (const [k, v] of t.items) {
          this.nested(k, scope);
          this.nested(v, scope);
        }
        return;
      case 'call':
        for (const a of t.args) this.nested(a, scope);
        return;
      case 'template':
        for (const p of t.parts) if (typeof p !== 'string') this.nested(p, scope);
        return;
      case 'arraycomp':
      case 'setcomp':
        this.scopes.set(t, this.body(t.body, scope, [t.head]));
        return;
      case 'objcomp':
        this.scopes.set(t, this.body(t.body, scope, [t.key, t.value]));
        return;
      default:
        return;
    }
  }
}
