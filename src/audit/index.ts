// Public surface of the audit area: the daemon opens one AuditLog per state dir and appends a
// record per decision and governance event; the CLI verifies, queries and reports. Other areas
// import only this file.
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
