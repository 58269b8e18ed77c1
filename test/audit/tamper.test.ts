// Each tamper fixture (fixtures/tamper/<mutation>.json) is applied to an intact chain in the spool
// and in PostgreSQL; the streaming verifier must name the expected break at the expected seq, and
// the naive reference verifier must agree on "intact?" and on the first broken seq.
import t from 'tap';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { verifySpool, verifyPostgres } from '../../src/audit/sources.js';
import { startPostgres } from '../helpers/postgres.js';
import { referenceVerify } from './reference-verifier.js';
import { buildChain, loadTamperFixtures, mutateCheckpointLines, mutateLines, readSpoolLines, tamperPostgres, writeLines } from './tamper-tools.js';

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
  t.same(mig, [{ component: 'audit', version: 1 }], 'schema version recorded');
  void readFileSync;
});
