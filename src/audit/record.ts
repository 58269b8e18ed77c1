// Building and re-reading chain records. buildRecord() is the only place the chain fields are
// attached; parseRecordLine() is the only place a stored line becomes a record again, and it
// reports *how* a line is wrong instead of throwing, because the verifier names every break.
import { canonicalMembers, canonicalText, type JsonValue } from './canonical.js';
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

/** Every member a record body can have, in RFC 8785 (UTF-16 code unit) order. */
const BODY_KEYS: readonly string[] = ['v', 'kind', 'chain_id', 'seq', 'host', 'time', 'prev_hash', ...EVENT_FIELDS].sort();
/**
 * "hash" sorts between these two groups, and "host" (always present) opens the second, so a line
 * is head + hash member + tail without searching the text for where the hash goes.
 */
const HEAD_KEYS = BODY_KEYS.filter((k) => k < 'hash');
const TAIL_KEYS = BODY_KEYS.filter((k) => k > 'hash');
const KINDS: ReadonlySet<string> = new Set(AUDIT_KINDS);
/** Members built here from characters JSON never escapes: time (toISOString) and prev_hash (checked hex). */
const PLAIN_KEYS: ReadonlySet<string> = new Set(['time', 'prev_hash']);

export interface BuiltRecord {
  record: AuditRecord;
  /** The stored line (RFC 8785 text of the whole record, hash included), without newline. */
  line: string;
}

// toISOString() costs about a microsecond and every record of the same millisecond has the same
// answer; the time of the last millisecond seen is kept.
let lastTimeMs = NaN;
let lastTimeIso = '';

function isoTime(t: string | undefined, now: () => Date): string {
  if (t === undefined) {
    const ms = now().getTime();
    if (ms !== lastTimeMs) {
      lastTimeIso = new Date(ms).toISOString();
      lastTimeMs = ms;
    }
    return lastTimeIso;
  }
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) throw new AuditRecordError(`time: ${JSON.stringify(t)} is not an ISO 8601 time`);
  return d.toISOString();
}

/**
 * A record without its hash: `head` and `tail` are the RFC 8785 text of the members that sort
 * before and after "hash" (head opens with "{", tail lacks the closing "}"), so the hashed body is
 * `${head},${tail}}` and the stored line `${head},"hash":"<hash>",${tail}}`.
 */
export interface UnsealedRecord {
  body: Record<string, unknown>;
  head: string;
  tail: string;
}

/** Precondition: pos.seq is the next seq of the chain and pos.prevHash the hash of seq-1. */
export function encodeRecord(
  e: AuditEvent | (Omit<AuditEvent, 'kind'> & { kind: AuditKind }),
  pos: ChainPosition,
  now: () => Date = () => new Date(),
): UnsealedRecord {
  if (!KINDS.has(e.kind)) throw new AuditRecordError(`kind: unknown ${JSON.stringify(e.kind)}`);
  if (!isHashHex(pos.prevHash)) throw new AuditRecordError(`prev_hash: ${JSON.stringify(pos.prevHash)} is not a SHA-256 hex digest`);
  // Every member named once, in one literal: one object shape for every record, which the
  // encoder's lookups stay fast on. Absent members are undefined here and left out of the text.
  const body = {
    v: RECORD_VERSION,
    kind: e.kind,
    chain_id: pos.chainId,
    seq: pos.seq,
    host: pos.host,
    time: isoTime(e.time, now),
    prev_hash: pos.prevHash,
    user: e.user,
    uid: e.uid,
    pid: e.pid,
    program: e.program,
    action: e.action,
    paths: e.paths,
    zones: e.zones,
    classification: e.classification,
    decision: e.decision,
    policy_id: e.policy_id,
    bundle_hash: e.bundle_hash,
    reasoning: e.reasoning,
    details: e.details,
  } satisfies Record<string, unknown> & Record<(typeof EVENT_FIELDS)[number], unknown> as Record<string, unknown>;
  checkFieldTypes(body);
  // head is never just '{' (chain_id is in it), so tail always follows a member.
  return { body, head: canonicalMembers(body, HEAD_KEYS, '{'), tail: canonicalMembers(body, TAIL_KEYS, '', PLAIN_KEYS) };
}

