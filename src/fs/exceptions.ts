// Exceptions: a user asks to move one governed file (or a tree) to one destination for a
// while; an approver who is not the requester approves or denies; the requester or an
// approver may revoke. Expiry is enforced at decision time (an expired exception never
// matches) and recorded by a sweep. Every state change is audited. The store is a JSON
// file in stateDir written atomically (write + rename), small by nature.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export type ExceptionState = 'pending' | 'approved' | 'denied' | 'revoked' | 'expired';

export interface ExceptionRecord {
  id: string;
  /** Governed source (user-visible path); a trailing "/" covers everything below it. */
  path: string;
  /** Destination file, or a directory prefix ending in "/". */
  dest: string;
  justification: string;
  requested_by: string;
  requested_uid: number;
  requested_at: string;
  /** Requested validity in seconds (an approver may change it). */
  ttl_s: number;
  state: ExceptionState;
  approved_by?: string;
  approved_at?: string;
  expires_at?: string;
  /** Decimal string: nanoseconds exceed 2^53. */
  expires_ns?: string;
  decided_by?: string;
  decided_at?: string;
  reason?: string;
}

export class ExceptionError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const MAX_TTL_S = 90 * 24 * 3600;

/** "24h", "90m", "3600", "7d" → seconds. */
export function parseTtl(v: string | number | undefined, fallback = 24 * 3600): number {
  if (v === undefined || v === '') return fallback;
  if (typeof v === 'number') return v;
  const m = /^(\d+)\s*([smhd]?)$/.exec(v.trim());
  if (!m) throw new ExceptionError(400, `bad ttl "${v}": use a number of seconds or 90s, 30m, 24h, 7d`);
  const n = Number(m[1]) * ({ '': 1, s: 1, m: 60, h: 3600, d: 86400 } as Record<string, number>)[m[2]!]!;
  if (n <= 0 || n > MAX_TTL_S) throw new ExceptionError(400, `ttl must be between 1 second and 90 days, got ${v}`);
  return n;
}

function covers(pattern: string, p: string): boolean {
  return pattern.endsWith('/') ? p.startsWith(pattern) || p === pattern.slice(0, -1) : p === pattern;
}

export interface AuditSink {
  append(e: { kind: string; user?: string; uid?: number; paths?: string[]; reasoning?: string; details?: Record<string, unknown> }): unknown;
}

export class ExceptionStore {
  private records: ExceptionRecord[] = [];

