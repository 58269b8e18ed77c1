// `lacuna-fs audit verify|query|report|pubkey` over a real chain in the spool and in PostgreSQL:
// exit codes (0 intact, 1 broken, 2 usage), human and --json output, filters, report formats.
import t from 'tap';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { register } from '../../src/cli/commands/audit.js';
import { runCli, type CliRun } from '../helpers/cli.js';
import { openAudit } from '../../src/audit/index.js';
import { startPostgres } from '../helpers/postgres.js';
import { canonicalize } from '../../src/audit/canonical.js';
import { recordHash } from '../../src/audit/hash.js';
import { loadOrCreateKey } from '../../src/audit/keys.js';
import { MerkleFrontier } from '../../src/audit/merkle.js';
import { checkpointLine, signCheckpoint } from '../../src/audit/checkpoint.js';

const root = mkdtempSync(join(tmpdir(), 'lacuna-audit-cli-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));

/** Run `lacuna-fs audit …` in-process; returns stdout and the exit code main() would return. */
async function cli(...args: string[]): Promise<CliRun> {
  return runCli(register, ['audit', ...args]);
}

async function populate(stateDir: string, postgres?: string): Promise<string> {
  const log = await openAudit({ stateDir, postgres: postgres ?? null, checkpointEvery: 20, host: 'ws-1' });
  log.append({ kind: 'policy_loaded', policy_id: 'default', bundle_hash: 'a'.repeat(64), reasoning: 'bundle v3 loaded' });
  log.append({ kind: 'mount', paths: ['/srv/data', '/governed'], zones: ['governed'] });
  for (let i = 0; i < 60; i++) {
    const deny = i % 4 === 0;
    log.append({
      kind: 'decision', time: new Date(Date.UTC(2026, 10, 1, 12, i)).toISOString(), user: i % 3 ? 'alice' : 'bob', uid: 1000 + (i % 3), pid: 100 + i, program: 'cp', action: 'write',
      paths: [`/governed/finance/q${i}.csv`, deny ? `/home/alice/Downloads/q${i}.csv` : `/governed/workspace/q${i}.csv`],
      zones: deny ? ['governed', 'unmanaged'] : ['governed'], classification: { tier: deny ? 'PROPRIETARY' : 'INTERNAL', tags: deny ? ['PII'] : [] },
      decision: deny ? 'deny' : i % 10 === 1 ? 'allow_monitor' : 'allow', policy_id: deny ? 'no_export' : 'governed_ok',
      reasoning: deny ? 'PROPRIETARY data with PII may not be written to an unmanaged zone; anonymise or request an exception' : 'allowed',
    });
    if (i % 20 === 19) await log.flush();
  }
  log.append({ kind: 'exception_approved', user: 'carol', paths: ['/home/alice/Downloads/q0.csv'], reasoning: 'quarterly filing', details: { exception_id: 'ex-1', approved_by: 'dave', expires_at: '2026-12-01T00:00:00.000Z' } });
  const id = log.chainId;
  await log.close({ drainMs: 10000 });
  return id;
}

/** What an attacker holding the host's key can do: rewrite from `from` on, rehash, relink, re-sign. */
function rewriteAndResign(stateDir: string, from: number): void {
  const auditDir = join(stateDir, 'audit');
  const segDir = join(auditDir, 'segments');
  const seg = join(segDir, readdirSync(segDir)[0]!);
  const recs = readFileSync(seg, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  for (let i = from; i < recs.length; i++) {
    const { hash: _h, ...body } = recs[i];
    if (i === from) body.reasoning = 'nothing to see here';
    body.prev_hash = recs[i - 1].hash;
    recs[i] = { ...body, hash: recordHash(canonicalize(body)) };
  }
  writeFileSync(seg, recs.map((r) => canonicalize(r) + '\n').join(''));
  const key = loadOrCreateKey(auditDir);
  const cpFile = join(auditDir, 'checkpoints.jsonl');
  const cps = readFileSync(cpFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  writeFileSync(cpFile, cps.map((c) => {
    const f = new MerkleFrontier();
    for (let i = 0; i <= c.seq; i++) f.push(recs[i].hash);
    const signed = signCheckpoint({ chain_id: c.chain_id, host: c.host, seq: c.seq, hash: recs[c.seq].hash, time: c.time, tree_size: c.seq + 1, root: f.root() }, key);
    return checkpointLine({ ...signed, frontier: f.toHex() }) + '\n';
  }).join(''));
}

t.test('verify, query, report and pubkey over the spool', async (t) => {
  const stateDir = join(root, 'spool');
  await populate(stateDir);

  const ok = await cli('verify', '--state-dir', stateDir);
  t.equal(ok.code, 0, 'an intact chain exits 0');
  t.match(ok.out, /INTACT/);
  t.match(ok.out, /records\s+64 \(seq 0\.\.63\)/);

  const from = JSON.parse((await cli('verify', '--state-dir', stateDir, '--from', '30', '--json')).out);
  t.ok(from.ok, '--from verifies the rest of the chain');
  t.same([from.firstSeq, from.records, from.merkleChecked], [30, 34, false], 'starting at 30, without Merkle roots');

  const key = await cli('pubkey', '--state-dir', stateDir);
  t.match(key.out, /BEGIN PUBLIC KEY/);
  const keyFile = join(root, 'pinned.pem');
  writeFileSync(keyFile, key.out);
  const pinned = await cli('verify', '--state-dir', stateDir, '--pubkey', keyFile, '--json');
  const pj = JSON.parse(pinned.out);
  t.equal(pj.ok, true);
  t.equal(pj.keyOrigin, 'pinned');

  // Merkle proofs: made from the records, checked by a third party with only the public key.
  const inc = await cli('prove', '--state-dir', stateDir, '--seq', '15');
  t.equal(inc.code, 0);
  const incDoc = JSON.parse(inc.out);
  t.same([incDoc.type, incDoc.seq, incDoc.tree_size], ['inclusion', 15, 23], 'proved against the first checkpoint at or after seq 15 (checkpoints fall on flushes: 22, 42, 62, 63)');
  const incFile = join(root, 'inclusion.json');
  writeFileSync(incFile, inc.out);
  const okProof = await cli('check-proof', incFile, '--pubkey', keyFile);
  t.equal(okProof.code, 0);
  t.match(okProof.out, /^VALID: record 15/);
  writeFileSync(incFile, JSON.stringify({ ...incDoc, record_hash: 'e'.repeat(64) }));
  const badProof = await cli('check-proof', incFile, '--pubkey', keyFile);
  t.equal(badProof.code, 1, 'a proof for another record hash is rejected');
  const cons = await cli('prove', '--state-dir', stateDir, '--consistency', '22:42');
  const consFile = join(root, 'consistency.json');
  writeFileSync(consFile, cons.out);
  t.match((await cli('check-proof', consFile, '--pubkey', keyFile)).out, /^VALID: the tree of size 23 is a prefix of the tree of size 43/);
  t.equal((await cli('prove', '--state-dir', stateDir, '--seq', '15', '--checkpoint', '7')).code, 1, 'no checkpoint at 7');

  const denials = await cli('query', '--state-dir', stateDir, '--decision', 'deny', '--json');
  const rows = denials.out.trim().split('\n').map((l) => JSON.parse(l));
  t.equal(rows.length, 15, 'every fourth decision was a denial');
  t.ok(rows.every((r) => r.decision === 'deny' && r.classification.tier === 'PROPRIETARY'));
  const byPath = await cli('query', '--state-dir', stateDir, '--path', '/home/*/Downloads/q1?.csv', '--json');
  t.same(byPath.out.trim().split('\n').map((l) => JSON.parse(l).paths[1]), ['/home/alice/Downloads/q12.csv', '/home/alice/Downloads/q16.csv']);
  const windowed = await cli('query', '--state-dir', stateDir, '--user', 'bob', '--since', '2026-11-01T12:10:00Z', '--until', '2026-11-01T12:20:00Z', '--json');
  t.equal(windowed.out.trim().split('\n').length, 3, 'bob at minutes 12, 15, 18');
  t.equal((await cli('query', '--state-dir', stateDir, '--since', 'soon')).code, 2, 'a bad time is a usage error');

  const md = await cli('report', '--state-dir', stateDir, '--format', 'md');
  t.match(md.out, /## 1\. Integrity of the audit trail/);
  t.match(md.out, /\*\*INTACT\*\*/);
  t.match(md.out, /\| PROPRIETARY \| 0 \| 15 \| 0 \| 15 \|/);
  t.match(md.out, /\| unmanaged \| 0 \| 15 \| 0 \| 15 \|/);
  t.match(md.out, /may not be written to an unmanaged zone/);
  t.match(md.out, /approved \| carol .*expires_at=2026-12-01/);
  t.match(md.out, /policy_loaded/);
  const csv = await cli('report', '--state-dir', stateDir, '--format', 'csv');
  const lines = csv.out.trim().split('\n');
  t.match(lines[0]!, /^section,key,allow,deny,allow_monitor,total/);
  t.equal(lines.filter((l) => l.startsWith('denial,')).length, 15);
  const json = JSON.parse((await cli('report', '--state-dir', stateDir, '--format', 'json', '--since', '2026-11-01T12:30:00Z')).out);
  t.equal(json.decisions.total, 30, 'the window selects the second half');
  t.equal(json.verification[0].ok, true);

  // Now break it: the verify exit code is 1 and the first break is named.
  const segDir = join(stateDir, 'audit', 'segments');
  const seg = join(segDir, readdirSync(segDir)[0]!);
  writeFileSync(seg, readFileSync(seg, 'utf8').replace('"decision":"deny"', '"decision":"allow"'));
  const broken = await cli('verify', '--state-dir', stateDir);
  t.equal(broken.code, 1, 'a broken chain exits 1');
  t.match(broken.out, /BROKEN/);
  t.match(broken.out, /first break: seq 3: hash_mismatch/);
  const brokenReport = await cli('report', '--state-dir', stateDir);
  t.match(brokenReport.out, /\*\*BROKEN\*\*.*\n\s+- First break: seq 3: hash_mismatch/);

  t.equal((await cli('verify', '--state-dir', join(root, 'nothing-here'))).code, 2, 'a missing spool is a usage error');
  const help = await cli('verify', '--help');
  t.equal(help.code, 0);
  t.match(help.out, /--source <where>/);
});

t.test('verify, query and report from PostgreSQL', async (t) => {
  const db = await startPostgres();
  t.teardown(() => db.stop());
  const stateDir = join(root, 'pg');
  const chainId = await populate(stateDir, db.connectionString);
  const v = await cli('verify', '--source', 'postgres', '--postgres', db.connectionString, '--json');
  t.equal(v.code, 0);
  const [r] = JSON.parse(v.out);
  t.equal(r.chainId, chainId);
  t.equal(r.records, 64);
  t.equal(r.keyOrigin, 'postgres');
  const pgProof = await cli('prove', '--source', 'postgres', '--postgres', db.connectionString, '--seq', '50');
  t.equal(pgProof.code, 0, 'proofs from PostgreSQL too');
  t.equal(JSON.parse(pgProof.out).tree_size, 63);
  const q = await cli('query', '--source', 'postgres', '--postgres', db.connectionString, '--tier', 'PROPRIETARY', '--user', 'alice', '--json');
  t.equal(q.out.trim().split('\n').length, 10, 'alice had 10 of the 15 PROPRIETARY denials');
  const rep = await cli('report', '--source', 'postgres', '--postgres', db.connectionString);
  t.match(rep.out, /PostgreSQL audit store/);
  t.match(rep.out, /\*\*INTACT\*\*/);
  const both = await cli('verify', '--source', 'both', '--state-dir', stateDir, '--postgres', db.connectionString);
  t.equal(both.code, 0, 'both copies intact and identical');
  t.match(both.out, /spool vs PostgreSQL: SAME \(64 records/);

  // Someone with root on the host rewrites record 10 and everything after it, and re-signs the
  // checkpoints with the host's own key: the spool alone still verifies; the copy in PostgreSQL
  // does not agree with it.
  rewriteAndResign(stateDir, 10);
  const alone = await cli('verify', '--state-dir', stateDir);
  t.equal(alone.code, 0, 'the re-signed local rewrite is self-consistent');
  const cross = await cli('verify', '--source', 'both', '--state-dir', stateDir, '--postgres', db.connectionString, '--json');
  t.equal(cross.code, 1, 'comparing the copies exposes it');
  const [local, remote, copies] = JSON.parse(cross.out);
  t.ok(local.ok && remote.ok, 'each copy is self-consistent');
  t.same({ kind: copies.first.kind, seq: copies.first.seq }, { kind: 'copy_mismatch', seq: 10 });

  await db.stopServer();
  const down = await cli('verify', '--source', 'postgres', '--postgres', db.connectionString);
  t.equal(down.code, 1, 'unreachable PostgreSQL cannot vouch for anything: exit 1');
  t.match(down.err, /PostgreSQL/);
});
