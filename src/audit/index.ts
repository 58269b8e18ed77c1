// Public surface of the audit area: the daemon opens one AuditLog per state dir and appends a
// record per decision and governance event; the CLI verifies, queries, reports and proves. Other
// areas import only this file.
export { openAudit, type AuditLog, type OpenAuditOptions, type AuditLogger } from './log.js';
export {
  AUDIT_KINDS,
  AuditRecordError,
  AuditUnavailableError,
  type AuditDecision,
  type AuditEvent,
  type AuditKind,
  type AuditReceipt,
  type AuditRecord,
  type AuditStats,
} from './types.js';
// Verification (pure core + evidence readers).
export { ChainVerifier, verifyLines, type BreakKind, type Mismatch, type VerifyOptions, type VerifyResult } from './verify.js';
export {
  compareCopies,
  pinnedKey,
  proofMaterial,
  spoolLines,
  verifyPostgres,
  verifySpool,
  type CopiesReport,
  type KeySpec,
  type VerifyReport,
} from './sources.js';
export { readPublicKey } from './keys.js';
// Queries, reports, proofs.
export { compileFilter, globToRegExp, queryPostgres, querySpool, type RecordFilter } from './query.js';
export { ReportBuilder, describeMismatch, renderCsv, renderMarkdown, summarizeVerification, type ReportModel } from './report.js';
export { ProofError, checkProof, proveConsistency, proveInclusion, type ConsistencyProofDoc, type InclusionProofDoc } from './proofs.js';
// PostgreSQL schema (for operators and other areas sharing schema_migrations).
export { GRANTS_SQL, MIGRATIONS, SCHEMA_VERSION, migrate } from './schema.js';
