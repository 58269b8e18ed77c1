// Test-only tools for building a small chain and applying the mutations the tamper fixtures
// (fixtures/tamper/*.json) name, to spool lines or PostgreSQL rows, the way an attacker with
// file or superuser database access would: re-hashing where the fixture says so.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import pg from 'pg';
import { openAudit, type AuditLog } from '../../src/audit/index.js';
import { deriveColumns } from '../../src/audit/columns.js';

const canonicalize = createRequire(import.meta.url)('canonicalize') as (v: unknown) => string;

export interface TamperFixture {
  name: string;
  description: string;
  mutation: Record<string, unknown> & { op: string };
  expect: { spool?: { kind: string; seq: number } | null; postgres?: { kind: string; seq: number } | null };
}

export function loadTamperFixtures(): TamperFixture[] {
  const dir = join(import.meta.dirname, 'fixtures', 'tamper');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ name: f.replace(/\.json$/, ''), ...JSON.parse(readFileSync(join(dir, f), 'utf8')) }));
}

const USERS = ['alice', 'bob', 'carol'];

/** Genesis + 40 decisions, flushed every 10 so checkpoints land on 10, 20, 30 and 40. */
export async function buildChain(stateDir: string, postgres?: string): Promise<AuditLog> {
  const log = await openAudit({ stateDir, postgres: postgres ?? null, checkpointEvery: 10, checkpointSeconds: 3600, host: 'test-host' });
  for (let i = 1; i <= 40; i++) {
    log.append({
      kind: 'decision', user: USERS[i % 3]!, uid: 1000 + (i % 3), pid: 4000 + i, program: 'cp', action: 'write',
      paths: [`/governed/data/file-${i}.csv`, `/export/file-${i}.csv`], zones: ['governed', 'unmanaged'],
      classification: { tier: i % 2 ? 'PROPRIETARY' : 'INTERNAL', tags: ['PII'] },
      decision: 'deny', policy_id: 'no_export', bundle_hash: 'b'.repeat(64), reasoning: 'PROPRIETARY data may not leave governance',
      details: { inode: BigInt(2 ** 60) + BigInt(i), confidence: 0.9 },
    });
    if (i % 10 === 0) await log.flush();
  }
  return log;
}

function rehash(r: Record<string, unknown>): Record<string, unknown> {
  const { hash: _h, ...body } = r;
  const hash = createHash('sha256').update('lacuna-fs/audit/v1/record\0').update(canonicalize(body)).digest('hex');
  return { ...body, hash };
}

export interface Mutated {
  lines: string[];
  /** The seq column each line gets in PostgreSQL (attackers who swap or insert move contents between rows). */
  rowSeqs: number[];
}

/** Apply a record mutation to the ordered stored lines of a chain. */
export function mutateLines(lines: string[], m: TamperFixture['mutation']): Mutated {
  const recs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const ownSeqs = () => recs.map((r) => r.seq as number);
  switch (m.op) {
    case 'none':
    case 'column':
    case 'checkpoint-field':
      return { lines: [...lines], rowSeqs: ownSeqs() };
    case 'set-field': {
      const i = recs.findIndex((r) => r.seq === m.seq);
      recs[i] = { ...recs[i], [m.field as string]: m.value };
      if (m.rehash) recs[i] = rehash(recs[i]!);
      if (m.relink) {
        for (let j = i + 1; j < recs.length; j++) recs[j] = rehash({ ...recs[j], prev_hash: recs[j - 1]!.hash });
      }
      return { lines: recs.map((r) => canonicalize(r)), rowSeqs: ownSeqs() };
    }
    case 'drop': {
      const i = recs.findIndex((r) => r.seq === m.seq);
      recs.splice(i, 1);
      lines = lines.filter((_, j) => j !== i);
      return { lines, rowSeqs: ownSeqs() };
    }
    case 'swap': {
      const i = recs.findIndex((r) => r.seq === m.seq);
      const out = [...lines];
      [out[i], out[i + 1]] = [out[i + 1]!, out[i]!];
      return { lines: out, rowSeqs: out.map((_, j) => j) };
    }
    case 'insert': {
      const i = recs.findIndex((r) => r.seq === m.after);
      const prev = recs[i]!;
      const forged = rehash({ ...recs[i + 1], seq: (prev.seq as number) + 1, prev_hash: prev.hash, user: 'mallory', decision: 'allow', reasoning: 'approved' });
      const out = [...lines];
      out.splice(i + 1, 0, canonicalize(forged));
      return { lines: out, rowSeqs: out.map((_, j) => j) };
    }
    case 'truncate': {
      const i = recs.findIndex((r) => r.seq === m.from);
      return { lines: lines.slice(0, i), rowSeqs: ownSeqs().slice(0, i) };
    }
    case 'reserialize': {
      const i = recs.findIndex((r) => r.seq === m.seq);
      const r = recs[i]!;
      const reordered = Object.fromEntries(Object.entries(r).reverse());
      const out = [...lines];
      out[i] = JSON.stringify(reordered);
      return { lines: out, rowSeqs: ownSeqs() };
    }
    default:
      throw new Error(`unknown mutation ${m.op}`);
  }
}

