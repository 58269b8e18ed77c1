import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { checkLineage, openLineage } from '../../src/lineage/index.js';
import { cls, exited, META, sleeper, store, tempDir, Tree } from './fixtures/helpers.js';

const here = fileURLToPath(new URL('.', import.meta.url));

t.test('lineage survives a daemon restart', async (t) => {
  const dir = tempDir(t);
  const tree = new Tree(dir);
  const lin = await openLineage(join(dir, 'lineage'), { identityTtlMs: 0 });
  const p = sleeper(t);
  lin.recordRead(p.pid!, tree.file('crm/a.csv', 'a'), cls('PROPRIETARY', ['PII']));
  const r = tree.file('workspace/r.txt', 'r');
  lin.recordWrite(p.pid!, r, 'create', META);
  await lin.close();

  const again = await openLineage(join(dir, 'lineage'), { identityTtlMs: 0 });
  t.teardown(() => again.close());
  t.equal(again.inherited(r)?.tier, 'PROPRIETARY');
  t.same(again.upstream('/governed/workspace/r.txt').nodes.map((n) => n.path), ['/governed/workspace/r.txt', '/governed/crm/a.csv']);
  t.equal(again.taintOf(p.pid!).tier, 'PROPRIETARY', 'a process alive across the restart keeps its taint');
});

t.test('taint of a process that exited while the daemon was down is dropped on reopen', async (t) => {
  const dir = tempDir(t);
  const tree = new Tree(dir);
  const lin = await openLineage(join(dir, 'lineage'), { identityTtlMs: 0 });
  const p = sleeper(t);
  const pid = p.pid!;
  lin.recordRead(pid, tree.file('crm/a.csv', 'a'), cls('PROPRIETARY'));
  await lin.close();
  p.kill('SIGKILL');
  await exited(p);
  const again = await openLineage(join(dir, 'lineage'), { identityTtlMs: 0 });
  t.teardown(() => again.close());
  t.equal(again.stats().processes, 0);
  t.equal(again.taintOf(pid).tier, 'PUBLIC');
});

t.test('the store is consistent after kill -9 in the middle of a batch, and reopens', async (t) => {
  const dir = tempDir(t);
  const lineageDir = join(dir, 'lineage');
  for (let round = 0; round < 3; round++) {
    const child = spawn(process.execPath, ['--import=@tapjs/typescript/import', join(here, 'fixtures/busy-writer.ts'), lineageDir, join(dir, 'src')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    t.teardown(() => child.kill('SIGKILL'));
    // Wait for a few committed batches, then kill at an arbitrary moment in the next.
    await new Promise<void>((resolve) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if ((out.match(/batch/g) ?? []).length >= 3 + round) resolve();
      });
    });
    await new Promise((r) => setTimeout(r, 7 + round * 11));
    child.kill('SIGKILL');
    await exited(child);
    const res = await checkLineage(lineageDir);
    t.same(res.problems, [], `round ${round}: no dangling references`);
    t.ok(res.nodes > 0 && res.edges > 0, `round ${round}: ${res.nodes} nodes, ${res.edges} edges`);
  }
  // The writer can reopen it and keep going.
  const lin = await openLineage(lineageDir);
  const before = lin.stats().nodes;
  const tree = new Tree(dir);
  const p = sleeper(t);
  lin.recordRead(p.pid!, tree.file('crm/z.csv', 'z'), cls('INTERNAL'));
  await lin.close();
  const res = await checkLineage(lineageDir);
  t.same(res.problems, []);
  t.equal(res.nodes, before + 1);
});

t.test('a read-only opener sees what the writer committed, while the writer runs', async (t) => {
  const { lin, dir } = await store(t, { identityTtlMs: 0 });
  const tree = new Tree(dir);
  const p = sleeper(t);
  lin.recordRead(p.pid!, tree.file('crm/a.csv', 'a'), cls('PROPRIETARY', ['PII']));
  lin.recordWrite(p.pid!, tree.file('workspace/r.txt', 'r'), 'create', META);
  await lin.flush();
  const ro = await openLineage(join(dir, 'lineage'), { readOnly: true });
  t.teardown(() => ro.close());
  t.same(ro.impact('/governed/crm/a.csv').map((e) => e.path), ['/governed/workspace/r.txt']);
  t.throws(() => ro.recordRead(p.pid!, tree.file('crm/b.csv', 'b'), cls('PUBLIC')), { code: 'read_only' });
});

