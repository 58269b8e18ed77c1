import { randomBytes } from 'node:crypto';
import { renameSync } from 'node:fs';
import t from 'tap';
import { chunkAll } from '../../src/lineage/chunker.js';
import type { FileRef, LineageStore } from '../../src/lineage/index.js';
import { cls, META, sleeper, store, Tree } from './fixtures/helpers.js';

/** CSV rows that look like customer data: varied enough for content-defined chunks. */
function customers(n: number, seed = 1): string {
  let out = 'id,name,email,phone\n';
  for (let i = 0; i < n; i++) out += `${i},Name${(i * 7919 + seed) % 100000},user${i * seed}@example.com,+41 79 ${100 + (i % 900)} ${1000 + ((i * 31) % 9000)}\n`;
  return out;
}

/** Feeds content the way FUSE does: in 4 KiB requests at increasing offsets. */
function feed(lin: LineageStore, f: FileRef, content: Buffer, kind: 'read' | 'write'): void {
  for (let off = 0; off < content.length; off += 4096) lin.observeContent(f, off, content.subarray(off, off + 4096), kind);
}

async function governedSource(lin: LineageStore, tree: Tree, text: string): Promise<FileRef> {
  const a = tree.file('crm/customers.csv', text);
  const p = sleeper(t);
  lin.recordRead(p.pid!, a, cls('PROPRIETARY', ['PII']));
  feed(lin, a, Buffer.from(text), 'read');
  await lin.flush();
  return a;
}

t.test('content-defined chunks resynchronise after an insertion at the start', async (t) => {
  const data = Buffer.from(customers(2000));
  const shifted = Buffer.concat([Buffer.from('# exported 2026-11-23\n'), data]);
  const a = new Set(chunkAll(data).map((c) => c.hash));
  const b = chunkAll(shifted);
  const sharedBytes = b.filter((c) => a.has(c.hash)).reduce((s, c) => s + c.size, 0);
  t.ok(sharedBytes / data.length > 0.95, `shared ${sharedBytes} of ${data.length}`);
});

t.test('a copy written by an untainted process is recognised and inherits tier and tags exactly', async (t) => {
  const { lin, dir } = await store(t, { identityTtlMs: 0 });
  const tree = new Tree(dir);
  const text = customers(3000);
  await governedSource(lin, tree, text);
  // The writer never read through the mount (say, a pipe from an editor buffer).
  const copy = tree.file('export/copy.csv', text, 'export');
  const w = sleeper(t);
  lin.recordWrite(w.pid!, copy, 'create', META);
  feed(lin, copy, Buffer.from(text), 'write');
  const m = lin.copyOf(copy);
  t.equal(m?.path, '/governed/crm/customers.csv');
  t.ok(m!.similarity > 0.99 && m!.coverage > 0.99, `similarity ${m?.similarity} coverage ${m?.coverage}`);
  const inh = lin.inherited(copy)!;
  t.equal(inh.tier, 'PROPRIETARY');
  t.same(inh.tags, ['PII']);
  t.match(inh.reasoning, /copy of \/governed\/crm\/customers.csv/);
});

t.test('a partial copy (the first rows) is recognised as derived from the source', async (t) => {
  const { lin, dir } = await store(t, { identityTtlMs: 0 });
  const tree = new Tree(dir);
  const text = customers(3000);
  await governedSource(lin, tree, text);
  const head = text.slice(0, Math.floor(text.length / 10));
  const part = tree.file('export/head.csv', head, 'export');
  feed(lin, part, Buffer.from(head), 'write');
  const m = lin.copyOf(part)!;
  t.equal(m.path, '/governed/crm/customers.csv');
  t.ok(m.similarity > 0.9, `similarity ${m.similarity}`);
  t.ok(m.coverage < 0.2, `coverage ${m.coverage}`);
  t.equal(lin.inherited(part)?.tier, 'PROPRIETARY');
});

