// Crash safety: a process appending in a burst is killed with SIGKILL; reopening the state dir
// resumes from the durable head (every acknowledged record is there), the chain has no duplicate
// and no gap and verifies, in the spool and after the sink's replay into PostgreSQL. A torn tail
// (what a power cut leaves) is cut off into quarantine and recorded in the chain, never accepted.
import t from 'tap';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { openAudit } from '../../src/audit/index.js';
import { verifyPostgres, verifySpool, spoolLines } from '../../src/audit/sources.js';
import { startPostgres } from '../helpers/postgres.js';

const root = mkdtempSync(join(tmpdir(), 'lacuna-audit-crash-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));
const FIXTURE = join(import.meta.dirname, 'fixtures', 'append-loop.ts');

interface Msg {
  event: string;
  [k: string]: unknown;
}

/**
 * Run the fixture (optionally under `ulimit -f`, with SIGXFSZ ignored as the daemon does, so the
 * kernel answers an oversized write with EFBIG instead of killing the process), calling onMsg for each line; resolves with its exit. */
function runFixture(args: string[], onMsg: (m: Msg, kill: () => void) => void, fsizeBlocks?: number): Promise<{ code: number | null; signal: string | null; msgs: Msg[] }> {
  const cmd = [process.execPath, '--import', '@tapjs/typescript/import', FIXTURE, ...args].map((a) => `'${a}'`).join(' ');
  const child = spawn('sh', ['-c', `${fsizeBlocks ? `trap '' XFSZ; ulimit -f ${fsizeBlocks}; ` : ''}exec ${cmd}`], {
    cwd: join(import.meta.dirname, '..', '..'),
    stdio: ['ignore', 'pipe', 'inherit'],
    // Without tap's NODE_OPTIONS hooks: they write process-info files the size limit would hit first.
    env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_OPTIONS' && !k.startsWith('TAP'))), TS_NODE_TRANSPILE_ONLY: '1' },
  });
  const msgs: Msg[] = [];
  const kill = () => child.kill('SIGKILL');
  createInterface({ input: child.stdout! }).on('line', (l) => {
    const m = JSON.parse(l) as Msg;
    msgs.push(m);
    onMsg(m, kill);
  });
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, msgs })));
}

async function seqsInSpool(stateDir: string): Promise<number[]> {
  const out: number[] = [];
  for await (const l of spoolLines(stateDir)) out.push(JSON.parse(l.line).seq);
  return out;
}

t.test('a burst killed with SIGKILL reopens at the durable head with no duplicate, no gap, and verifies in spool and PostgreSQL', async (t) => {
  const db = await startPostgres();
  t.teardown(() => db.stop());
  const stateDir = join(root, 'killed');
  let lastDurable = -1;
  const run = await runFixture([stateDir, db.connectionString, '300'], (m, kill) => {
    if (m.event === 'durable') {
      lastDurable = m.seq as number;
      if (lastDurable >= 6000) kill(); // mid-burst: the next batch is being built and written
    }
  });
  t.equal(run.signal, 'SIGKILL', 'fixture was killed');
  t.ok(lastDurable >= 6000, `fixture acknowledged ${lastDurable} records as durable`);

  const log = await openAudit({ stateDir, postgres: db.connectionString });
  const head = log.head().seq;
  t.ok(head >= lastDurable, `reopened head ${head} includes every acknowledged record (${lastDurable})`);
  const after = log.append({ kind: 'daemon_start', reasoning: 'restart after kill -9' });
  t.equal(after.seq, head + 1, 'the next record continues the same chain');
  await log.close({ drainMs: 20000 });

  const seqs = await seqsInSpool(stateDir);
  t.same(seqs, Array.from({ length: after.seq + 1 }, (_, i) => i), 'spool holds each seq exactly once, in order');
  const spool = await verifySpool(stateDir);
  t.ok(spool.ok, `spool verifies (${spool.first?.kind ?? 'intact'})`);

  const [pg] = await verifyPostgres(db.connectionString, { chainId: log.chainId });
  t.ok(pg!.ok, `PostgreSQL verifies (${pg!.first?.kind ?? 'intact'})`);
  t.equal(pg!.records, after.seq + 1, 'PostgreSQL holds every record once');
  t.equal(pg!.lastHash, spool.lastHash, 'both end on the same hash');
});

