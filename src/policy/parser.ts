// Recursive-descent parser for Rego v1 (with v0 rule bodies accepted): modules,
// queries and single terms. Errors are `rego_parse_error` at the offending token.

import type { Body, ElseClause, Expr, Import, Module, Rule, RuleHead, Term, With } from './ast.js';
import { PolicyError } from './errors.js';
import { lex, type Token } from './lexer.js';
import { type Location, Source, registerSource } from './source.js';
import { parseNumber } from './value.js';

const KEYWORDS = new Set(['not', 'some', 'every', 'with', 'as', 'in', 'if', 'contains', 'else', 'default', 'package', 'import']);

const INFIX: Record<string, string> = {
  '==': 'equal',
  '!=': 'neq',
  '<': 'lt',
  '<=': 'lte',
  '>': 'gt',
  '>=': 'gte',
  '+': 'plus',
  '-': 'minus',
  '*': 'mul',
  '/': 'div',
  '%': 'rem',
  '&': 'and',
  '|': 'or',
};

export function parseModule(file: string, text: string, moduleIndex = 0): Module {
  const src = new Source(file, text);
  registerSource(src);
  return new Parser(src).module(moduleIndex);
}

export function parseQuery(text: string, file = 'query'): Body {
  const src = new Source(file, text);
  registerSource(src);
  const p = new Parser(src);
  const body = p.bodyUntil('eof');
  return body;
}

export function parseTerm(text: string, file = 'term'): Term {
  const src = new Source(file, text);
  registerSource(src);
  const p = new Parser(src);
  const t = p.termIn();
  p.expectEof();
  return t;
}

class Parser {
  private toks: Token[];
  private i = 0;

  constructor(private readonly src: Source) {
    this.toks = lex(src);
  }

  private get tok(): Token {
    return this.toks[this.i]!;
  }
  private peek(n = 1): Token {
    return this.toks[Math.min(this.i + n, this.toks.length - 1)]!;
  }
  private loc(t: Token = this.tok): Location {
    return this.src.locationAt(t.offset);
  }
  private fail(msg: string, t: Token = this.tok): never {
    throw new PolicyError('rego_parse_error', msg, this.loc(t));
  }
  private isP(text: string, t: Token = this.tok): boolean {
    return t.kind === 'punct' && t.text === text;
  }
  private isKw(text: string, t: Token = this.tok): boolean {
    return t.kind === 'ident' && t.text === text;
  }
  private expectP(text: string): Token {
    if (!this.isP(text)) this.fail(`unexpected ${this.describe()} token: expected ${text}`);
    return this.toks[this.i++]!;
  }
  private describe(t: Token = this.tok): string {
    if (t.kind === 'eof') return 'eof';
    if (t.kind === 'ident') return KEYWORDS.has(t.text) ? `${t.text} keyword` : 'ident';
    if (t.kind === 'punct') return t.text;
    return t.kind;
  }
  expectEof(): void {
    if (this.tok.kind !== 'eof') this.fail(`unexpected ${this.describe()} token: expected end of input`);
  }

  module(moduleIndex: number): Module {
    const start = this.tok;
    if (!this.isKw('package')) this.fail('package expected');
    this.i++;
    const pkgTerm = this.refFromIdent(true);
    const pkg = this.refToPath(pkgTerm, 'package');
    const imports: Import[] = [];
    const rules: Rule[] = [];
    while (this.isKw('import') && !this.followsRef()) {
      const it = this.tok;
      this.i++;
      const path = this.refFromIdent(true);
      let alias: string | null = null;
      if (this.isKw('as') && !this.tok.nl) {
        this.i++;
        if (this.tok.kind !== 'ident') this.fail('import alias must be an identifier');
        alias = this.tok.text;
        this.i++;
      }
      imports.push({ path, alias, loc: this.loc(it) });
    }
    while (this.tok.kind !== 'eof') {
      if (this.isKw('import') && !this.followsRef()) this.fail('imports must come before rules');
      if (this.isKw('package') && !this.followsRef()) this.fail('unexpected package keyword: a module has one package');
      rules.push(...this.rule(moduleIndex));
    }
    return { pkg, imports, rules, file: this.src.file, loc: this.loc(start) };
  }