t.test('opening a missing store read-only fails with no_store', async (t) => {
  const dir = tempDir(t);
  await t.rejects(openLineage(join(dir, 'nope'), { readOnly: true }), { code: 'no_store' });
});

t.test('old events expire from the export log; the lineage itself stays', async (t) => {
  const { lin, dir } = await store(t, { identityTtlMs: 0 });
  const tree = new Tree(dir);
  const p = sleeper(t);
  lin.recordRead(p.pid!, tree.file('crm/a.csv', 'a'), cls('PROPRIETARY', ['PII']));
  lin.recordWrite(p.pid!, tree.file('workspace/r.txt', 'r'), 'create', META);
  await lin.flush();
  t.equal(lin.expireEvents(new Date(Date.now() - 60_000)), 0, 'nothing that old');
  t.equal(lin.expireEvents(new Date(Date.now() + 1000)), 1);
  await lin.flush();
  const events: object[] = [];
  for await (const e of lin.exportOpenLineage()) events.push(e);
  t.same(events, []);
  t.same(lin.impact('/governed/crm/a.csv').map((e) => e.path), ['/governed/workspace/r.txt']);
});

t.test('a reader opened before the writer stored new record shapes still decodes them', async (t) => {
  const { lin, dir } = await store(t, { identityTtlMs: 0 });
  const tree = new Tree(dir);
  const p = sleeper(t);
  lin.recordRead(p.pid!, tree.file('crm/a.csv', 'a'), cls('PROPRIETARY', ['PII']));
  await lin.flush();
  const ro = await openLineage(join(dir, 'lineage'), { readOnly: true });
  t.teardown(() => ro.close());
  t.ok(ro.node('/governed/crm/a.csv'));
  // New shapes: a node with inherited classification, links and the aggregate flag; an edge.
  const r = tree.file('workspace/r.txt', 'r');
  lin.recordWrite(p.pid!, r, 'create', META);
  lin.markAggregate(r);
  const { linkSync } = await import('node:fs');
  linkSync(r.sourcePath, `${tree.src}/workspace/r2.txt`);
  lin.recordWrite(p.pid!, tree.ref('workspace/r2.txt'), 'link', META);
  await lin.flush();
  const n = ro.node('/governed/workspace/r2.txt');
  t.match(n, { path: '/governed/workspace/r.txt', aggregate: true, tier: 'INTERNAL', tags: ['DERIVED_FROM_PII'], links: ['/governed/workspace/r2.txt'] });
  t.match(ro.upstream('/governed/workspace/r.txt').edges[0], { op: 'create', ops: ['create', 'link'], program: META.program });
});

t.test('a second writer is refused while the first lives; a dead writer\'s lock is taken over', async (t) => {
  const dir = tempDir(t);
  const first = await openLineage(join(dir, 'lineage'));
  await t.rejects(openLineage(join(dir, 'lineage')), { code: 'locked' });
  const ro = await openLineage(join(dir, 'lineage'), { readOnly: true }); // readers are welcome
  await ro.close();
  await first.close();
  const second = await openLineage(join(dir, 'lineage'));
  await second.close();
  // A writer killed with -9 leaves its lock behind; the next writer takes it.
  const { writeFileSync } = await import('node:fs');
  const p = sleeper(t);
  const { processIdentity } = await import('../../src/lineage/index.js');
  writeFileSync(join(dir, 'lineage', 'writer.lock'), `${p.pid} ${processIdentity(p.pid!)!.startTime}\n`);
  await t.rejects(openLineage(join(dir, 'lineage')), { code: 'locked' }, 'held by a live process');
  p.kill('SIGKILL');
  await exited(p);
  const third = await openLineage(join(dir, 'lineage'));
  await third.close();
});
