// The one error type of the classify area. `code` is stable snake_case that callers branch on
// (rule_invalid, scanner_unavailable, scanner_out_of_memory, input_too_large, ...).

export class ClassifyError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly detail: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ClassifyError';
  }
}

/** Wraps an error thrown by the native addon (which carries `code`) into a ClassifyError. */
export function fromNative(err: unknown, fallbackCode = 'scanner_error'): Error {
  if (err instanceof ClassifyError) return err;
  // Argument checks at the native boundary are programming errors: keep them TypeErrors.
  if (err instanceof TypeError && (err as { code?: unknown }).code === undefined) return err;
  const e = err as { code?: unknown; message?: unknown } | undefined;
  const code = typeof e?.code === 'string' ? e.code : fallbackCode;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  const detail: Record<string, unknown> = {};
  for (const k of ['ruleId', 'ruleIndex', 'reason'] as const) {
    const v = (err as Record<string, unknown> | undefined)?.[k];
    if (v !== undefined) detail[k] = v;
  }
  return new ClassifyError(code, message, detail);
}