  private refToPath(t: Term, what: string): string[] {
    if (t.t === 'var') return [t.name];
    if (t.t !== 'ref' || t.head.t !== 'var') this.fail(`invalid ${what} path`);
    const out = [t.head.name];
    for (const p of t.path) {
      if (p.t !== 'scalar' || typeof p.v !== 'string') throw new PolicyError('rego_parse_error', `invalid ${what} path: path elements must be strings`, p.loc);
      out.push(p.v);
    }
    return out;
  }

  /** A ref starting at an identifier (keywords allowed), used for package, import and rule heads. */
  private refFromIdent(allowVarKeys: boolean): Term {
    const t = this.tok;
    if (t.kind !== 'ident') this.fail(`unexpected ${this.describe()} token: expected ident`);
    this.i++;
    const head: Term = { t: 'var', name: t.text, loc: this.loc(t) };
    const path: Term[] = [];
    for (;;) {
      const n = this.tok;
      if (n.nl) break;
      if (this.isP('.') && this.peek().kind === 'ident' && this.peek().offset === n.offset + 1) {
        this.i++;
        path.push({ t: 'scalar', v: this.tok.text, loc: this.loc() });
        this.i++;
      } else if (this.isP('[') && allowVarKeys && n.offset === this.toks[this.i - 1]!.offset + tokenLength(this.toks[this.i - 1]!, this.src.text)) {
        this.i++;
        path.push(this.termIn());
        this.expectP(']');
      } else break;
    }
    return path.length ? { t: 'ref', head, path, loc: head.loc } : head;
  }

  private rule(moduleIndex: number): Rule[] {
    const start = this.tok;
    let isDefault = false;
    if (this.isKw('default') && this.peek().kind === 'ident' && !this.followsRef()) {
      isDefault = true;
      this.i++;
    }
    const refT = this.refFromIdent(true);
    const ref = refT.t === 'ref' ? [refT.head, ...refT.path] : [refT];
    let args: Term[] | null = null;
    if (this.isP('(') && !this.tok.nl) {
      this.i++;
      args = [];
      if (!this.isP(')')) {
        for (;;) {
          args.push(this.termIn());
          if (this.isP(',')) {
            this.i++;
            continue;
          }
          break;
        }
      }
      this.expectP(')');
    }
    let contains: Term | null = null;
    let value: Term | null = null;
    let assign = false;
    if (this.isKw('contains') && !this.tok.nl) {
      this.i++;
      contains = this.termIn();
    } else if ((this.isP(':=') || this.isP('=')) && !this.tok.nl) {
      assign = this.isP(':=');
      this.i++;
      value = this.termIn();
    }
    const head: RuleHead = { ref, args, contains, value, assign, loc: this.loc(start) };
    if (isDefault) {
      if (!value) this.fail('default rules must have a value assigned', start);
      return [{ head, body: [], isDefault, legacySet: false, elses: [], loc: head.loc, module: moduleIndex }];
    }
    let body: Body = [];
    let hadBody = false;
    let legacySet = false;
    if (this.isKw('if') && !this.tok.nl) {
      this.i++;
      body = this.ruleBody();
      hadBody = true;
    } else if (this.isP('{') && !this.tok.nl) {
      body = this.braceBody();
      hadBody = true;
      // v0: `p[x] { ... }` is a partial set rule.
      const last = ref[ref.length - 1]!;
      if (!contains && !value && !args && ref.length > 1 && !(last.t === 'scalar' && typeof last.v === 'string')) legacySet = true;
    }
    if (!hadBody && !value && !contains && !args && ref.length === 1 && this.tok.kind !== 'eof' && !this.tok.nl) {
      this.fail(`unexpected ${this.describe()} token`);
    }
    const elses: ElseClause[] = [];
    while (this.isKw('else') && !this.followsRef()) {
      const et = this.tok;
      this.i++;
      let ev: Term | null = null;
      if (this.isP(':=') || this.isP('=')) {
        this.i++;
        ev = this.termIn();
      }
      let eb: Body = [];
      if (this.isKw('if')) {
        this.i++;
        eb = this.ruleBody();
      } else if (this.isP('{')) {
        eb = this.braceBody();
      }
      elses.push({ value: ev, body: eb, loc: this.loc(et) });
    }
    const rules: Rule[] = [{ head, body, isDefault: false, legacySet, elses, loc: head.loc, module: moduleIndex }];
    // v0 chained bodies `p { a } { b }`: each is its own definition.
    while (this.isP('{') && hadBody && !elses.length) {
      rules.push({ head, body: this.braceBody(), isDefault: false, legacySet, elses: [], loc: this.loc(), module: moduleIndex });
    }
    return rules;
  }

