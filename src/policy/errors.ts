// The single error type of the policy engine. `code` is a stable string callers
// branch on (OPA's codes where OPA has one); the location names file:line:col.

import { type Location, renderAt } from './source.js';

export type PolicyErrorCode =
  | 'rego_parse_error'
  | 'rego_compile_error'
  | 'rego_type_error'
  | 'rego_unsafe_var_error'
  | 'rego_recursion_error'
  | 'eval_conflict_error'
  | 'eval_type_error'
  | 'eval_builtin_error'
  | 'eval_undefined_function_error'
  | 'eval_cancel_error'
  | 'bundle_error'
  | 'wasm_error';

export class PolicyError extends Error {
  readonly code: string;
  readonly file?: string;
  readonly line?: number;
  readonly col?: number;
  /** The message without location, as OPA reports it. */
  readonly detail: string;
  /** Further problems found in the same pass (compile errors are collected, not thrown one at a time). */
  readonly errors: PolicyError[];

  constructor(code: PolicyErrorCode | string, detail: string, loc?: Location, more: PolicyError[] = []) {
    // Evaluation errors read like OPA's (`file:line: code: message`); load-time errors point at the column with a caret.
    super(code.startsWith('eval_') ? `${loc ? `${loc.file}:${loc.line}: ` : ''}${code}: ${detail}` : renderAt(loc, detail));
    this.name = 'PolicyError';
    this.code = code;
    this.detail = detail;
    if (loc) {
      this.file = loc.file;
      this.line = loc.line;
      this.col = loc.col;
    }
    this.errors = more;
  }

  /** Several compile errors as one, sorted by location, the first one's code on top. */
  static collect(errs: PolicyError[]): PolicyError {
    const sorted = [...errs].sort(
      (a, b) => (a.file ?? '').localeCompare(b.file ?? '') || (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0),
    );
    if (sorted.length === 1) return sorted[0]!;
    const first = sorted[0]!;
    const e = new PolicyError(first.code, `${sorted.length} errors occurred`, undefined, sorted);
    (e as { message: string }).message = `${sorted.length} errors occurred:\n${sorted.map((x) => x.message).join('\n')}`;
    return e;
  }
}

/** Builtin failures: OPA turns these into `eval_builtin_error` (or `eval_type_error` for operand checks). */
export class BuiltinError extends Error {
  constructor(
    message: string,
    readonly type: boolean = false,
  ) {
    super(message);
  }
}