t.test('a copy with other content around it (a header added, rows from the middle) is still found', async (t) => {
  const { lin, dir } = await store(t, { identityTtlMs: 0 });
  const tree = new Tree(dir);
  const text = customers(3000);
  await governedSource(lin, tree, text);
  const middle = text.slice(50_000, 90_000);
  const mixed = `# my notes\n${randomBytes(3000).toString('hex')}\n${middle}`;
  const f = tree.file('export/notes.txt', mixed, 'export');
  feed(lin, f, Buffer.from(mixed), 'write');
  const m = lin.copyOf(f)!;
  t.equal(m.path, '/governed/crm/customers.csv');
  t.ok(m.similarity > 0.5, `similarity ${m.similarity}`);
  t.equal(lin.inherited(f)?.tier, 'PROPRIETARY');
});

t.test('unrelated content is not a copy', async (t) => {
  const { lin, dir } = await store(t, { identityTtlMs: 0 });
  const tree = new Tree(dir);
  await governedSource(lin, tree, customers(3000));
  const other = randomBytes(50_000);
  const f = tree.file('export/random.bin', other, 'export');
  feed(lin, f, other, 'write');
  t.equal(lin.copyOf(f), undefined);
  t.equal(lin.inherited(f), undefined);
});

t.test('a copy is still recognised after it is renamed', async (t) => {
  const { lin, dir } = await store(t, { identityTtlMs: 0 });
  const tree = new Tree(dir);
  const text = customers(3000);
  await governedSource(lin, tree, text);
  const copy = tree.file('export/tmp.csv', text, 'export');
  feed(lin, copy, Buffer.from(text), 'write');
  await lin.flush(); // detected in the background batch, not on demand
  renameSync(`${tree.src}/export/tmp.csv`, `${tree.src}/export/final.csv`);
  const final = tree.ref('export/final.csv', 'export');
  lin.recordRename(copy, final, META);
  t.equal(lin.copyOf(final)?.path, '/governed/crm/customers.csv');
  t.equal(lin.inherited(final)?.tier, 'PROPRIETARY');
  const up = lin.upstream('/governed/export/final.csv');
  t.equal(up.edges[0]?.op, 'copy');
  t.ok(up.edges[0]!.similarity! > 0.99);
});

t.test('a copy of the original renamed away is still matched to it', async (t) => {
  const { lin, dir } = await store(t, { identityTtlMs: 0 });
  const tree = new Tree(dir);
  const text = customers(2000);
  const a = await governedSource(lin, tree, text);
  renameSync(`${tree.src}/crm/customers.csv`, `${tree.src}/crm/customers-2026.csv`);
  lin.recordRename(a, tree.ref('crm/customers-2026.csv'), META);
  const copy = tree.file('export/c.csv', text, 'export');
  feed(lin, copy, Buffer.from(text), 'write');
  t.equal(lin.copyOf(copy)?.path, '/governed/crm/customers-2026.csv');
});

t.test('a file rewritten from offset 0 loses the fingerprints of its old content', async (t) => {
  const { lin, dir } = await store(t, { identityTtlMs: 0 });
  const tree = new Tree(dir);
  const text = customers(2000);
  await governedSource(lin, tree, text);
  const f = tree.file('export/c.csv', text, 'export');
  feed(lin, f, Buffer.from(text), 'write');
  await lin.flush();
  const other = randomBytes(40_000);
  feed(lin, f, other, 'write');
  await lin.flush();
  t.equal(lin.copyOf(f), undefined, 'the rewritten file no longer matches');
  // A third file with the old content matches the source, not the rewritten file.
  const g = tree.file('export/d.csv', text, 'export');
  feed(lin, g, Buffer.from(text), 'write');
  t.equal(lin.copyOf(g)?.path, '/governed/crm/customers.csv');
});

