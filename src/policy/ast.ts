// Syntax tree of Rego modules and queries. Every node carries a Location; the
// compiler (compiler/) turns these into closures once, so nothing here is walked
// again at decision time.

import type { Location } from './source.js';
import type { Value } from './value.js';

export type Term =
  | { t: 'scalar'; v: Value; loc: Location }
  | { t: 'var'; name: string; loc: Location }
  | { t: 'ref'; head: Term; path: Term[]; loc: Location }
  | { t: 'array'; items: Term[]; loc: Location }
  | { t: 'object'; items: Array<[Term, Term]>; loc: Location }
  | { t: 'set'; items: Term[]; loc: Location }
  | { t: 'arraycomp'; head: Term; body: Body; loc: Location }
  | { t: 'setcomp'; head: Term; body: Body; loc: Location }
  | { t: 'objcomp'; key: Term; value: Term; body: Body; loc: Location }
  /** `fn` is the called name as a dotted path (`count`, `data.pkg.f`, `internal.member_2`). */
  | { t: 'call'; fn: string; fnRef: Term; args: Term[]; loc: Location }
  | { t: 'template'; parts: Array<string | Term>; loc: Location };

export interface With {
  target: Term;
  value: Term;
  loc: Location;
}

export type Expr =
  | { kind: 'term'; negated: boolean; term: Term; with: With[]; loc: Location }
  | { kind: 'some'; vars: Term[]; with: With[]; loc: Location }
  | { kind: 'somein'; key: Term | null; value: Term; coll: Term; with: With[]; loc: Location }
  | { kind: 'every'; key: Term | null; value: Term; coll: Term; body: Body; with: With[]; loc: Location };

export type Body = Expr[];

export interface RuleHead {
  /** The rule's reference below the package: `p`, `a.b`, `p[x]` → [var p, "b"...]; first is always a var. */
  ref: Term[];
  /** Function arguments, when the rule is a function. */
  args: Term[] | null;
  /** `contains x` → set member; else the value (null means `true`). */
  contains: Term | null;
  value: Term | null;
  assign: boolean;
  loc: Location;
}

export interface ElseClause {
  value: Term | null;
  body: Body;
  loc: Location;
}

export interface Rule {
  head: RuleHead;
  body: Body;
  isDefault: boolean;
  /** v0 `p[x] { ... }`: a partial set without `contains`. */
  legacySet: boolean;
  elses: ElseClause[];
  loc: Location;
  /** Index of the module in the compiled set, for the module's imports. */
  module: number;
}

export interface Import {
  path: Term;
  alias: string | null;
  loc: Location;
}

export interface Module {
  pkg: string[];
  imports: Import[];
  rules: Rule[];
  file: string;
  loc: Location;
}