  private ruleBody(): Body {
    if (this.isP('{')) return this.braceBody();
    const e = this.literal();
    return [e];
  }

  private braceBody(): Body {
    this.expectP('{');
    const b = this.bodyUntil('}');
    this.expectP('}');
    return b;
  }

  /** Literals separated by `;` or newlines, up to (not including) the closing token. */
  bodyUntil(close: '}' | ']' | 'eof'): Body {
    const out: Expr[] = [];
    const atClose = (): boolean => (close === 'eof' ? this.tok.kind === 'eof' : this.isP(close));
    while (!atClose()) {
      out.push(this.literal());
      if (this.isP(';')) {
        this.i++;
        continue;
      }
      if (atClose()) break;
      if (!this.tok.nl) this.fail(`unexpected ${this.describe()} token: expected \\n or ; or ${close}`);
    }
    if (!out.length && close !== 'eof') this.fail('found empty body');
    if (!out.length) this.fail('empty query');
    return out;
  }

  private literal(): Expr {
    const start = this.tok;
    const loc = this.loc(start);
    if (this.isKw('some') && !this.followsRef()) {
      this.i++;
      const terms: Term[] = [this.termRel()];
      while (this.isP(',')) {
        this.i++;
        terms.push(this.termRel());
      }
      if (this.isKw('in')) {
        this.i++;
        if (terms.length > 2) this.fail('unexpected , token: some ... in takes at most key and value');
        const coll = this.termRel();
        const key = terms.length === 2 ? terms[0]! : null;
        const value = terms[terms.length - 1]!;
        return { kind: 'somein', key, value, coll, with: this.withs(), loc };
      }
      for (const t of terms) if (t.t !== 'var') throw new PolicyError('rego_parse_error', 'expected var in some declaration', t.loc);
      return { kind: 'some', vars: terms, with: [], loc };
    }
    if (this.isKw('every') && !this.followsRef()) {
      this.i++;
      const first = this.termRel();
      let key: Term | null = null;
      let value = first;
      if (this.isP(',')) {
        this.i++;
        key = first;
        value = this.termRel();
      }
      if (!this.isKw('in')) this.fail('unexpected token: expected in keyword');
      this.i++;
      const coll = this.termRel();
      const body = this.braceBody();
      return { kind: 'every', key, value, coll, body, with: this.withs(), loc };
    }
    let negated = false;
    if (this.isKw('not') && !this.followsRef()) {
      negated = true;
      this.i++;
    }
    let term = this.exprTerm();
    if (this.isP(',') && !negated) {
      // `k, v in xs` membership with key
      const save = this.i;
      this.i++;
      const v = this.termRel();
      if (this.isKw('in')) {
        this.i++;
        const coll = this.termRel();
        term = this.inChain({ t: 'call', fn: 'internal.member_3', fnRef: this.v('internal.member_3', loc), args: [term, v, coll], loc });
      } else this.i = save;
    }
    return { kind: 'term', negated, term, with: this.withs(), loc };
  }