  constructor(
    private readonly file: string,
    private readonly audit: AuditSink,
    private readonly now: () => Date = () => new Date(),
  ) {
    try {
      const data = JSON.parse(fs.readFileSync(file, 'utf8')) as { exceptions?: ExceptionRecord[] };
      this.records = data.exceptions ?? [];
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read exceptions from ${file}: ${(e as Error).message}`);
    }
  }

  private save(): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify({ exceptions: this.records }, null, 2) + '\n', { mode: 0o640 });
    fs.renameSync(tmp, this.file);
  }

  private find(id: string): ExceptionRecord {
    const r = this.records.find((x) => x.id === id);
    if (!r) throw new ExceptionError(404, `no exception ${id}`);
    return r;
  }

  request(by: { user: string; uid: number }, p: { path: string; dest: string; justification: string; ttl?: string | number }): ExceptionRecord {
    if (!p.path || !p.dest) throw new ExceptionError(400, 'an exception needs --path (the governed source) and --dest (the destination)');
    if (!p.justification || p.justification.trim().length < 5) throw new ExceptionError(400, 'say why you need it: --justification with at least a few words');
    const rec: ExceptionRecord = {
      id: `ex-${randomBytes(4).toString('hex')}`,
      path: path.resolve(p.path) + (p.path.endsWith('/') ? '/' : ''),
      dest: path.resolve(p.dest) + (p.dest.endsWith('/') ? '/' : ''),
      justification: p.justification.trim(),
      requested_by: by.user,
      requested_uid: by.uid,
      requested_at: this.now().toISOString(),
      ttl_s: parseTtl(p.ttl),
      state: 'pending',
    };
    this.records.push(rec);
    this.save();
    this.audit.append({ kind: 'exception_requested', user: by.user, uid: by.uid, paths: [rec.path, rec.dest], reasoning: rec.justification, details: { id: rec.id, ttl_s: rec.ttl_s } });
    return rec;
  }

  approve(by: { user: string; uid: number }, id: string, ttlOverride?: string | number): ExceptionRecord {
    const r = this.find(id);
    if (r.state !== 'pending') throw new ExceptionError(409, `${id} is ${r.state}, not pending`);
    if (r.requested_uid === by.uid) throw new ExceptionError(403, `${by.user} requested ${id} and cannot approve it: a second person must`);
    const ttl = ttlOverride !== undefined ? parseTtl(ttlOverride) : r.ttl_s;
    const now = this.now();
    const expires = new Date(now.getTime() + ttl * 1000);
    Object.assign(r, {
      state: 'approved' as const,
      approved_by: by.user,
      approved_at: now.toISOString(),
      ttl_s: ttl,
      expires_at: expires.toISOString(),
      expires_ns: (BigInt(expires.getTime()) * 1_000_000n).toString(),
      decided_by: by.user,
      decided_at: now.toISOString(),
    });
    this.save();
    this.audit.append({ kind: 'exception_approved', user: by.user, uid: by.uid, paths: [r.path, r.dest], reasoning: r.justification, details: { id, requested_by: r.requested_by, expires_at: r.expires_at } });
    return r;
  }

  deny(by: { user: string; uid: number }, id: string, reason: string): ExceptionRecord {
    const r = this.find(id);
    if (r.state !== 'pending') throw new ExceptionError(409, `${id} is ${r.state}, not pending`);
    Object.assign(r, { state: 'denied' as const, decided_by: by.user, decided_at: this.now().toISOString(), reason });
    this.save();
    this.audit.append({ kind: 'exception_denied', user: by.user, uid: by.uid, paths: [r.path, r.dest], reasoning: reason, details: { id, requested_by: r.requested_by } });
    return r;
  }

  revoke(by: { user: string; uid: number }, id: string, reason = ''): ExceptionRecord {
    const r = this.find(id);
    if (r.state !== 'approved' && r.state !== 'pending') throw new ExceptionError(409, `${id} is ${r.state}: nothing to revoke`);
    Object.assign(r, { state: 'revoked' as const, decided_by: by.user, decided_at: this.now().toISOString(), reason });
    this.save();
    this.audit.append({ kind: 'exception_revoked', user: by.user, uid: by.uid, paths: [r.path, r.dest], reasoning: reason, details: { id } });
    return r;
  }

  get(id: string): ExceptionRecord {
    return this.find(id);
  }

  list(filter?: { uid?: number }): ExceptionRecord[] {
    this.sweep();
    return this.records.filter((r) => filter?.uid === undefined || r.requested_uid === filter.uid);
  }

  /** Marks approved exceptions past their expiry as expired (audited). */
  sweep(): number {
    const nowMs = this.now().getTime();
    let n = 0;
    for (const r of this.records) {
      if (r.state === 'approved' && r.expires_at && Date.parse(r.expires_at) <= nowMs) {
        r.state = 'expired';
        n++;
        this.audit.append({ kind: 'exception_expired', user: r.requested_by, uid: r.requested_uid, paths: [r.path, r.dest], details: { id: r.id, expired_at: r.expires_at } });
      }
    }
    if (n) this.save();
    return n;
  }

  /**
   * Approved, unexpired exceptions of this user that cover the operation: the destination
   * matches and every governed source the data came from is covered. Checked against the
   * clock here, not by the sweep, so expiry takes effect to the nanosecond.
   */
  matching(sources: string[], dest: string, uid: number, nowNs: bigint): Array<Record<string, unknown>> {
    const out: Array<Record<string, unknown>> = [];
    for (const r of this.records) {
      if (r.state !== 'approved' || r.requested_uid !== uid || !r.expires_ns || BigInt(r.expires_ns) <= nowNs) continue;
      if (!covers(r.dest, dest)) continue;
      if (sources.length > 0 && !sources.every((s) => covers(r.path, s))) continue;
      out.push({
        id: r.id,
        path: r.path,
        dest: r.dest,
        expires_ns: BigInt(r.expires_ns),
        requested_by: r.requested_by,
        approved_by: r.approved_by,
        justification: r.justification,
      });
    }
    return out;
  }
}
