import { linkSync, unlinkSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import t from 'tap';
import { cls, META, sleeper, store, Tree } from './fixtures/helpers.js';

t.test('a thread of a multi-threaded reader taints its whole process', async (t) => {
  // python3 starts a thread that prints its kernel thread id and then sleeps.
  const py = spawn('python3', ['-c', 'import threading,time,os\ndef f():\n  print(threading.get_native_id(), flush=True); time.sleep(30)\nthreading.Thread(target=f).start()\ntime.sleep(30)'], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => py.kill('SIGKILL'));
  const tid = await new Promise<number>((resolve) => py.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  t.not(tid, py.pid, 'the thread has its own id');
  const { lin, dir } = await store(t, { identityTtlMs: 0 });
  const a = new Tree(dir).file('crm/a.csv', 'a');
  lin.recordRead(tid, a, cls('PROPRIETARY', ['PII'])); // FUSE reports the thread
  t.equal(lin.taintOf(py.pid!).tier, 'PROPRIETARY', 'the process (main thread) is tainted');
  t.equal(lin.taintOf(tid).tier, 'PROPRIETARY');
  t.equal(lin.stats().processes, 1, 'one process, not one per thread');
});

t.test('repeated writes by one process to one file make one edge and one event', async (t) => {
  const { lin, dir } = await store(t, { identityTtlMs: 0 });
  const tree = new Tree(dir);
  const p = sleeper(t);
  lin.recordRead(p.pid!, tree.file('crm/a.csv', 'a'), cls('PROPRIETARY'));
  const out = tree.file('workspace/out.txt', '');
  for (let i = 0; i < 1000; i++) lin.recordWrite(p.pid!, out, 'write', META);
  const events: object[] = [];
  for await (const e of lin.exportOpenLineage()) events.push(e);
  t.equal(events.length, 1);
  t.equal(lin.upstream('/governed/workspace/out.txt').edges.length, 1);
  // Reading something new changes the taint: the next write records the new source.
  lin.recordRead(p.pid!, tree.file('fin/b.csv', 'b'), cls('INTERNAL', ['FINANCE']));
  lin.recordWrite(p.pid!, out, 'write', META);
  t.equal(lin.upstream('/governed/workspace/out.txt').edges.length, 2);
  t.same(lin.inherited(out)?.tags, ['FINANCE']);
});

t.test('a hard link names the same node; unlinking one name keeps the file under the other', async (t) => {
  const { lin, dir } = await store(t, { identityTtlMs: 0 });
  const tree = new Tree(dir);
  const p = sleeper(t);
  lin.recordRead(p.pid!, tree.file('crm/a.csv', 'a'), cls('PROPRIETARY', ['PII']));
  const r = tree.file('workspace/r.txt', 'r');
  lin.recordWrite(p.pid!, r, 'create', META);
  linkSync(r.sourcePath, `${tree.src}/workspace/r-link.txt`);
  const l = tree.ref('workspace/r-link.txt');
  lin.recordWrite(p.pid!, l, 'link', META);
  t.equal(lin.inherited(l)?.tier, 'PROPRIETARY', 'the link inherits: it is the same data');
  t.same(lin.node('/governed/workspace/r-link.txt')?.id, lin.node('/governed/workspace/r.txt')?.id);
  unlinkSync(r.sourcePath);
  lin.recordUnlink(r);
  const n = lin.node('/governed/workspace/r-link.txt')!;
  t.equal(n.path, '/governed/workspace/r-link.txt');
  t.equal(n.deleted, undefined);
  t.equal(lin.inherited(l)?.tier, 'PROPRIETARY');
});

t.test('an unlinked file keeps its lineage for queries; a new file at its path starts afresh', async (t) => {
  const { lin, dir } = await store(t, { identityTtlMs: 0 });
  const tree = new Tree(dir);
  const p = sleeper(t);
  lin.recordRead(p.pid!, tree.file('crm/a.csv', 'a'), cls('PROPRIETARY', ['PII']));
  const r = tree.file('workspace/r.txt', 'r');
  lin.recordWrite(p.pid!, r, 'create', META);
  unlinkSync(r.sourcePath);
  lin.recordUnlink(r);
  const gone = lin.node('/governed/workspace/r.txt')!;
  t.ok(gone.deleted, 'marked deleted');
  t.same(lin.upstream('/governed/workspace/r.txt').nodes.map((n) => n.path), ['/governed/workspace/r.txt', '/governed/crm/a.csv']);
  t.same(lin.impact('/governed/crm/a.csv').map((e) => e.path), ['/governed/workspace/r.txt'], 'impact still lists what was derived');
  // Another (untainted) process creates a new file under the same name.
  writeFileSync(r.sourcePath, 'fresh');
  const fresh = tree.ref('workspace/r.txt');
  const q = sleeper(t);
  lin.recordWrite(q.pid!, fresh, 'create', META);
  t.equal(lin.inherited(fresh), undefined, 'the new file inherits nothing from the deleted one');
  t.not(lin.node('/governed/workspace/r.txt')!.id, gone.id);
});

t.test('an inode reused by a new file (unlink never seen) does not inherit the old lineage', async (t) => {
  const { lin, dir } = await store(t, { identityTtlMs: 0 });
  const tree = new Tree(dir);
  const p = sleeper(t);
  lin.recordRead(p.pid!, tree.file('crm/a.csv', 'a'), cls('PROPRIETARY', ['PII']));
  const r = tree.file('workspace/r.txt', 'r');
  lin.recordWrite(p.pid!, r, 'create', META);
  // Same dev/ino, other path, created fresh: the kernel reused the inode.
  const reused = { ...r, path: '/governed/workspace/new.txt', sourcePath: `${tree.src}/workspace/new.txt` };
  const q = sleeper(t);
  lin.recordWrite(q.pid!, reused, 'create', META);
  t.equal(lin.inherited(reused), undefined);
  t.ok(lin.node('/governed/workspace/r.txt')?.deleted, 'the old node is retired');
});

t.test('stats count processes, nodes and edges, and report bytes on disk after a flush', async (t) => {
  const { lin, dir } = await store(t, { identityTtlMs: 0 });
  const tree = new Tree(dir);
  const p = sleeper(t);
  lin.recordRead(p.pid!, tree.file('crm/a.csv', 'a'), cls('PROPRIETARY'));
  lin.recordWrite(p.pid!, tree.file('workspace/r.txt', 'r'), 'create', META);
  t.ok(lin.stats().pendingWrites > 0);
  await lin.flush();
  t.match(lin.stats(), { processes: 1, nodes: 2, edges: 1, pendingWrites: 0 });
  t.ok(lin.stats().dbBytes > 0);
});

t.test('renaming a directory moves the lineage of every file below it', async (t) => {
  const { renameSync, statSync } = await import('node:fs');
  const { lin, dir } = await store(t, { identityTtlMs: 0 });
  const tree = new Tree(dir);
  const p = sleeper(t);
  lin.recordRead(p.pid!, tree.file('crm/a.csv', 'a'), cls('PROPRIETARY', ['PII']));
  lin.recordWrite(p.pid!, tree.file('workspace/q3/r.txt', 'r'), 'create', META);
  lin.recordWrite(p.pid!, tree.file('workspace/q3/deep/s.txt', 's'), 'create', META);
  lin.recordWrite(p.pid!, tree.file('workspace/q3-other/t.txt', 't'), 'create', META); // a sibling with a common prefix
  const st = statSync(`${tree.src}/workspace/q3`);
  const fromDir = { path: '/governed/workspace/q3', sourcePath: `${tree.src}/workspace/q3`, mount: '/governed', zone: 'workspace', dev: st.dev, ino: st.ino };
  (await import('node:fs')).mkdirSync(`${tree.src}/workspace/archive`);
  renameSync(`${tree.src}/workspace/q3`, `${tree.src}/workspace/archive/q3`);
  const toDir = { ...fromDir, path: '/governed/workspace/archive/q3', sourcePath: `${tree.src}/workspace/archive/q3` };
  lin.recordRename(fromDir, toDir, META);
  t.equal(lin.inherited(tree.ref('workspace/archive/q3/r.txt'))?.tier, 'PROPRIETARY');
  t.equal(lin.inherited(tree.ref('workspace/archive/q3/deep/s.txt'))?.tier, 'PROPRIETARY');
  t.same(lin.impact('/governed/crm/a.csv').map((e) => e.path), [
    '/governed/workspace/archive/q3/deep/s.txt',
    '/governed/workspace/archive/q3/r.txt',
    '/governed/workspace/q3-other/t.txt',
  ]);
  t.equal(lin.node('/governed/workspace/q3/r.txt'), undefined, 'old names no longer resolve');
  t.equal(lin.node(`${tree.src}/workspace/archive/q3/r.txt`)?.path, '/governed/workspace/archive/q3/r.txt', 'nor do old source paths; new ones do');
  t.equal(lin.node('/governed/workspace/archive/q3'), undefined, 'the directory itself is not a node');
});

t.test('a file reference without an inode (0) is found by path and never conflated with others', async (t) => {
  const { lin, dir } = await store(t, { identityTtlMs: 0 });
  const tree = new Tree(dir);
  const p = sleeper(t);
  const a = { ...tree.file('crm/a.csv', 'a'), dev: 0, ino: 0 };
  const b = { ...tree.file('workspace/b.txt', 'b'), dev: 0, ino: 0 };
  lin.recordRead(p.pid!, a, cls('PROPRIETARY', ['PII']));
  lin.recordWrite(p.pid!, b, 'write', META);
  t.not(lin.node(a.path)!.id, lin.node(b.path)!.id);
  t.equal(lin.inherited(b)?.tier, 'PROPRIETARY');
  t.equal(lin.inherited(tree.ref('workspace/b.txt'))?.tier, 'PROPRIETARY', 'and later with its real inode');
});