  /** A keyword immediately followed by `.` or `[` is a reference (keywordrefs), not the keyword. */
  private followsRef(): boolean {
    const n = this.peek();
    return (this.isP('.', n) || this.isP('[', n)) && n.offset === this.tok.offset + this.tok.text.length;
  }

  private v(name: string, loc: Location): Term {
    return { t: 'var', name, loc };
  }

  private withs(): With[] {
    const out: With[] = [];
    while (this.isKw('with') && !this.followsRef()) {
      const wt = this.tok;
      this.i++;
      const target = this.termRel();
      if (!this.isKw('as')) this.fail('unexpected token: expected as keyword');
      this.i++;
      const value = this.termIn();
      out.push({ target, value, loc: this.loc(wt) });
    }
    return out;
  }

  /** expr := termIn [(= | :=) termIn] */
  private exprTerm(): Term {
    const lhs = this.termIn();
    if ((this.isP('=') || this.isP(':=')) && !this.tok.nl) {
      const op = this.tok;
      this.i++;
      const rhs = this.termIn();
      const fn = op.text === '=' ? 'eq' : 'assign';
      return { t: 'call', fn, fnRef: this.v(fn, this.loc(op)), args: [lhs, rhs], loc: lhs.loc };
    }
    return lhs;
  }

  /** `x in a in b` chains: each `in` tests the previous result. */
  private inChain(lhs: Term): Term {
    while (this.isKw('in') && !this.tok.nl) {
      const op = this.tok;
      this.i++;
      const rhs = this.termRel();
      lhs = { t: 'call', fn: 'internal.member_2', fnRef: this.v('internal.member_2', this.loc(op)), args: [lhs, rhs], loc: lhs.loc };
    }
    return lhs;
  }

  termIn(): Term {
    let lhs = this.termRel();
    while (this.isKw('in') && !this.tok.nl) {
      const op = this.tok;
      this.i++;
      const rhs = this.termRel();
      lhs = { t: 'call', fn: 'internal.member_2', fnRef: this.v('internal.member_2', this.loc(op)), args: [lhs, rhs], loc: lhs.loc };
    }
    return lhs;
  }

  private binary(next: () => Term, ops: string[], noOr = false): Term {
    let lhs = next();
    while (this.tok.kind === 'punct' && ops.includes(this.tok.text) && !this.tok.nl && !(noOr && this.tok.text === '|')) {
      const op = this.tok;
      this.i++;
      const rhs = next();
      const fn = INFIX[op.text]!;
      lhs = { t: 'call', fn, fnRef: this.v(fn, this.loc(op)), args: [lhs, rhs], loc: lhs.loc };
    }
    return lhs;
  }

  private noOr = false;

  termRel(): Term {
    return this.binary(() => this.termOr(), ['==', '!=', '<', '<=', '>', '>=']);
  }
  private termOr(): Term {
    return this.binary(() => this.termAnd(), ['|'], this.noOr);
  }
  private termAnd(): Term {
    return this.binary(() => this.termArith(), ['&']);
  }
  private termArith(): Term {
    return this.binary(() => this.termFactor(), ['+', '-']);
  }
  private termFactor(): Term {
    return this.binary(() => this.termUnary(), ['*', '/', '%']);
  }

  private termUnary(): Term {
    if (this.isP('-')) {
      const t = this.tok;
      const n = this.peek();
      if (n.kind === 'number' && n.offset === t.offset + 1) {
        this.i += 2;
        return this.suffixes({ t: 'scalar', v: parseNumber('-' + n.text), loc: this.loc(t) });
      }
      this.i++;
      const operand = this.termUnary();
      return { t: 'call', fn: 'minus', fnRef: this.v('minus', this.loc(t)), args: [{ t: 'scalar', v: 0, loc: this.loc(t) }, operand], loc: this.loc(t) };
    }
    return this.primary();
  }

