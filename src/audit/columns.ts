// The query columns of audit_records, derived from a record by one function. The sink writes
// them and the PostgreSQL verifier recomputes them, so a row whose columns were edited to say
// something its canonical record does not say is reported (column_mismatch).
import type { AuditRecord } from './types.js';

export interface RecordColumns {
  kind: string;
  time: string;
  host: string;
  user: string | null;
  uid: number | null;
  pid: number | null;
  program: string | null;
  action: string | null;
  decision: string | null;
  tier: string | null;
  tags: string[] | null;
  policy_id: string | null;
  bundle_hash: string | null;
  paths: string[] | null;
  zones: string[] | null;
}

/** PostgreSQL text cannot hold NUL or lone surrogates; columns are for search, the record keeps the exact value. */
const PG_UNSAFE = /[\0\uD800-\uDFFF]/;

export function pgSafe(s: string): string {
  // Almost every string has neither: one test instead of two replacements.
  if (!PG_UNSAFE.test(s)) return s;
  return s.replace(/\0/g, '\uFFFD').replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? pgSafe(v) : v === undefined || v === null ? null : pgSafe(JSON.stringify(v));
}

function int(v: unknown): number | null {
  return typeof v === 'number' && Number.isSafeInteger(v) ? v : null;
}

function strs(v: unknown): string[] | null {
  return Array.isArray(v) ? v.map((x) => (typeof x === 'string' ? pgSafe(x) : pgSafe(JSON.stringify(x)))) : null;
}

export function deriveColumns(r: AuditRecord): RecordColumns {
  const cls = r.classification as { tier?: unknown; tags?: unknown } | undefined;
  return {
    kind: pgSafe(r.kind),
    time: pgSafe(r.time),
    host: pgSafe(r.host),
    user: str(r.user),
    uid: int(r.uid),
    pid: int(r.pid),
    program: str(r.program),
    action: str(r.action),
    decision: str(r.decision),
    tier: cls ? str(cls.tier) : null,
    tags: cls ? strs(cls.tags) : null,
    policy_id: str(r.policy_id),
    bundle_hash: str(r.bundle_hash),
    paths: strs(r.paths),
    zones: strs(r.zones),
  };
}

export const COLUMN_NAMES = ['kind', 'time', 'host', 'user', 'uid', 'pid', 'program', 'action', 'decision', 'tier', 'tags', 'policy_id', 'bundle_hash', 'paths', 'zones'] as const;
