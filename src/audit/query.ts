// Filtering audit records for `lacuna-fs audit query` and reports: one filter shape applied to
// records from the spool or PostgreSQL. PostgreSQL narrows with indexed columns first and the
// final match is made on the canonical record, so an edited column cannot add a false row; one that
// hides a row is what `audit verify --source postgres` reports as column_mismatch.
import pg from 'pg';
import { postgresChains } from './sources.js';
import { spoolLines } from './sources.js';
import type { AuditRecord } from './types.js';

export interface RecordFilter {
  user?: string;
  /** Shell-style glob: `*` and `?` stay within a path segment, `**` crosses segments. */
  path?: string;
  decision?: string;
  tier?: string;
  kind?: string;
  policy?: string;
  /** ISO 8601, inclusive. */
  since?: string;
  /** ISO 8601, exclusive. */
  until?: string;
  chainId?: string;
}

export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        re += '.*';
        i++;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Normalise a user-given time to the stored UTC form so text comparison is time comparison. */
export function isoBound(t: string | undefined, what: string): string | undefined {
  if (t === undefined) return undefined;
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) throw new RangeError(`${what}: ${JSON.stringify(t)} is not a date/time`);
  return d.toISOString();
}

export function compileFilter(f: RecordFilter): (r: AuditRecord) => boolean {
  const pathRe = f.path ? globToRegExp(f.path) : null;
  const since = isoBound(f.since, '--since');
  const until = isoBound(f.until, '--until');
  return (r) =>
    (!f.user || r.user === f.user) &&
    (!f.decision || r.decision === f.decision) &&
    (!f.tier || r.classification?.tier === f.tier) &&
    (!f.kind || r.kind === f.kind) &&
    (!f.policy || r.policy_id === f.policy) &&
    (!f.chainId || r.chain_id === f.chainId) &&
    (!since || r.time >= since) &&
    (!until || r.time < until) &&
    (!pathRe || (r.paths ?? []).some((p) => pathRe.test(p)));
}

/** Records of the spool that match, in stored order. Lines that are not records are skipped (verify reports them). */
export async function* querySpool(stateDir: string, f: RecordFilter): AsyncGenerator<AuditRecord> {
  const match = compileFilter(f);
  for await (const l of spoolLines(stateDir)) {
    let r: AuditRecord;
    try {
      r = JSON.parse(l.line) as AuditRecord;
    } catch {
      continue;
    }
    if (match(r)) yield r;
  }
}

/** Records in PostgreSQL that match, by chain then seq. */
export async function* queryPostgres(connectionString: string, f: RecordFilter, page = 5000): AsyncGenerator<AuditRecord> {
  const match = compileFilter(f);
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    const chains = f.chainId ? [f.chainId] : (await postgresChains(client)).map((c) => c.chain_id);
    const where: string[] = ['chain_id = $1', 'seq > $2'];
    const params: unknown[] = [];
    const add = (sql: string, v: unknown) => {
      params.push(v);
      where.push(sql.replace('?', `$${params.length + 2}`));
    };
    if (f.user) add('"user" = ?', f.user);
    if (f.decision) add('decision = ?', f.decision);
    if (f.tier) add('tier = ?', f.tier);
    if (f.kind) add('kind = ?', f.kind);
    if (f.policy) add('policy_id = ?', f.policy);
    const since = isoBound(f.since, '--since');
    const until = isoBound(f.until, '--until');
    if (since) add('"time" >= ?', since);
    if (until) add('"time" < ?', until);
    if (f.path) add('EXISTS (SELECT 1 FROM unnest(paths) p WHERE p ~ ?)', globToRegExp(f.path).source);
    for (const chain of chains) {
      let after = -1;
      for (;;) {
        const { rows } = await client.query<{ seq: string; record: string }>(
          `SELECT seq::text AS seq, record FROM audit_records WHERE ${where.join(' AND ')} ORDER BY audit_records.seq LIMIT ${page}`,
          [chain, after, ...params],
        );
        for (const row of rows) {
          const r = JSON.parse(row.record) as AuditRecord;
          if (match(r)) yield r;
        }
        if (rows.length < page) break;
        after = Number(rows[rows.length - 1]!.seq);
      }
    }
  } finally {
    await client.end();
  }
}
