// The PostgreSQL sink: an outage in the middle of thousands of decisions loses nothing and writes
// nothing twice; the hot path never waits for the database; status shows backlog and lag; the
// spool is trimmed only after PostgreSQL confirmed and a checkpoint covers the trimmed records.
import t from 'tap';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAudit, type AuditLog } from '../../src/audit/index.js';
import { verifyPostgres, verifySpool } from '../../src/audit/sources.js';
import { startPostgres } from '../helpers/postgres.js';

const root = mkdtempSync(join(tmpdir(), 'lacuna-audit-sink-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, ms = 30000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function appendDecisions(log: AuditLog, n: number, tag: string): Promise<void> {
  for (let i = 0; i < n; i++) {
    log.append({ kind: 'decision', user: `u${i % 7}`, action: 'write', paths: [`/governed/${tag}/${i}`], zones: ['governed'], classification: { tier: 'INTERNAL', tags: [] }, decision: i % 5 ? 'allow' : 'deny', policy_id: 'p' });
    if (i % 250 === 249) await log.flush();
  }
  await log.flush();
}

t.test('PostgreSQL stopped in the middle of thousands of decisions, then started: every record arrives once, in order, and the chain verifies', async (t) => {
  const db = await startPostgres();
  t.teardown(() => db.stop());
  const stateDir = join(root, 'outage');
  const log = await openAudit({ stateDir, postgres: db.connectionString, checkpointEvery: 500, segmentBytes: 256 << 10 });
  t.teardown(() => log.close({ drainMs: 0 }));
  await appendDecisions(log, 2000, 'before');
  await waitFor('first records confirmed', () => log.stats().backlog === 0);
  t.equal(log.stats().postgres, 'connected');

  await db.stopServer();
  const t0 = performance.now();
  await appendDecisions(log, 3000, 'during');
  const appendMs = performance.now() - t0;
  await waitFor('the sink to notice', () => log.stats().postgres === 'down');
  const s = log.stats();
  t.ok(s.backlog >= 3000, `backlog grows while PostgreSQL is down (${s.backlog})`);
  t.ok(s.healthy, 'the spool stays healthy: the daemon keeps working');
  t.ok(s.lastError, `status says why: ${s.lastError}`);
  t.ok(appendMs < 20000, `appends did not wait for the database (${appendMs.toFixed(0)} ms for 3000)`);
  await new Promise((r) => setTimeout(r, 300));
  t.ok(log.stats().lagSeconds > 0.2, `lag grows (${log.stats().lagSeconds}s)`);

  await db.start();
  await appendDecisions(log, 2000, 'after');
  await waitFor('the backlog to drain', () => log.stats().backlog === 0, 60000);
  t.equal(log.stats().postgres, 'connected');
  t.equal(log.stats().lagSeconds, 0);
  const head = log.head().seq;
  const chainId = log.chainId;
  await log.close({ drainMs: 10000 });

  const [counts] = await db.query<{ n: string; d: string; lo: string; hi: string }>(
    'SELECT count(*)::text n, count(DISTINCT seq)::text d, min(seq)::text lo, max(seq)::text hi FROM audit_records WHERE chain_id = $1', [chainId]);
  t.same(counts, { n: String(head + 1), d: String(head + 1), lo: '0', hi: String(head) }, 'each seq exactly once');
  // Insert order: rows committed later never carry a lower seq.
  const inversions = await db.query(
    `SELECT 1 FROM (SELECT seq, ingested_at, lag(ingested_at) OVER (ORDER BY seq) AS prev FROM audit_records WHERE chain_id = $1) x WHERE ingested_at < prev LIMIT 1`, [chainId]);
  t.equal(inversions.length, 0, 'records arrived in seq order');
  const [v] = await verifyPostgres(db.connectionString, { chainId });
  t.ok(v!.ok, `PostgreSQL chain verifies (${v!.first?.kind ?? 'intact'})`);
  t.equal(v!.records, head + 1);
  t.ok(v!.checkpoints.matched >= 10, `checkpoints shipped and matched (${v!.checkpoints.matched})`);
  t.ok(v!.merkleChecked, 'Merkle roots recomputed');

  // Trimmed spool: confirmed and checkpointed segments are gone, the rest still verifies on its own.
  const segs = readdirSync(join(stateDir, 'audit', 'segments'));
  t.ok(segs.length < 8, `spool trimmed to ${segs.length} segment(s)`);
  const local = await verifySpool(stateDir);
  t.ok(local.ok, `the trimmed spool verifies from its anchor (${local.first?.kind ?? 'intact'})`);
  t.ok((local.firstSeq ?? 0) > 0, `spool starts after the anchor (seq ${local.firstSeq})`);
  t.equal(local.lastHash, v!.lastHash, 'spool and PostgreSQL agree on the head');
});

t.test('a replay after losing sink.json re-sends rows that are already there without duplicating them', async (t) => {
  const db = await startPostgres();
  t.teardown(() => db.stop());
  const stateDir = join(root, 'replay');
  let log = await openAudit({ stateDir, postgres: db.connectionString, trim: false });
  t.teardown(() => log.close({ drainMs: 0 }));
  await appendDecisions(log, 1000, 'a');
  await log.close({ drainMs: 10000 });
  rmSync(join(stateDir, 'audit', 'sink.json'));
  // Small batches: the replay runs as pairs of batches on the sink's two connections, each
  // refused by the primary key and taking the comparing path on its own connection.
  log = await openAudit({ stateDir, postgres: db.connectionString, trim: false, sinkBatch: 64 });
  await appendDecisions(log, 10, 'b');
  await waitFor('replay', () => log.stats().backlog === 0);
  const chainId = log.chainId;
  await log.close({ drainMs: 10000 });
  const [c] = await db.query<{ n: string }>('SELECT count(*)::text n FROM audit_records WHERE chain_id = $1', [chainId]);
  t.equal(c!.n, '1011', 'genesis + 1000 + 10, each once');
  const [v] = await verifyPostgres(db.connectionString, { chainId });
  t.ok(v!.ok);
});

t.test('a forged row already sitting at the next seq in PostgreSQL is never overwritten and stops the sink with a conflict', async (t) => {
  const db = await startPostgres();
  t.teardown(() => db.stop());
  const stateDir = join(root, 'conflict');
  const log = await openAudit({ stateDir, postgres: db.connectionString });
  t.teardown(() => log.close({ drainMs: 0 }));
  await appendDecisions(log, 10, 'x');
  await waitFor('confirmed', () => log.stats().backlog === 0);
  const next = log.head().seq + 1;
  await db.query(
    `INSERT INTO audit_records (chain_id, seq, hash, prev_hash, record, kind, "time", host) VALUES ($1, $2, $3, $3, '{"forged":true}', 'decision', '2026-01-01T00:00:00.000Z', 'h')`,
    [log.chainId, next, 'f'.repeat(64)],
  );
  log.append({ kind: 'decision', decision: 'deny', user: 'real' });
  await log.flush();
  await waitFor('conflict reported', () => /different record at seq/.test(log.stats().lastError ?? ''));
  t.equal(log.stats().postgres, 'down');
  t.ok(log.stats().backlog >= 1, 'the real record stays in the spool');
  const [row] = await db.query<{ record: string }>('SELECT record FROM audit_records WHERE chain_id = $1 AND seq = $2', [log.chainId, next]);
  t.equal(row!.record, '{"forged":true}', 'nothing overwritten');
  await log.close({ drainMs: 0 });
  const [v] = await verifyPostgres(db.connectionString, { chainId: log.chainId });
  t.notOk(v!.ok, 'and PostgreSQL verification names the forged row');
  t.equal(v!.first?.seq, next);
});

t.test('after a restart with PostgreSQL unreachable, backlog and lag still count from the oldest unshipped record', async (t) => {
  const stateDir = join(root, 'unreachable');
  const nowhere = `postgresql://nobody@localhost/none?host=${encodeURIComponent(join(root, 'no-socket-here'))}&port=1`;
  const first = await openAudit({ stateDir, postgres: nowhere });
  await appendDecisions(first, 100, 'offline');
  await first.close({ drainMs: 0 });
  await new Promise((r) => setTimeout(r, 400));
  const again = await openAudit({ stateDir, postgres: nowhere });
  t.teardown(() => again.close({ drainMs: 0 }));
  await waitFor('the sink to give up once', () => again.stats().postgres === 'down' && again.stats().lastError !== undefined);
  const s = again.stats();
  t.equal(s.backlog, 101, 'genesis + 100 records wait in the spool');
  t.ok(s.lagSeconds >= 0.4, `lag counts from the first unshipped record (${s.lagSeconds}s)`);
  t.ok(s.healthy, 'an unreachable database never makes the spool unhealthy');
});

t.test('awkward strings (quotes, backslashes, braces, NULL, NUL, lone surrogates, emoji) round-trip through PostgreSQL and verify, columns included', async (t) => {
  const db = await startPostgres();
  t.teardown(() => db.stop());
  const stateDir = join(root, 'awkward');
  const log = await openAudit({ stateDir, postgres: db.connectionString });
  t.teardown(() => log.close({ drainMs: 0 }));
  const nasty = ['a"b', 'c\\d', '{x,y}', 'NULL', '', 'nul\u0000byte', 'lone\ud800', '😀 é', ' spaced ', 'comma,here'];
  for (const s of nasty) {
    log.append({ kind: 'decision', user: s, program: s, paths: [s, `/p/${s}`], zones: [s], classification: { tier: 'INTERNAL', tags: [s] }, decision: 'allow', policy_id: s, reasoning: s, details: { s, n: 1e21, big: 12345678901234567890n } });
  }
  await log.flush();
  await waitFor('shipped', () => log.stats().backlog === 0);
  const [v] = await verifyPostgres(db.connectionString, { chainId: log.chainId });
  t.ok(v!.ok, `verifies from PostgreSQL (${v!.first ? JSON.stringify(v!.first) : 'intact'})`);
  const rows = await db.query<{ paths: string[]; user: string }>('SELECT paths, "user" FROM audit_records WHERE chain_id = $1 AND seq = 1', [log.chainId]);
  t.same(rows[0]!.paths, ['a"b', '/p/a"b'], 'array columns hold the exact strings');
});

t.test('values COPY must escape (tab, newline, CR, backslash, \\N, quotes, braces, non-ASCII) arrive exactly, columns included', async (t) => {
  const db = await startPostgres();
  t.teardown(() => db.stop());
  const stateDir = join(root, 'copy-escapes');
  const log = await openAudit({ stateDir, postgres: db.connectionString });
  const weird = ['a\tb', 'line\nbreak', 'cr\rhere', 'back\\slash', '\\N', 'q"uote', '{brace,comma}', 'NULL', 'é\u{1F600}', ''];
  for (const w of weird) log.append({ kind: 'decision', user: w, program: w, paths: [w, `/p/${w}`], zones: [w], classification: { tier: w, tags: [w, 'x'] }, decision: 'deny', reasoning: w });
  await log.flush();
  await waitFor('records confirmed', () => log.stats().backlog === 0);
  const chainId = log.chainId;
  await log.close({ drainMs: 10000 });
  const [v] = await verifyPostgres(db.connectionString, { chainId });
  t.ok(v!.ok, 'the chain verifies from PostgreSQL, query columns cross-checked');
  const rows = await db.query<{ user: string; paths: string[]; tags: string[] }>('SELECT "user", paths, tags FROM audit_records WHERE chain_id = $1 AND kind = $2 ORDER BY seq', [chainId, 'decision']);
  t.same(rows.map((r) => r.user), weird, 'text columns hold the values as written');
  t.same(rows.map((r) => r.paths), weird.map((w) => [w, `/p/${w}`]), 'array columns too');
  t.same(rows.map((r) => r.tags), weird.map((w) => [w, 'x']));
});