/** Precondition: pos.seq is the next seq of the chain and pos.prevHash the hash of seq-1. */
export function buildRecord(
  e: AuditEvent | (Omit<AuditEvent, 'kind'> & { kind: AuditKind }),
  pos: ChainPosition,
  now: () => Date = () => new Date(),
): BuiltRecord {
  const { body, head, tail } = encodeRecord(e, pos, now);
  const hash = recordHash(`${head},${tail}}`);
  for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
  body.hash = hash;
  return { record: body as unknown as AuditRecord, line: `${head},"hash":"${hash}",${tail}}` };
}

function checkString(name: string, v: unknown): void {
  if (v !== undefined && typeof v !== 'string') throw new AuditRecordError(`${name}: must be a string`);
}

function checkInteger(name: string, v: unknown): void {
  if (v !== undefined && !Number.isSafeInteger(v)) throw new AuditRecordError(`${name}: must be an integer`);
}

function isStringArray(v: unknown): boolean {
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (typeof v[i] !== 'string') return false;
  return true;
}

function checkStringArray(name: string, v: unknown): void {
  if (v !== undefined && !isStringArray(v)) throw new AuditRecordError(`${name}: must be an array of strings`);
}

/** Typed members must have their documented types: queries and columns rely on it. */
function checkFieldTypes(b: Record<string, unknown>): void {
  checkString('user', b.user);
  checkString('program', b.program);
  checkString('action', b.action);
  checkString('policy_id', b.policy_id);
  checkString('bundle_hash', b.bundle_hash);
  checkString('reasoning', b.reasoning);
  checkString('decision', b.decision);
  checkInteger('uid', b.uid);
  checkInteger('pid', b.pid);
  checkStringArray('paths', b.paths);
  checkStringArray('zones', b.zones);
  const c = b.classification as { tier?: unknown; tags?: unknown } | undefined;
  if (c !== undefined && (c === null || typeof c !== 'object' || typeof c.tier !== 'string' || !isStringArray(c.tags))) {
    throw new AuditRecordError('classification: must be {tier: string, tags: string[]}');
  }
  if (b.details !== undefined && (b.details === null || typeof b.details !== 'object' || Array.isArray(b.details))) throw new AuditRecordError('details: must be an object');
}

export type LineProblem = 'malformed' | 'non_canonical';

export type ParsedLine =
  | { ok: true; record: AuditRecord; computedHash: string }
  | { ok: false; problem: LineProblem; detail: string; record?: AuditRecord; computedHash?: string };

/**
 * Fast path for verification: if the stored line minus its top-level `"hash"` member hashes to
 * that hash, the line is byte-for-byte the canonical text that was hashed when the record was
 * written (SHA-256 collision resistance), so it is both canonical and unmodified and needs no
 * re-encoding. Returns null when that does not hold; parseRecordLine() then says what is wrong.
 * (The top-level "hash" member is the last `,"hash":"` in the text: only strings and numbers
 * follow it in key order, and quotes inside strings are escaped.)
 */
export function quickVerifyLine(line: string): AuditRecord | null {
  const at = line.lastIndexOf(',"hash":"');
  if (at < 0 || line.charCodeAt(at + 73) !== 0x22) return null;
  const stored = line.slice(at + 9, at + 73);
  if (recordHash(line.slice(0, at) + line.slice(at + 74)) !== stored) return null;
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (r === null || typeof r !== 'object' || r.hash !== stored || !Number.isSafeInteger(r.seq) || typeof r.chain_id !== 'string' ||
      typeof r.kind !== 'string' || !isHashHex(r.prev_hash)) return null;
  return r as unknown as AuditRecord;
}

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
