// The verifier's fast path (intact runs, worker threads) must give exactly the report the
// line-by-line verifier gives: for every tamper fixture, for an unvouched tail after the last
// checkpoint, for a trimmed spool, and for lines that hash right but are not laid out as the writer
// lays them out. It may only ever answer for an intact chain.
import t from 'tap';
import { mkdtempSync, readdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAudit } from '../../src/audit/index.js';
import { spoolEvidence, verifySpool } from '../../src/audit/sources.js';
import { verifySpoolRuns } from '../../src/audit/verify-runs.js';
import { scanLines } from '../../src/audit/intact-runs.js';
import { buildChain, loadTamperFixtures, mutateCheckpointLines, mutateLines, readSpoolLines, writeLines } from './fixtures/tamper-tools.js';

const root = mkdtempSync(join(tmpdir(), 'lacuna-audit-runs-'));
t.teardown(() => rmSync(root, { recursive: true, force: true }));

const SHAPES = [
  { workers: 0, chunkBytes: 700 }, // about one line per chunk: runs cut everywhere
  { workers: 2, chunkBytes: 1500 },
  { workers: 1 }, // one chunk
  { workers: 2, chunkBytes: 1500, native: false }, // lines read and hashed in TypeScript (no addon)
];

async function sameEveryWay(t: Tap.Test, stateDir: string, what: string): Promise<void> {
  const exact = await verifySpool(stateDir, { runs: false });
  for (const runs of SHAPES) t.same(await verifySpool(stateDir, { runs }), exact, `${what}: ${JSON.stringify(runs)} reports as line by line`);
}

async function vo(stateDir: string) {
  const ev = await spoolEvidence(stateDir);
  return { checkpoints: ev.checkpoints, chainId: ev.chainId!, publicKey: ev.key!.publicKey, keyId: ev.key!.keyId, ...(ev.anchor ? { start: { anchor: ev.anchor } } : {}) };
}

function segmentFile(stateDir: string): string {
  const segDir = join(stateDir, 'audit', 'segments');
  return join(segDir, readdirSync(segDir)[0]!);
}

t.test('every tamper fixture: the same report with and without runs, and runs answer only for the intact chain', async (t) => {
  for (const f of loadTamperFixtures()) {
    if (f.expect.spool === undefined) continue;
    const stateDir = join(root, `fx-${f.name}`);
    await (await buildChain(stateDir)).close();
    const seg = segmentFile(stateDir);
    const cpFile = join(stateDir, 'audit', 'checkpoints.jsonl');
    writeLines(seg, mutateLines(readSpoolLines(seg), f.mutation).lines);
    writeLines(cpFile, mutateCheckpointLines(readSpoolLines(cpFile), f.mutation));
    await sameEveryWay(t, stateDir, f.name);
    for (const runs of SHAPES) {
      const fast = await verifySpoolRuns(stateDir, await vo(stateDir), runs);
      if (f.expect.spool === null) t.ok(fast?.result.ok, `${f.name}: runs confirm the intact chain`);
      else t.equal(fast, null, `${f.name}: runs do not answer for a broken chain`);
    }
  }
});

t.test('records after the last checkpoint are verified line by line, and a break there is named', async (t) => {
  const stateDir = join(root, 'tail');
  await (await buildChain(stateDir)).close();
  const cpFile = join(stateDir, 'audit', 'checkpoints.jsonl');
  // Keep the checkpoints at 10 and 20 only: records 21..40 are the unvouched tail.
  writeLines(cpFile, readSpoolLines(cpFile).slice(0, 2));
  await sameEveryWay(t, stateDir, 'intact tail');
  t.ok((await verifySpoolRuns(stateDir, await vo(stateDir), { workers: 0, chunkBytes: 900 }))?.result.ok, 'runs answer when only the tail is line by line');
  const seg = segmentFile(stateDir);
  const lines = readSpoolLines(seg);
  lines[33] = lines[33]!.replace('"decision":"deny"', '"decision":"allow"');
  writeLines(seg, lines);
  const r = await verifySpool(stateDir, { runs: { workers: 0 } });
  t.same({ ok: r.ok, kind: r.first?.kind, seq: r.first?.seq }, { ok: false, kind: 'hash_mismatch', seq: 33 });
  await sameEveryWay(t, stateDir, 'broken tail');
});

t.test('a line whose hash member was moved (same bytes otherwise) is not taken as a record by the fast path', async (t) => {
  const stateDir = join(root, 'moved');
  await (await buildChain(stateDir)).close();
  const seg = segmentFile(stateDir);
  const lines = readSpoolLines(seg);
  // Move record 5's hash member to the front: still valid JSON, no longer where the writer puts it.
  const m = /,("hash":"[0-9a-f]{64}")/.exec(lines[5]!)!;
  lines[5] = `{${m[1]},${lines[5]!.slice(1).replace(m[0], '')}`;
  writeLines(seg, lines);
  const ev = await spoolEvidence(stateDir);
  const scan = scanLines(Buffer.from(`${lines[5]}\n`), { chainId: ev.chainId!, trustedThrough: 40, hashSeqs: [], cutSizes: null });
  t.same(scan.items.map((i) => ('line' in i ? 'line' : 'run')), ['line'], 'handed back to the exact path');
  t.equal(await verifySpoolRuns(stateDir, await vo(stateDir), { workers: 0 }), null, 'runs do not answer');
  await sameEveryWay(t, stateDir, 'moved hash member');
});

t.test('a trimmed spool (anchor) and a chain over several segments verify the same way with runs', async (t) => {
  const stateDir = join(root, 'segments');
  const log = await openAudit({ stateDir, checkpointEvery: 50, segmentBytes: 8 << 10 });
  for (let i = 0; i < 300; i++) {
    log.append({ kind: 'decision', user: `u${i % 7}`, decision: i % 2 ? 'allow' : 'deny', paths: [`/d/${i}`], details: { hash: 'x', host: 'y', seq: i } });
    if (i % 40 === 39) await log.flush();
  }
  await log.close();
  t.ok(readdirSync(join(stateDir, 'audit', 'segments')).length > 3, 'several segments');
  await sameEveryWay(t, stateDir, 'segments');
  t.ok((await verifySpoolRuns(stateDir, await vo(stateDir), { workers: 2, chunkBytes: 3000 }))?.result.ok, 'runs confirm it');
  // Trim as the sink would after PostgreSQL confirmed: drop the first segment, anchor on its last record.
  const segDir = join(stateDir, 'audit', 'segments');
  const [first, second] = readdirSync(segDir).sort();
  const firstLine = readFileSync(join(segDir, second!), 'utf8').split('\n')[0]!;
  const anchor = { seq: Number(second!.slice(0, 16)) - 1, hash: JSON.parse(firstLine).prev_hash as string };
  writeFileSync(join(stateDir, 'audit', 'anchor.json'), JSON.stringify(anchor) + '\n');
  rmSync(join(segDir, first!));
  await sameEveryWay(t, stateDir, 'trimmed');
  const trimmed = await verifySpool(stateDir);
  t.ok(trimmed.ok && !trimmed.merkleChecked && trimmed.firstSeq === anchor.seq + 1, 'trimmed spool verifies from its anchor');
});
