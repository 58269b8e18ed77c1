// Building and re-reading chain records. buildRecord() is the only place the chain fields are
// attached; parseRecordLine() is the only place a stored line becomes a record again, and it
// reports *how* a line is wrong instead of throwing, because the verifier names every break.
import { canonicalText, normalize, type JsonValue } from './canonical.js';
import { recordHash, isHashHex } from './hash.js';
import { AuditRecordError, RECORD_VERSION, AUDIT_KINDS, type AuditEvent, type AuditKind, type AuditRecord } from './types.js';

export interface ChainPosition {
  chainId: string;
  host: string;
  seq: number;
  prevHash: string;
}

/** The event members a record may carry, in one list so nothing else slips in. */
const EVENT_FIELDS = [
  'user', 'uid', 'pid', 'program', 'action', 'paths', 'zones', 'classification',
  'decision', 'policy_id', 'bundle_hash', 'reasoning', 'details',
] as const;

export interface BuiltRecord {
  record: AuditRecord;
  /** The stored line (RFC 8785 text of the whole record, hash included), without newline. */
  line: string;
}

function isoTime(t: string | undefined, now: () => Date): string {
  if (t === undefined) return now().toISOString();
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) throw new AuditRecordError(`time: ${JSON.stringify(t)} is not an ISO 8601 time`);
  return d.toISOString();
}

/** Precondition: pos.seq is the next seq of the chain and pos.prevHash the hash of seq-1. */
export function buildRecord(
  e: AuditEvent | (Omit<AuditEvent, 'kind'> & { kind: AuditKind }),
  pos: ChainPosition,
  now: () => Date = () => new Date(),
): BuiltRecord {
  if (!(AUDIT_KINDS as readonly string[]).includes(e.kind)) throw new AuditRecordError(`kind: unknown ${JSON.stringify(e.kind)}`);
  const body: Record<string, unknown> = {
    v: RECORD_VERSION,
    kind: e.kind,
    chain_id: pos.chainId,
    seq: pos.seq,
    host: pos.host,
    time: isoTime(e.time, now),
    prev_hash: pos.prevHash,
  };
  for (const f of EVENT_FIELDS) if (e[f] !== undefined) body[f] = e[f];
  const norm = normalize(body) as { [k: string]: JsonValue };
  const hash = recordHash(canonicalText(norm));
  norm.hash = hash;
  return { record: norm as unknown as AuditRecord, line: canonicalText(norm) };
}

export type LineProblem = 'malformed' | 'non_canonical';

export type ParsedLine =
  | { ok: true; record: AuditRecord; computedHash: string }
  | { ok: false; problem: LineProblem; detail: string; record?: AuditRecord; computedHash?: string };

/**
 * Parse one stored line and recompute its hash. A line that parses but is not byte-identical to
 * its canonical form is reported (someone re-serialised it) with the record still attached.
 */
export function parseRecordLine(line: string): ParsedLine {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (err) {
    return { ok: false, problem: 'malformed', detail: `not JSON: ${(err as Error).message}` };
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return { ok: false, problem: 'malformed', detail: 'not an object' };
  const r = v as Record<string, unknown>;
  if (!Number.isSafeInteger(r.seq) || (r.seq as number) < 0) return { ok: false, problem: 'malformed', detail: 'seq missing or not an integer' };
  if (typeof r.chain_id !== 'string' || typeof r.kind !== 'string' || typeof r.time !== 'string' || typeof r.host !== 'string') {
    return { ok: false, problem: 'malformed', detail: 'chain_id, kind, host or time missing' };
  }
  if (!isHashHex(r.hash) || !isHashHex(r.prev_hash)) return { ok: false, problem: 'malformed', detail: 'hash or prev_hash is not 64 hex digits' };
  const { hash: _stored, ...rest } = r;
  let computedHash: string;
  let canonicalWhole: string;
  try {
    computedHash = recordHash(canonicalText(rest as { [k: string]: JsonValue }));
    canonicalWhole = canonicalText(r as { [k: string]: JsonValue });
  } catch (err) {
    return { ok: false, problem: 'malformed', detail: (err as Error).message };
  }
  const record = r as unknown as AuditRecord;
  if (canonicalWhole !== line) return { ok: false, problem: 'non_canonical', detail: 'stored bytes differ from the canonical form', record, computedHash };
  return { ok: true, record, computedHash };
}
