// Reading stored evidence for verify, query and report: the spool (segments, checkpoints file,
// trim anchor, key) and PostgreSQL (rows in seq order, checkpoints, chain registry). Everything
// here is I/O and streaming; judging the evidence is verify.ts's job.
import type { KeyObject } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { checkpointLine, type Checkpoint } from './checkpoint.js';
import { createHash } from 'node:crypto';
import { COLUMN_NAMES, deriveColumns, type RecordColumns } from './columns.js';
import { ANCHOR_FILE, CHAIN_FILE, CHECKPOINTS_FILE, SEGMENTS_DIR, SINK_FILE, auditDirOf, readJsonIfExists } from './files.js';
import { publicKeyFromPem, readPublicKey } from './keys.js';
import { listSegments, type Anchor } from './spool.js';
import type { AuditRecord } from './types.js';
import { verifySpoolRuns, type RunsOptions } from './verify-runs.js';
import { ChainVerifier, type Mismatch, type StoredLine, type VerifyOptions, type VerifyResult } from './verify.js';

export interface KeySpec {
  publicKey: KeyObject;
  keyId: string;
  /** 'pinned' = given by the auditor; otherwise read from the same place as the evidence. */
  origin: 'pinned' | 'state-dir' | 'postgres';
}

export function pinnedKey(pem: string): KeySpec {
  const k = publicKeyFromPem(pem);
  return { ...k, origin: 'pinned' };
}

/** Every stored line of the spool in file order, including a torn last fragment (as-is). */
export async function* spoolLines(stateDir: string): AsyncGenerator<StoredLine & { partial?: boolean }> {
  const segDir = join(auditDirOf(stateDir), SEGMENTS_DIR);
  const segs = listSegments(segDir);
  for (const seg of segs) {
    const last = seg === segs[segs.length - 1];
    const fh = await open(join(segDir, seg.name), 'r');
    try {
      let carry = Buffer.alloc(0);
      let lineNo = 0;
      let pos = 0;
      const buf = Buffer.allocUnsafe(4 << 20);
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
        if (bytesRead === 0) break;
        pos += bytesRead;
        const data = carry.length ? Buffer.concat([carry, buf.subarray(0, bytesRead)]) : buf.subarray(0, bytesRead);
        let start = 0;
        for (;;) {
          const nl = data.indexOf(0x0a, start);
          if (nl < 0) break;
          lineNo++;
          yield { line: data.toString('utf8', start, nl), where: `${seg.name}:${lineNo}` };
          start = nl + 1;
        }
        carry = Buffer.from(data.subarray(start));
      }
      // An unterminated end of the newest segment is a write in progress or a torn, never
      // acknowledged tail (open() recovers it); anywhere else it is damage and verified as a line.
      if (carry.length > 0) yield { line: carry.toString('utf8'), where: `${seg.name}:${lineNo + 1} (unterminated)`, ...(last ? { partial: true } : {}) };
    } finally {
      await fh.close();
    }
  }
}

export interface SpoolEvidence {
  chainId: string | null;
  checkpoints: { checkpoint: Checkpoint; where: string }[];
  anchor: Anchor | undefined;
  key: KeySpec | null;
}