  private primary(): Term {
    const t = this.tok;
    const loc = this.loc(t);
    switch (t.kind) {
      case 'number':
        this.i++;
        return this.suffixes({ t: 'scalar', v: parseNumber(t.text), loc });
      case 'string':
        this.i++;
        return this.suffixes({ t: 'scalar', v: t.text, loc });
      case 'template':
        this.i++;
        return this.template(t, loc);
      case 'ident': {
        if ((t.text === 'true' || t.text === 'false' || t.text === 'null') && !this.followsRef()) {
          this.i++;
          return { t: 'scalar', v: t.text === 'null' ? null : t.text === 'true', loc };
        }
        if (KEYWORDS.has(t.text) && !this.followsRef() && !(this.isP('(', this.peek()) && t.text !== 'not')) {
          this.fail(`unexpected ${t.text} keyword`);
        }
        if (t.text === 'set' && this.isP('(', this.peek()) && this.isP(')', this.peek(2))) {
          this.i += 3;
          return { t: 'set', items: [], loc };
        }
        this.i++;
        return this.suffixes({ t: 'var', name: t.text, loc });
      }
      case 'punct':
        if (t.text === '(') {
          this.i++;
          const saveNoOr = this.noOr;
          this.noOr = false;
          let inner = this.exprTerm();
          if (this.isP(',')) {
            // `(k, v in xs)`: membership with a key, parenthesised.
            this.i++;
            const v = this.termRel();
            if (!this.isKw('in')) this.fail('unexpected , token: expected in');
            this.i++;
            const coll = this.termRel();
            inner = this.inChain({ t: 'call', fn: 'internal.member_3', fnRef: this.v('internal.member_3', loc), args: [inner, v, coll], loc });
          }
          this.noOr = saveNoOr;
          this.expectP(')');
          return this.suffixes(inner);
        }
        if (t.text === '[') return this.suffixes(this.arrayLit());
        if (t.text === '{') return this.suffixes(this.braceLit());
        break;
    }
    this.fail(`unexpected ${this.describe()} token`);
  }

  private template(t: Token, loc: Location): Term {
    const parts: Array<string | Term> = [];
    for (const p of t.parts ?? []) {
      if ('lit' in p) parts.push(p.lit);
      else {
        const sub = new Source(this.src.file, this.src.text.slice(0, p.offset).replace(/[^\n]/g, ' ') + p.expr);
        const sp = new Parser(sub);
        sp.i = 0;
        const inner = sp.exprTerm();
        sp.expectEof();
        parts.push(inner);
      }
    }
    return { t: 'template', parts, loc };
  }

  /** `.name`, `[term]` and `(args)` directly after a term (no whitespace before `[`/`(`). */
  private suffixes(base: Term): Term {
    let cur = base;
    for (;;) {
      const n = this.tok;
      const prev = this.toks[this.i - 1]!;
      const adjacent = !n.nl && n.offset === prev.offset + tokenLength(prev, this.src.text);
      if (this.isP('.') && this.peek().kind === 'ident' && adjacent) {
        this.i++;
        const key: Term = { t: 'scalar', v: this.tok.text, loc: this.loc() };
        this.i++;
        cur = appendRef(cur, key);
      } else if (this.isP('[') && adjacent) {
        this.i++;
        const saveNoOr = this.noOr;
        this.noOr = false;
        const key = this.exprTerm();
        this.noOr = saveNoOr;
        this.expectP(']');
        cur = appendRef(cur, key);
      } else if (this.isP('(') && adjacent && (cur.t === 'var' || (cur.t === 'ref' && cur.head.t === 'var'))) {
        this.i++;
        const args: Term[] = [];
        const saveNoOr = this.noOr;
        this.noOr = false;
        if (!this.isP(')')) {
          for (;;) {
            args.push(this.termIn());
            if (this.isP(',')) {
              this.i++;
              if (this.isP(')')) break; // trailing comma, as OPA allows
              continue;
            }
            break;
          }
        }
        this.noOr = saveNoOr;
        this.expectP(')');
        const fn = refName(cur);
        if (fn === null) this.fail('invalid function name', n);
        cur = { t: 'call', fn, fnRef: cur, args, loc: cur.loc };
      } else break;
    }
    return cur;
  }