t.test('a torn tail left by a power cut is cut into quarantine, recorded in the chain, and the chain verifies', async (t) => {
  const stateDir = join(root, 'torn');
  const log = await openAudit({ stateDir });
  for (let i = 0; i < 50; i++) log.append({ kind: 'decision', user: 'bob', decision: 'deny', paths: [`/g/${i}`] });
  await log.close();
  const segDir = join(stateDir, 'audit', 'segments');
  const seg = join(segDir, readdirSync(segDir)[0]!);
  const before = readFileSync(seg);
  // Half a record, then the zero blocks a filesystem can expose after a crash.
  const lines = before.toString().split('\n');
  appendFileSync(seg, lines[10]!.slice(0, 120));
  appendFileSync(seg, Buffer.alloc(4096));

  const torn = await verifySpool(stateDir);
  t.ok(torn.ok, 'before recovery the chain itself is intact: the torn records were never acknowledged');
  t.equal(torn.incompleteTail?.bytes, 120 + 4096, 'and verify points at the unterminated tail');

  const again = await openAudit({ stateDir });
  t.equal(again.head().seq, 51, 'head is the genesis + 50 records + the recovery record');
  await again.close();
  t.same(readFileSync(seg).subarray(0, before.length), before, 'records before the tear are untouched');
  const q = readdirSync(join(stateDir, 'audit', 'quarantine'));
  t.equal(q.length, 1, 'torn bytes kept in quarantine');
  t.equal(readFileSync(join(stateDir, 'audit', 'quarantine', q[0]!)).length, 120 + 4096);
  const recs: { kind: string; details?: { spool?: { discarded_bytes: number } } }[] = [];
  for await (const l of spoolLines(stateDir)) recs.push(JSON.parse(l.line));
  const rec = recs.find((r) => r.kind === 'audit_recovered');
  t.ok(rec, 'the chain records the recovery');
  t.equal(rec?.details?.spool?.discarded_bytes, 120 + 4096);
  const v = await verifySpool(stateDir);
  t.ok(v.ok, 'chain verifies after recovery');
});

t.test('a complete last record that does not verify is refused at open, not silently cut', async (t) => {
  const stateDir = join(root, 'corrupt-tail');
  const log = await openAudit({ stateDir });
  for (let i = 0; i < 5; i++) log.append({ kind: 'decision', decision: 'deny' });
  await log.close();
  const segDir = join(stateDir, 'audit', 'segments');
  const seg = join(segDir, readdirSync(segDir)[0]!);
  writeFileSync(seg, readFileSync(seg, 'utf8').replace(/"decision":"deny"(?![\s\S]*"decision":"deny")/, '"decision":"allow"'));
  await t.rejects(openAudit({ stateDir }), { name: 'AuditUnavailableError', message: /does not verify/ });
});

t.test('a spool that cannot grow (RLIMIT_FSIZE: the kernel refuses writes) makes append throw AuditUnavailableError and healthy false', async (t) => {
  const stateDir = join(root, 'full');
  // 24 MiB limit (above anything the TypeScript loader caches) in one 64 MiB segment, so rotation cannot dodge it.
  const run = await runFixture([stateDir, '-', '500', String(64 << 20)], () => {}, 49152);
  const un = run.msgs.find((m) => m.event === 'unavailable');
  t.ok(un, 'the fixture hit the limit');
  t.equal(un?.healthy, false, 'stats().healthy is false');
  t.match(String(un?.lastError), /EFBIG/, 'stats().lastError names the cause');
  t.ok(un?.isAuditUnavailable, 'flush rejected with AuditUnavailableError');
  const refused = run.msgs.find((m) => m.event === 'append-refused');
  t.ok(refused?.isAuditUnavailable, 'a later append throws AuditUnavailableError synchronously');
  t.notOk(run.msgs.some((m) => m.event === 'append-accepted-while-unhealthy'));
  const lastDurable = Math.max(-1, ...run.msgs.filter((m) => m.event === 'durable').map((m) => m.seq as number));

  // Without the limit the state dir opens cleanly: the short write was cut back, nothing torn.
  const log = await openAudit({ stateDir });
  t.ok(log.head().seq >= lastDurable, 'every acknowledged record survived');
  await log.close();
  t.notOk(readdirSync(join(stateDir, 'audit')).includes('quarantine'), 'no torn tail to recover');
  const v = await verifySpool(stateDir);
  t.ok(v.ok, 'chain verifies');
});

t.test('a state dir whose audit directory cannot be created fails to open with AuditUnavailableError', async (t) => {
  const stateDir = join(root, 'blocked');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(stateDir);
  writeFileSync(join(stateDir, 'audit'), 'not a directory');
  await t.rejects(openAudit({ stateDir }), { name: 'AuditUnavailableError' });
});