t.test('a copy in progress is recognised from its first write, before the file is complete', async (t) => {
  const { lin, dir } = await store(t, { identityTtlMs: 0 });
  const tree = new Tree(dir);
  const text = customers(3000);
  await governedSource(lin, tree, text);
  const dest = tree.file('export/out.csv', '', 'export');
  lin.observeContent(dest, 0, Buffer.from(text).subarray(0, 4096), 'write');
  const m = lin.copyOf(dest)!;
  t.equal(m.path, '/governed/crm/customers.csv');
  // The chunk still open at the end of the write cannot match yet; the rest does.
  t.ok(m.similarity > 0.5, `similarity ${m.similarity}`);
  t.equal(lin.inherited(dest)?.tier, 'PROPRIETARY', 'the policy can refuse the first write');
  // Asked after every write, it keeps answering as the copy grows.
  for (let off = 4096; off < text.length; off += 4096) {
    lin.observeContent(dest, off, Buffer.from(text).subarray(off, off + 4096), 'write');
    t.equal(lin.copyOf(dest)?.path, '/governed/crm/customers.csv');
  }
  await lin.flush();
  const done = lin.copyOf(dest)!;
  t.ok(done.similarity > 0.99 && done.coverage > 0.99, `complete copy: ${done.similarity} / ${done.coverage}`);
  t.match(lin.inherited(dest)?.reasoning, /^a copy of/);
});

t.test('a copy of a file smaller than one chunk is recognised', async (t) => {
  const { lin, dir } = await store(t, { identityTtlMs: 0 });
  const tree = new Tree(dir);
  const secret = 'AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n';
  const a = tree.file('keys/aws.txt', secret);
  const p = sleeper(t);
  lin.recordRead(p.pid!, a, cls('PROPRIETARY', ['SECRET']));
  lin.observeContent(a, 0, Buffer.from(secret), 'read');
  await lin.flush();
  const c = tree.file('export/k.txt', secret, 'export');
  lin.observeContent(c, 0, Buffer.from(secret), 'write');
  t.equal(lin.copyOf(c)?.path, '/governed/keys/aws.txt');
  t.same(lin.inherited(c)?.tags, ['SECRET']);
});

t.test('a file read through the mount is fingerprinted from its source in the background', async (t) => {
  const { lin, dir } = await store(t, { identityTtlMs: 0 });
  const tree = new Tree(dir);
  const text = customers(3000);
  const a = tree.file('crm/customers.csv', text);
  const p = sleeper(t);
  lin.recordRead(p.pid!, a, cls('PROPRIETARY', ['PII'])); // no observeContent for the read
  await lin.flush();
  // Somebody pipes the data out of the reader and another process writes it.
  const c = tree.file('export/c.csv', text, 'export');
  feed(lin, c, Buffer.from(text), 'write');
  t.equal(lin.copyOf(c)?.path, '/governed/crm/customers.csv');
  t.equal(lin.inherited(c)?.tier, 'PROPRIETARY');
});

t.test('a source changed on disk is fingerprinted again on its next read in a new session', async (t) => {
  const { openLineage } = await import('../../src/lineage/index.js');
  const { join } = await import('node:path');
  const { writeFileSync } = await import('node:fs');
  const { lin, dir } = await store(t, { identityTtlMs: 0 });
  const tree = new Tree(dir);
  const a = tree.file('crm/customers.csv', customers(1000, 1));
  const p = sleeper(t);
  lin.recordRead(p.pid!, a, cls('PROPRIETARY', ['PII']));
  await lin.close();
  const text2 = customers(1500, 7);
  writeFileSync(a.sourcePath, text2);
  const lin2 = await openLineage(join(dir, 'lineage'), { identityTtlMs: 0 });
  t.teardown(() => lin2.close());
  lin2.recordRead(p.pid!, a, cls('PROPRIETARY', ['PII']));
  await lin2.flush();
  const c = tree.file('export/c.csv', text2, 'export');
  feed(lin2, c, Buffer.from(text2), 'write');
  t.equal(lin2.copyOf(c)?.path, '/governed/crm/customers.csv');
});