  private arrayLit(): Term {
    const open = this.expectP('[');
    const loc = this.loc(open);
    if (this.isP(']')) {
      this.i++;
      return { t: 'array', items: [], loc };
    }
    const saveNoOr = this.noOr;
    this.noOr = true;
    const first = this.termIn();
    this.noOr = saveNoOr;
    const rest = this.restOfCollection(first, ']');
    return 'body' in rest ? { t: 'arraycomp', head: first, body: rest.body, loc } : { t: 'array', items: rest.items, loc };
  }

  /**
   * What follows the first element of `[…]` or `{…}`: a comprehension body after `|`, or the
   * remaining comma-separated elements (a trailing comma allowed) up to `close`.
   */
  private restOfCollection(first: Term, close: ']' | '}'): { body: Body } | { items: Term[] } {
    if (this.isP('|')) {
      this.i++;
      const body = this.bodyUntil(close);
      this.expectP(close);
      return { body };
    }
    const items = [first];
    while (this.isP(',')) {
      this.i++;
      if (this.isP(close)) break;
      items.push(this.termIn());
    }
    this.expectP(close);
    return { items };
  }

  private braceLit(): Term {
    const open = this.expectP('{');
    const loc = this.loc(open);
    if (this.isP('}')) {
      this.i++;
      return { t: 'object', items: [], loc };
    }
    const saveNoOr = this.noOr;
    this.noOr = true;
    const first = this.termIn();
    if (this.isP(':')) {
      this.i++;
      const v1 = this.termIn();
      this.noOr = saveNoOr;
      if (this.isP('|')) {
        this.i++;
        const body = this.bodyUntil('}');
        this.expectP('}');
        return { t: 'objcomp', key: first, value: v1, body, loc };
      }
      const items: Array<[Term, Term]> = [[first, v1]];
      while (this.isP(',')) {
        this.i++;
        if (this.isP('}')) break;
        const k = this.termIn();
        this.expectP(':');
        items.push([k, this.termIn()]);
      }
      this.expectP('}');
      return { t: 'object', items, loc };
    }
    this.noOr = saveNoOr;
    const rest = this.restOfCollection(first, '}');
    return 'body' in rest ? { t: 'setcomp', head: first, body: rest.body, loc } : { t: 'set', items: rest.items, loc };
  }
}

function tokenLength(t: Token, text: string): number {
  if (t.kind === 'string' || t.kind === 'template') {
    // Recover the raw length from the source: scan to the closing quote.
    const q = text[t.offset] === '$' ? text[t.offset + 1]! : text[t.offset]!;
    let j = t.offset + (text[t.offset] === '$' ? 2 : 1);
    while (j < text.length && text[j] !== q) {
      if (text[j] === '\\' && q === '"') j++;
      j++;
    }
    return j + 1 - t.offset;
  }
  return t.text.length;
}

function appendRef(base: Term, key: Term): Term {
  if (base.t === 'ref') return { t: 'ref', head: base.head, path: [...base.path, key], loc: base.loc };
  return { t: 'ref', head: base, path: [key], loc: base.loc };
}

/** Dotted name of a ref made of a var and string keys, else null. */
export function refName(t: Term): string | null {
  if (t.t === 'var') return t.name;
  if (t.t !== 'ref' || t.head.t !== 'var') return null;
  let s = t.head.name;
  for (const p of t.path) {
    if (p.t !== 'scalar' || typeof p.v !== 'string') return null;
    s += '.' + p.v;
  }
  return s;
}
