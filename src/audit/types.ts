// The audit vocabulary: what callers hand to append(), what the chain stores, and the
// errors the audit area raises. Record field names are the on-disk and in-database names,
// so renaming one is a format change (bump RECORD_VERSION).

export const RECORD_VERSION = 1;

export type AuditKind =
  | 'genesis'
  | 'decision'
  | 'mount'
  | 'unmount'
  | 'policy_loaded'
  | 'policy_rejected'
  | 'exception_requested'
  | 'exception_approved'
  | 'exception_denied'
  | 'exception_revoked'
  | 'exception_expired'
  | 'classification_changed'
  | 'daemon_start'
  | 'daemon_stop'
  | 'config_reloaded'
  /** Written by the chain itself when it recovered a torn spool tail after a crash. */
  | 'audit_recovered';

export const AUDIT_KINDS: readonly AuditKind[] = [
  'genesis', 'decision', 'mount', 'unmount', 'policy_loaded', 'policy_rejected',
  'exception_requested', 'exception_approved', 'exception_denied', 'exception_revoked',
  'exception_expired', 'classification_changed', 'daemon_start', 'daemon_stop',
  'config_reloaded', 'audit_recovered',
];

export type AuditDecision = 'allow' | 'deny' | 'allow_monitor';

export interface AuditEvent {
  kind: Exclude<AuditKind, 'genesis'>;
  /** ISO 8601; filled with the append time if absent; always stored in UTC `toISOString()` form. */
  time?: string;
  user?: string;
  uid?: number;
  pid?: number;
  program?: string;
  action?: string;
  paths?: string[];
  zones?: string[];
  classification?: { tier: string; tags: string[] };
  /** allow_monitor: monitor mode, the policy would have denied. */
  decision?: AuditDecision;
  policy_id?: string;
  bundle_hash?: string;
  reasoning?: string;
  details?: Record<string, unknown>;
}

/** A record as stored: the event plus the chain fields. `hash` covers every other field. */
export interface AuditRecord extends Omit<AuditEvent, 'kind' | 'time'> {
  v: number;
  kind: AuditKind;
  chain_id: string;
  seq: number;
  host: string;
  time: string;
  prev_hash: string;
  hash: string;
}

export interface AuditReceipt {
  seq: number;
  hash: string;
}

export interface AuditStats {
  chainId: string;
  headSeq: number;
  headHash: string;
  /** Highest seq known to be on disk (fsynced). */
  durableSeq: number;
  spoolBytes: number;
  /** Records not yet confirmed by PostgreSQL (0 when PostgreSQL is disabled). */
  backlog: number;
  postgres: 'disabled' | 'connected' | 'down';
  /** Age of the oldest durable record PostgreSQL has not confirmed yet, in seconds. */
  lagSeconds: number;
  lastError?: string;
  /** False when the spool cannot be written: the daemon then fails closed. */
  healthy: boolean;
  /** Signed checkpoints written by this chain so far (all time, from checkpoints file). */
  checkpoints: number;
  lastCheckpointSeq: number;
}

/** Thrown by append() when the spool cannot take records; the daemon must fail closed. */
export class AuditUnavailableError extends Error {
  readonly code = 'audit_unavailable';
  constructor(message: string, override readonly cause?: unknown) {
    super(message);
    this.name = 'AuditUnavailableError';
  }
}

/** Thrown for an event that cannot be encoded exactly (NaN, a cycle, a function …): a caller bug. */
export class AuditRecordError extends TypeError {
  readonly code = 'invalid_record';
  constructor(message: string) {
    super(message);
    this.name = 'AuditRecordError';
  }
}
