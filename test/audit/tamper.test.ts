// Each tamper fixture (fixtures/tamper/<mutation>.json) is applied to an intact chain in the spool
// and in PostgreSQL; the streaming verifier must name the expected break at the expected seq, and
// the naive reference verifier must agree on "intact?" and on the first broken seq.
import t from 'tap';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { verifySpool, verifyPostgres } from '../../src/audit/sources.js';
import { GRANTS_SQL, MIGRATIONS, migrate } from '../../src/audit/schema.js';
import { startPostgres } from '../helpers/postgres.js';
import { referenceVerify } from './fixtures/reference-verifier.js';
import { buildChain, loadTamperFixtures, mutateCheckpointLines, mutateLines, readSpoolLines, tamperPostgres, writeLines } from './fixtures/tamper-tools.js';

const fixtures = loadTamperFixtures();
const root = mkdtempSync(join(tmpdir(), 'lacuna-audit-tamper-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));

t.test('every tamper fixture applied to the spool is detected and named', async (t) => {
  for (const f of fixtures) {
    if (f.expect.spool === undefined) continue;
    const stateDir = join(root, `spool-${f.name}`);
    const log = await buildChain(stateDir);
    const pem = log.publicKeyPem;
    await log.close();
    const segDir = join(stateDir, 'audit', 'segments');
    const [seg] = readdirSync(segDir);
    const segFile = join(segDir, seg!);
    const cpFile = join(stateDir, 'audit', 'checkpoints.jsonl');
    const mutated = mutateLines(readSpoolLines(segFile), f.mutation);
    writeLines(segFile, mutated.lines);
    writeLines(cpFile, mutateCheckpointLines(readSpoolLines(cpFile), f.mutation));

    const got = await verifySpool(stateDir);
    const ref = referenceVerify(mutated.lines, readSpoolLines(cpFile).map((l) => JSON.parse(l)), pem);
    if (f.expect.spool === null) {
      t.ok(got.ok, `${f.name}: intact chain verifies`);
      t.equal(got.records, 41, `${f.name}: all records seen`);
      t.equal(got.checkpoints.matched, 4, `${f.name}: all four checkpoints match`);
    } else {
      t.notOk(got.ok, `${f.name}: detected`);
      t.same({ kind: got.first?.kind, seq: got.first?.seq }, f.expect.spool, `${f.name}: ${f.description}`);
    }
    t.equal(got.ok, ref.ok, `${f.name}: reference verifier agrees on intact`);
    t.equal(got.first?.seq ?? null, ref.firstBadSeq, `${f.name}: reference verifier agrees on the first broken seq`);
  }
});

t.test('every tamper fixture applied to PostgreSQL rows is detected and named', async (t) => {
  const db = await startPostgres();
  t.teardown(() => db.stop());
  for (const f of fixtures) {
    if (f.expect.postgres === undefined) continue;
    const stateDir = join(root, `pg-${f.name}`);
    const log = await buildChain(stateDir, db.connectionString);
    const { chainId, publicKeyPem: pem } = log;
    await log.close({ drainMs: 10000 });
    await tamperPostgres(db.connectionString, chainId, f.mutation);

    const [got] = await verifyPostgres(db.connectionString, { chainId });
    const rows = await db.query<{ record: string }>('SELECT record FROM audit_records WHERE chain_id = $1 ORDER BY seq', [chainId]);
    const cps = await db.query<{ checkpoint: string }>('SELECT checkpoint FROM audit_checkpoints WHERE chain_id = $1 ORDER BY seq', [chainId]);
    const ref = referenceVerify(rows.map((r) => r.record), cps.map((r) => JSON.parse(r.checkpoint)), pem);
    if (f.expect.postgres === null) {
      t.ok(got!.ok, `${f.name}: intact chain verifies from PostgreSQL`);
      t.equal(got!.records, 41);
      t.equal(got!.checkpoints.matched, 4);
      // The same chain verifies identically from both places: the round trip changed no byte.
      const local = await verifySpool(stateDir);
      t.equal(got!.lastHash, local.lastHash, 'PostgreSQL and spool end on the same hash');
    } else {
      t.notOk(got!.ok, `${f.name}: detected`);
      t.same({ kind: got!.first?.kind, seq: got!.first?.seq }, f.expect.postgres, `${f.name}: ${f.description}`);
    }
    if (f.mutation.op !== 'column') {
      // Column edits are outside the chain's bytes; the reference verifier only reads records.
      t.equal(got!.ok, ref.ok, `${f.name}: reference verifier agrees on intact`);
      t.equal(got!.first?.seq ?? null, ref.firstBadSeq, `${f.name}: reference verifier agrees on the first broken seq`);
    }
  }
});

t.test('the append-only triggers refuse UPDATE, DELETE and TRUNCATE on audit rows', async (t) => {
  const db = await startPostgres();
  t.teardown(() => db.stop());
  const log = await buildChain(join(root, 'triggers'), db.connectionString);
  const chainId = log.chainId;
  await log.close({ drainMs: 10000 });
  const c = new pg.Client({ connectionString: db.connectionString });
  await c.connect();
  t.teardown(() => c.end());
  await t.rejects(c.query(`UPDATE audit_records SET decision = 'allow' WHERE chain_id = $1 AND seq = 3`, [chainId]), /append-only/);
  await t.rejects(c.query(`DELETE FROM audit_records WHERE chain_id = $1 AND seq = 3`, [chainId]), /append-only/);
  await t.rejects(c.query(`TRUNCATE audit_records`), /append-only/);
  await t.rejects(c.query(`DELETE FROM audit_checkpoints WHERE chain_id = $1`, [chainId]), /append-only/);
  const [v] = await verifyPostgres(db.connectionString, { chainId });
  t.ok(v!.ok, 'chain still verifies');
  const mig = await db.query('SELECT component, version FROM schema_migrations');
  t.same(mig, [{ component: 'audit', version: 1 }, { component: 'audit', version: 2 }], 'schema versions recorded');
});

t.test('a database at schema version 1 is migrated to the partial kind index, and queries by kind still find rare events', async (t) => {
  const db = await startPostgres();
  t.teardown(() => db.stop());
  // What a version-1 deployment holds: the first migration only.
  await db.query(`CREATE TABLE schema_migrations (component text NOT NULL, version integer NOT NULL, name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (component, version))`);
  await db.query(MIGRATIONS[0]!.sql);
  await db.query(`INSERT INTO schema_migrations (component, version, name) VALUES ('audit', 1, $1)`, [MIGRATIONS[0]!.name]);
  const c = new pg.Client({ connectionString: db.connectionString });
  await c.connect();
  t.teardown(() => c.end());
  t.same(await migrate(c), [2], 'only the new migration runs');
  const [idx] = await db.query<{ indexdef: string }>(`SELECT indexdef FROM pg_indexes WHERE indexname = 'audit_records_kind'`);
  t.match(idx!.indexdef, /\(kind, "time"\) WHERE \(kind <> 'decision'::text\)/);
  const log = await buildChain(join(root, 'v1-upgrade'), db.connectionString);
  const chainId = log.chainId;
  await log.close({ drainMs: 10000 });
  // With sequential scans off the planner must show it can answer a rare kind from the partial index.
  await c.query('SET enable_seqscan = off');
  const { rows: plan } = await c.query<{ 'QUERY PLAN': string }>(`EXPLAIN (COSTS OFF) SELECT seq FROM audit_records WHERE kind = 'genesis'`);
  t.match(plan.map((r) => r['QUERY PLAN']).join('\n'), /audit_records_kind/, 'a query by a rare kind can use the partial index');
  const rows = await db.query<{ seq: string }>(`SELECT seq::text FROM audit_records WHERE chain_id = $1 AND kind = 'genesis'`, [chainId]);
  t.same(rows, [{ seq: '0' }], 'the genesis record is found by kind');
});

t.test('with the documented roles the daemon ships as a writer that cannot UPDATE or DELETE, and a reader can verify', async (t) => {
  const db = await startPostgres();
  t.teardown(() => db.stop());
  const as = (role: string) => db.connectionString.replace('postgres@', `${role}@`);
  await db.query('CREATE ROLE lacuna_audit_owner LOGIN; CREATE ROLE lacuna_audit_writer LOGIN; CREATE ROLE lacuna_audit_reader LOGIN; GRANT CREATE ON SCHEMA public TO lacuna_audit_owner');
  const owner = new pg.Client({ connectionString: as('lacuna_audit_owner') });
  await owner.connect();
  t.same(await migrate(owner), [1, 2], 'the owner applies the migrations');
  t.same(await migrate(owner), [], 'and a second run applies nothing');
  await owner.end();
  await db.query(GRANTS_SQL);

  const log = await buildChain(join(root, 'roles'), as('lacuna_audit_writer'));
  const chainId = log.chainId;
  await log.close({ drainMs: 10000 });
  t.equal(log.stats().backlog, 0, 'the writer shipped everything');
  const w = new pg.Client({ connectionString: as('lacuna_audit_writer') });
  await w.connect();
  t.teardown(() => w.end());
  await t.rejects(w.query(`UPDATE audit_records SET decision = 'allow' WHERE chain_id = $1`, [chainId]), { code: '42501' }, 'UPDATE: permission denied');
  await t.rejects(w.query(`DELETE FROM audit_records WHERE chain_id = $1`, [chainId]), { code: '42501' }, 'DELETE: permission denied');
  await t.rejects(w.query(`DROP TABLE audit_records`), { code: '42501' }, 'DROP: not the owner');
  const [v] = await verifyPostgres(as('lacuna_audit_reader'), { chainId });
  t.ok(v!.ok, 'the reader role verifies the chain');
  t.equal(v!.records, 41);
});