export async function spoolEvidence(stateDir: string, pinned?: KeySpec): Promise<SpoolEvidence> {
  const dir = auditDirOf(stateDir);
  const chain = readJsonIfExists<{ chain_id: string }>(join(dir, CHAIN_FILE));
  let text = '';
  try {
    text = await readFile(join(dir, CHECKPOINTS_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const checkpoints: { checkpoint: Checkpoint; where: string }[] = [];
  const cpLines = text.split('\n');
  cpLines.pop(); // '' after the last newline, or a checkpoint still being written
  cpLines.forEach((line, i) => {
    if (line === '') return;
    let c: unknown;
    try {
      c = JSON.parse(line);
    } catch {
      c = { malformed: line };
    }
    checkpoints.push({ checkpoint: c as Checkpoint, where: `${CHECKPOINTS_FILE}:${i + 1}` });
  });
  let key: KeySpec | null = pinned ?? null;
  if (!key) {
    try {
      key = { ...readPublicKey(dir), origin: 'state-dir' };
    } catch {
      key = null;
    }
  }
  return { chainId: chain?.chain_id ?? null, checkpoints, anchor: readJsonIfExists<Anchor>(join(dir, ANCHOR_FILE)), key };
}

export interface VerifyReport extends VerifyResult {
  source: 'spool' | 'postgres';
  keyOrigin: KeySpec['origin'] | null;
  /** Spool only: unterminated bytes at the end of the newest segment (a write in progress, or a torn tail the next open recovers). Not a break: those records were never acknowledged. */
  incompleteTail?: { where: string; bytes: number };
}

/**
 * Verify the local spool of a state dir. `from` starts later (records before it are skipped).
 * An intact chain is confirmed by intact runs (verify-runs.ts; `runs` tunes them, false skips
 * them); anything else is verified line by line, which names each break.
 */
export async function verifySpool(stateDir: string, opts: { key?: KeySpec; from?: number; maxMismatches?: number; runs?: RunsOptions | false } = {}): Promise<VerifyReport> {
  const ev = await spoolEvidence(stateDir, opts.key);
  const vo: VerifyOptions = {
    checkpoints: ev.checkpoints,
    ...(ev.chainId ? { chainId: ev.chainId } : {}),
    ...(ev.key ? { publicKey: ev.key.publicKey, keyId: ev.key.keyId } : {}),
    ...(opts.maxMismatches ? { maxMismatches: opts.maxMismatches } : {}),
  };
  if (opts.from !== undefined && opts.from > 0) vo.start = { from: opts.from };
  else if (ev.anchor) vo.start = { anchor: ev.anchor };
  if (opts.runs !== false && (vo.start === undefined || 'anchor' in vo.start)) {
    const fast = await verifySpoolRuns(stateDir, vo, opts.runs);
    if (fast) return { ...fast.result, source: 'spool', keyOrigin: ev.key?.origin ?? null, ...(fast.incompleteTail ? { incompleteTail: fast.incompleteTail } : {}) };
  }
  const v = new ChainVerifier(vo);
  let incompleteTail: { where: string; bytes: number } | undefined;
  for await (const l of spoolLines(stateDir)) {
    if (l.partial) {
      incompleteTail = { where: l.where!, bytes: Buffer.byteLength(l.line) };
      continue;
    }
    if (opts.from !== undefined && opts.from > 0 && /"seq":(\d+)/.test(l.line)) {
      const r = tryParse(l.line);
      if (r && typeof r.seq === 'number' && r.seq < opts.from) continue;
    }
    v.push(l);
  }
  return { ...v.end(), source: 'spool', keyOrigin: ev.key?.origin ?? null, ...(incompleteTail ? { incompleteTail } : {}) };
}

function tryParse(line: string): AuditRecord | null {
  try {
    return JSON.parse(line) as AuditRecord;
  } catch {
    return null;
  }
}

/** Rows of one chain from PostgreSQL in seq order, keyset-paginated. */
export async function* postgresRows(client: pg.ClientBase, chainId: string, from = 0, page = 5000): AsyncGenerator<PgRow> {
  let after = from - 1;
  for (;;) {
    const { rows } = await client.query<PgRow>(
      `SELECT seq::text AS seq, hash, prev_hash, record, kind, "time", host, "user", uid::text AS uid, pid::text AS pid,
              program, action, decision, tier, tags, policy_id, bundle_hash, paths, zones
         FROM audit_records WHERE chain_id = $1 AND seq > $2 ORDER BY audit_records.seq LIMIT $3`,
      [chainId, after, page],
    );
    for (const r of rows) yield r;
    if (rows.length < page) return;
    after = Number(rows[rows.length - 1]!.seq);
  }
}

export interface PgRow {
  seq: string;
  hash: string;
  prev_hash: string;
  record: string;
  kind: string;
  time: string;
  host: string;
  user: string | null;
  uid: string | null;
  pid: string | null;
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

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The row's own columns must say what its canonical record says. */
export function rowColumnMismatches(row: PgRow, r: AuditRecord): Mismatch[] {
  const out: Mismatch[] = [];
  const rowSeq = Number(row.seq);
  if (rowSeq !== r.seq) out.push({ seq: r.seq, kind: 'column_mismatch', expected: r.seq, computed: rowSeq, detail: 'seq column' });
  if (row.hash !== r.hash) out.push({ seq: r.seq, kind: 'column_mismatch', expected: r.hash, computed: row.hash, detail: 'hash column' });
  if (row.prev_hash !== r.prev_hash) out.push({ seq: r.seq, kind: 'column_mismatch', expected: r.prev_hash, computed: row.prev_hash, detail: 'prev_hash column' });
  const d = deriveColumns(r);
  const have: RecordColumns = {
    ...d,
    kind: row.kind, time: row.time, host: row.host, user: row.user, uid: row.uid === null ? null : Number(row.uid), pid: row.pid === null ? null : Number(row.pid),
    program: row.program, action: row.action, decision: row.decision, tier: row.tier, tags: row.tags, policy_id: row.policy_id,
    bundle_hash: row.bundle_hash, paths: row.paths, zones: row.zones,
  };
  for (const c of COLUMN_NAMES) {
    if (!same(d[c], have[c])) out.push({ seq: r.seq, kind: 'column_mismatch', expected: JSON.stringify(d[c]), computed: JSON.stringify(have[c]), detail: `${c} column` });
  }
  return out;
}

export async function postgresChains(client: pg.ClientBase): Promise<{ chain_id: string; host: string; key_id: string; public_key: string }[]> {
  const { rows } = await client.query('SELECT chain_id, host, key_id, public_key FROM audit_chains ORDER BY chain_id');
  return rows;
}

/** Verify one chain (or every registered chain) in PostgreSQL. */
export async function verifyPostgres(
  connectionString: string,
  opts: { chainId?: string; key?: KeySpec; from?: number; maxMismatches?: number } = {},
): Promise<VerifyReport[]> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    const chains = await postgresChains(client);
    const todo = opts.chainId ? chains.filter((c) => c.chain_id === opts.chainId) : chains;
    if (opts.chainId && todo.length === 0) {
      todo.push({ chain_id: opts.chainId, host: '', key_id: '', public_key: '' });
    }
    const out: VerifyReport[] = [];
    for (const ch of todo) {
      let key: KeySpec | null = opts.key ?? null;
      if (!key && ch.public_key) key = { ...publicKeyFromPem(ch.public_key), origin: 'postgres' };
      const { rows: cps } = await client.query<{ checkpoint: string; seq: string }>(
        'SELECT seq::text, checkpoint FROM audit_checkpoints WHERE chain_id = $1 ORDER BY audit_checkpoints.seq',
        [ch.chain_id],
      );
      const checkpoints = cps.map((r) => {
        let c: unknown;
        try {
          c = JSON.parse(r.checkpoint);
        } catch {
          c = { malformed: r.checkpoint };
        }
        return { checkpoint: c as Checkpoint, where: `audit_checkpoints seq=${r.seq}` };
      });
      const vo: VerifyOptions = {
        chainId: ch.chain_id,
        checkpoints,
        ...(key ? { publicKey: key.publicKey, keyId: key.keyId } : {}),
        ...(opts.maxMismatches ? { maxMismatches: opts.maxMismatches } : {}),
      };
      if (opts.from !== undefined && opts.from > 0) vo.start = { from: opts.from };
      const v = new ChainVerifier(vo);
      for await (const row of postgresRows(client, ch.chain_id, opts.from ?? 0)) {
        v.push({ line: row.record, where: `audit_records seq=${row.seq}`, columns: (r) => rowColumnMismatches(row, r) });
      }
      out.push({ ...v.end(), source: 'postgres', keyOrigin: key?.origin ?? null });
    }
    return out;
  } finally {
    await client.end();
  }
}

export interface CopiesReport {
  chainId: string | null;
  ok: boolean;
  /** Records present in both copies and compared byte for byte. */
  compared: number;
  checkpointsCompared: number;
  mismatches: Mismatch[];
}

/**
 * Compare the local spool with PostgreSQL for the spool's chain: every seq both hold must be the
 * same bytes, every checkpoint both hold the same signed text, and every record PostgreSQL
 * confirmed (sink.json) must still be there. This catches a history rewritten and re-signed with
 * the host's own key on one side only, which each copy alone would accept.
 */
export async function compareCopies(stateDir: string, connectionString: string): Promise<CopiesReport> {
  const dir = auditDirOf(stateDir);
  const chainId = readJsonIfExists<{ chain_id: string }>(join(dir, CHAIN_FILE))?.chain_id ?? null;
  const sink = readJsonIfExists<{ confirmedSeq: number }>(join(dir, SINK_FILE));
  const local = new Map<number, string>();
  for await (const l of spoolLines(stateDir)) {
    if (l.partial) continue;
    const r = tryParse(l.line);
    if (r && Number.isSafeInteger(r.seq)) local.set(r.seq, createHash('sha256').update(l.line).digest('hex'));
  }
  const ev = await spoolEvidence(stateDir);
  const mismatches: Mismatch[] = [];
  let compared = 0;
  let checkpointsCompared = 0;
  if (chainId === null) return { chainId, ok: false, compared, checkpointsCompared, mismatches: [{ seq: -1, kind: 'malformed', detail: 'no chain.json in the state dir' }] };
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    let first = Infinity;
    for (const k of local.keys()) if (k < first) first = k; // no spread: the spool may hold millions
    if (first === Infinity) first = 0;
    const seen = new Set<number>();
    for await (const row of postgresRows(client, chainId, first)) {
      const seq = Number(row.seq);
      seen.add(seq);
      const mine = local.get(seq);
      if (mine === undefined) continue;
      compared++;
      const theirs = createHash('sha256').update(row.record).digest('hex');
      if (theirs !== mine) mismatches.push({ seq, kind: 'copy_mismatch', expected: mine, computed: theirs, detail: 'SHA-256 of the stored record: spool vs PostgreSQL', where: `audit_records seq=${seq}` });
    }
    const confirmed = sink?.confirmedSeq ?? -1;
    for (const seq of local.keys()) {
      if (seq <= confirmed && !seen.has(seq)) mismatches.push({ seq, kind: 'copy_missing', detail: `PostgreSQL confirmed records up to ${confirmed} but lacks this one` });
    }
    const { rows } = await client.query<{ seq: string; checkpoint: string }>('SELECT seq::text AS seq, checkpoint FROM audit_checkpoints WHERE chain_id = $1', [chainId]);
    const remote = new Map(rows.map((r) => [Number(r.seq), r.checkpoint]));
    for (const { checkpoint: c } of ev.checkpoints) {
      const theirs = remote.get(c.seq);
      if (theirs === undefined) continue;
      checkpointsCompared++;
      const { frontier: _f, ...signed } = c as Checkpoint & { frontier?: string[] };
      if (checkpointLine(signed) !== theirs) mismatches.push({ seq: c.seq, kind: 'copy_mismatch', detail: 'the two copies hold different checkpoints for this seq', where: `audit_checkpoints seq=${c.seq}` });
    }
  } finally {
    await client.end();
  }
  mismatches.sort((a, b) => a.seq - b.seq);
  return { chainId, ok: mismatches.length === 0, compared, checkpointsCompared, mismatches };
}

/** Stored record hashes from genesis, in seq order, with the chain's checkpoints: input to proofs. */
export async function proofMaterial(
  from: { stateDir: string } | { connectionString: string; chainId?: string },
): Promise<{ chainId: string | null; hashes: string[]; checkpoints: Checkpoint[]; key: KeySpec | null }> {
  const hashes: string[] = [];
  const push = (line: string) => {
    const r = tryParse(line);
    if (!r || r.seq !== hashes.length) throw new Error(`records are not contiguous from genesis at seq ${hashes.length}: run \`lacuna-fs audit verify\` (a trimmed spool needs --source postgres)`);
    hashes.push(r.hash);
  };
  if ('stateDir' in from) {
    const ev = await spoolEvidence(from.stateDir);
    for await (const l of spoolLines(from.stateDir)) if (!l.partial) push(l.line);
    return { chainId: ev.chainId, hashes, checkpoints: ev.checkpoints.map((c) => c.checkpoint), key: ev.key };
  }
  const client = new pg.Client({ connectionString: from.connectionString });
  await client.connect();
  try {
    const chains = await postgresChains(client);
    const ch = from.chainId ? chains.find((c) => c.chain_id === from.chainId) : chains.length === 1 ? chains[0] : undefined;
    if (!ch) throw new Error(from.chainId ? `PostgreSQL holds no chain ${from.chainId}` : `PostgreSQL holds ${chains.length} chains: pick one with --chain`);
    for await (const row of postgresRows(client, ch.chain_id, 0)) push(row.record);
    const { rows } = await client.query<{ checkpoint: string }>('SELECT checkpoint FROM audit_checkpoints WHERE chain_id = $1 ORDER BY audit_checkpoints.seq', [ch.chain_id]);
    return { chainId: ch.chain_id, hashes, checkpoints: rows.map((r) => JSON.parse(r.checkpoint) as Checkpoint), key: { ...publicKeyFromPem(ch.public_key), origin: 'postgres' } };
  } finally {
    await client.end();
  }
}
