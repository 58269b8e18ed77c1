// AuditLog lifecycle: genesis, consecutive seqs, restart resumes the durable head, the signing key
// is private and its public half verifies the checkpoints, checkpoints come every N records and
// every T seconds, and a spool that lost records a checkpoint vouches for refuses to append.
import t from 'tap';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAudit, AuditUnavailableError } from '../../src/audit/index.js';
import { verifySpool, pinnedKey, spoolLines } from '../../src/audit/sources.js';
import { generateKeyPairSync } from 'node:crypto';

const root = mkdtempSync(join(tmpdir(), 'lacuna-audit-log-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));

t.test('a new chain starts with a genesis record that names the signing key, then numbers records consecutively', async (t) => {
  const stateDir = join(root, 'fresh');
  const log = await openAudit({ stateDir, host: 'h1' });
  t.equal(log.head().seq, 0, 'genesis is seq 0');
  const a = log.append({ kind: 'daemon_start' });
  const b = log.append({ kind: 'decision', decision: 'allow', user: 'alice' });
  t.same([a.seq, b.seq], [1, 2]);
  t.same(log.head(), b, 'head is the last receipt');
  await log.durable(b.seq);
  t.equal(log.stats().durableSeq, 2, 'durable() resolves once the record is fsynced');
  await log.close();
  const recs: { kind: string; host: string; details?: { key_id?: string } }[] = [];
  for await (const l of spoolLines(stateDir)) recs.push(JSON.parse(l.line));
  t.equal(recs[0]!.kind, 'genesis');
  t.equal(recs[0]!.details?.key_id, log.keyId);
  t.equal(recs[1]!.host, 'h1');
  t.throws(() => log.append({ kind: 'decision' }), AuditUnavailableError, 'a closed log refuses appends');
});

t.test('reopening resumes seq and hash from the durable head of the same chain', async (t) => {
  const stateDir = join(root, 'resume');
  const first = await openAudit({ stateDir });
  for (let i = 0; i < 100; i++) first.append({ kind: 'decision', decision: 'deny' });
  const head = first.head();
  await first.close();
  const second = await openAudit({ stateDir });
  t.same(second.head(), head);
  t.equal(second.chainId, first.chainId);
  t.equal(second.append({ kind: 'daemon_start' }).seq, head.seq + 1);
  await second.close();
  t.ok((await verifySpool(stateDir)).ok);
  await t.rejects(openAudit({ stateDir, chainId: 'someone-else' }), AuditUnavailableError, 'a state dir keeps its chain id');
});

t.test('the signing key is created mode 0600 and only the pinned public key it belongs to verifies the checkpoints', async (t) => {
  const stateDir = join(root, 'key');
  const log = await openAudit({ stateDir, checkpointEvery: 10 });
  for (let i = 0; i < 35; i++) {
    log.append({ kind: 'decision' });
    if (i % 10 === 9) await log.flush();
  }
  await log.close();
  t.equal(statSync(join(stateDir, 'audit', 'signing-key.pem')).mode & 0o777, 0o600);
  const good = await verifySpool(stateDir, { key: pinnedKey(log.publicKeyPem) });
  t.ok(good.ok);
  t.ok(good.signaturesChecked);
  t.equal(good.checkpoints.matched, good.checkpoints.total);
  t.ok(good.checkpoints.total >= 4, `checkpoints every 10 records and at close (${good.checkpoints.total})`);
  const other = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const bad = await verifySpool(stateDir, { key: pinnedKey(other) });
  t.notOk(bad.ok, 'a different key rejects them');
  t.equal(bad.first?.kind, 'unknown_key');
});

t.test('a checkpoint is also signed after T seconds with new records even below N', async (t) => {
  const stateDir = join(root, 'timed');
  const log = await openAudit({ stateDir, checkpointEvery: 1e9, checkpointSeconds: 0.2 });
  log.append({ kind: 'decision' });
  await log.flush();
  const until = Date.now() + 5000;
  while (log.stats().checkpoints === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  t.equal(log.stats().checkpoints, 1);
  t.equal(log.stats().lastCheckpointSeq, 1);
  await log.close();
});

t.test('a spool that lost records covered by a signed checkpoint refuses to open (fails closed, names truncated_tail)', async (t) => {
  const stateDir = join(root, 'cut');
  const log = await openAudit({ stateDir, checkpointEvery: 10 });
  for (let i = 0; i < 30; i++) log.append({ kind: 'decision' });
  await log.close();
  const segDir = join(stateDir, 'audit', 'segments');
  const seg = join(segDir, readdirSync(segDir)[0]!);
  const lines = readFileSync(seg, 'utf8').split('\n').filter(Boolean);
  writeFileSync(seg, lines.slice(0, 20).map((l) => l + '\n').join(''));
  await t.rejects(openAudit({ stateDir }), { name: 'AuditUnavailableError', message: /truncated_tail/ });
  const v = await verifySpool(stateDir);
  t.equal(v.first?.kind, 'truncated_tail');
  t.equal(v.first?.seq, 20);
});

t.test('one writer per state dir: a second writer is refused while the first lives, a dead writer\'s lock is taken over', async (t) => {
  const stateDir = join(root, 'locked');
  const log = await openAudit({ stateDir });
  await t.rejects(openAudit({ stateDir }), { name: 'AuditUnavailableError', message: /already open in this process/ });
  await log.close();

  const { spawn } = await import('node:child_process');
  const other = spawn('sleep', ['30']);
  t.teardown(() => other.kill('SIGKILL'));
  writeFileSync(join(stateDir, 'audit', 'writer.lock'), `${other.pid}\n`);
  await t.rejects(openAudit({ stateDir }), { name: 'AuditUnavailableError', message: new RegExp(`in use by process ${other.pid}`) });
  const gone = new Promise((r) => other.once('exit', r));
  other.kill('SIGKILL');
  await gone;
  const again = await openAudit({ stateDir });
  t.equal(again.head().seq, log.head().seq, 'the stale lock was taken over and the chain resumed');
  await again.close();
});