export function mutateCheckpointLines(lines: string[], m: TamperFixture['mutation']): string[] {
  if (m.op !== 'checkpoint-field') return lines;
  return lines.map((l) => {
    const c = JSON.parse(l) as Record<string, unknown>;
    return c.seq === m.seq ? canonicalize({ ...c, [m.field as string]: m.value }) : l;
  });
}

/** Rewrite a chain's rows as a superuser who switched the append-only triggers off. */
export async function tamperPostgres(connectionString: string, chainId: string, m: TamperFixture['mutation']): Promise<void> {
  const c = new pg.Client({ connectionString });
  await c.connect();
  try {
    await c.query('BEGIN');
    await c.query('SET LOCAL session_replication_role = replica'); // disables the append-only triggers
    if (m.op === 'column') {
      await c.query(`UPDATE audit_records SET ${m.column as string} = $3 WHERE chain_id = $1 AND seq = $2`, [chainId, m.seq, m.value]);
    } else if (m.op === 'checkpoint-field') {
      const { rows } = await c.query('SELECT checkpoint FROM audit_checkpoints WHERE chain_id = $1 AND seq = $2', [chainId, m.seq]);
      const [changed] = mutateCheckpointLines([rows[0].checkpoint], m);
      await c.query('UPDATE audit_checkpoints SET checkpoint = $3 WHERE chain_id = $1 AND seq = $2', [chainId, m.seq, changed]);
    } else {
      const { rows } = await c.query('SELECT record FROM audit_records WHERE chain_id = $1 ORDER BY seq', [chainId]);
      const out = mutateLines(rows.map((r) => r.record as string), m);
      await c.query('DELETE FROM audit_records WHERE chain_id = $1', [chainId]);
      for (let i = 0; i < out.lines.length; i++) {
        const line = out.lines[i]!;
        const r = JSON.parse(line);
        const d = deriveColumns(r);
        await c.query(
          `INSERT INTO audit_records (chain_id, seq, hash, prev_hash, record, kind, "time", host, "user", uid, pid, program, action, decision, tier, tags, policy_id, bundle_hash, paths, zones)
           VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20)`,
          [chainId, out.rowSeqs[i], r.hash, r.prev_hash, line, d.kind, d.time, d.host, d.user, d.uid, d.pid, d.program, d.action, d.decision, d.tier, d.tags, d.policy_id, d.bundle_hash, d.paths, d.zones],
        );
      }
    }
    await c.query('COMMIT');
  } catch (err) {
    await c.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    await c.end();
  }
}

export function readSpoolLines(segmentFile: string): string[] {
  return readFileSync(segmentFile, 'utf8').split('\n').filter((l) => l !== '');
}

export function writeLines(file: string, lines: string[]): void {
  writeFileSync(file, lines.map((l) => l + '\n').join(''));
}
