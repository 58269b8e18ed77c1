// Paths longer than LMDB's key limit (1978 bytes): a path in a mount may be 4095 bytes.
// Regression: such a path threw `RangeError: String does not fit in target buffer`
// from byPath/inherited/recordUnlink/recordWrite, and its batch could never commit.

import { renameSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import * as K from '../../src/lineage/keys.js';
import { checkLineage, openLineage } from '../../src/lineage/index.js';
import { cls, META, sleeper, store, Tree } from './fixtures/helpers.js';

/** A relative directory of `bytes` bytes in components of at most 200 (NAME_MAX is 255). */
function deepDir(top: string, bytes: number): string {
  const parts = [top];
  let len = top.length;
  for (let i = 0; len < bytes; i++) {
    const part = `${String(i).padStart(3, '0')}-${'d'.repeat(Math.min(195, bytes - len))}`;
    parts.push(part);
    len += part.length + 1;
  }
  return parts.join('/');
}

t.test('path keys: short paths are plain, long ones hashed with the path kept in the value', async (t) => {
  const short = `/${'a'.repeat(K.PATH_KEY_MAX_BYTES - 1)}`;
  const long = `${short}b`;
  t.equal(K.pathKey(short), short);
  t.match(K.pathKey(long), /^#sha256:[0-9a-f]{64}$/);
  t.equal(K.pathKey('/é'.repeat(400)), K.pathKey('/é'.repeat(400)), 'hashing is stable');
  t.match(K.pathKey('/é'.repeat(400)), /^#sha256:/, 'the limit counts UTF-8 bytes, not characters');
  t.equal(K.pathTarget(long, K.pathValue(long, 7)), 7);
  t.equal(K.pathTarget(`${long}x`, K.pathValue(long, 7)), undefined, 'a hashed entry answers only for its own path');
  t.same(K.pathEntry(K.pathKey(long), K.pathValue(long, 7)), { path: long, node: 7 });
  t.same(K.pathEntry(short, 3), { path: short, node: 3 });
  t.equal(K.pathsBelow('/a/b').length, 2, 'a normal directory: its plain range plus the hashed keys');
  t.equal(K.pathsBelow(long).length, 1, 'a long directory has only hashed paths below it');
  t.ok(K.inRange(K.pathKey(long), K.pathsBelow('/a')[1]!));
  t.notOk(K.inRange(K.pathKey(long), K.pathsBelow('/a')[0]!), 'hashed keys sort outside every directory range');
  t.ok(K.isBelow('/a/b/c', '/a/b/'));
  t.notOk(K.isBelow('/a/bc', '/a/b'));
  t.notOk(K.isBelow('/a/b', '/a/b'));
});

t.test('a 4000-byte path: read, write, inherited, rename, upstream and unlink work and nothing throws', async (t) => {
  const { lin, dir } = await store(t, { identityTtlMs: 0 });
  const tree = new Tree(dir);
  const deep = deepDir('crm', 3980);
  const a = tree.file(`${deep}/a.csv`, 'id,email\n', 'crm');
  t.ok(Buffer.byteLength(a.path) >= 4000 && Buffer.byteLength(a.path) < 4096, `${Buffer.byteLength(a.path)} bytes`);
  const p = sleeper(t);
  lin.recordRead(p.pid!, a, cls('PROPRIETARY', ['PII']));
  const out = tree.file(`${deep}/out.tmp`, 'x', 'crm');
  lin.recordWrite(p.pid!, out, 'create', META);
  lin.recordWrite(p.pid!, out, 'write', META);
  t.match(lin.inherited(out), { tier: 'PROPRIETARY', tags: ['PII'], sources: [a.path] });
  await lin.flush(); // the batch with long paths commits

  renameSync(out.sourcePath, join(tree.src, deep, 'out.csv'));
  const renamed = tree.ref(`${deep}/out.csv`, 'crm');
  lin.recordRename(out, renamed, META);
  t.equal(lin.node(out.path), undefined, 'the old name is gone');
  t.equal(lin.node(renamed.path)?.path, renamed.path);
  t.equal(lin.node(renamed.sourcePath)?.path, renamed.path, 'found by its source path too');
  const up = lin.upstream(renamed.path);
  t.same(up.nodes.map((n) => n.path), [renamed.path, a.path]);
  t.same(up.edges[0]!.ops, ['create', 'write']);
  t.same(lin.impact(a.path).map((e) => e.path), [renamed.path]);

  lin.recordUnlink(renamed);
  t.ok(lin.node(renamed.path)?.deleted, 'an unlinked long path keeps its lineage');
  await lin.flush();
  t.same(lin.stats().droppedWrites, 0, 'no write was refused');
  await lin.close();
  t.same((await checkLineage(join(dir, 'lineage'))).problems, []);
  const ro = await openLineage(join(dir, 'lineage'), { readOnly: true });
  t.teardown(() => ro.close());
  t.equal(ro.node(a.path)?.tier, 'PROPRIETARY', 'long paths survive a reopen');
  t.equal(ro.upstream(renamed.path).nodes.length, 2);
});

t.test('renaming a directory moves the long paths below it along with the short ones', async (t) => {
  const { lin, dir } = await store(t, { identityTtlMs: 0 });
  const tree = new Tree(dir);
  const deep = deepDir('old', 3900);
  const p = sleeper(t);
  const shortFile = tree.file('proj/old/s.csv', 's', 'proj');
  const longFile = tree.file(`proj/${deep}/l.csv`, 'l', 'proj');
  lin.recordRead(p.pid!, shortFile, cls('PROPRIETARY', ['PII']));
  lin.recordRead(p.pid!, longFile, cls('INTERNAL', ['HR']));
  const out = tree.file(`proj/${deep}/out.csv`, 'o', 'proj');
  lin.recordWrite(p.pid!, out, 'create', META);
  await lin.flush();
  const before = tree.ref('proj/old', 'proj');
  renameSync(join(tree.src, 'proj/old'), join(tree.src, 'proj/new'));
  lin.recordRename(before, tree.ref('proj/new', 'proj'), META);
  const moved = (rel: string): string => `/governed/proj/${rel.replace(/^old/, 'new')}`;
  for (const rel of ['old/s.csv', `${deep}/l.csv`, `${deep}/out.csv`]) {
    t.ok(lin.node(moved(rel)), `${rel.slice(0, 20)}… is found under the new directory`);
    t.equal(lin.node(`/governed/proj/${rel}`), undefined, `${rel.slice(0, 20)}… is gone from the old one`);
  }
  t.match(lin.inherited(tree.ref(`proj/${deep.replace(/^old/, 'new')}/out.csv`, 'proj')), { tier: 'PROPRIETARY', tags: ['HR', 'PII'] });
  t.same(lin.upstream(moved(`${deep}/out.csv`)).nodes.map((n) => n.path).sort(), [moved('old/s.csv'), moved(`${deep}/l.csv`), moved(`${deep}/out.csv`)].sort());
  // A directory whose own name is past the plain-key limit: only hashed paths below it.
  const inner = deep.replace(/^old/, 'new');
  const innerRef = tree.ref(`proj/${inner}`, 'proj');
  renameSync(join(tree.src, 'proj', inner), join(tree.src, 'proj', `${inner}2`));
  lin.recordRename(innerRef, tree.ref(`proj/${inner}2`, 'proj'), META);
  t.ok(lin.node(`/governed/proj/${inner}2/l.csv`), 'moved below a long directory');
  t.equal(lin.node(`/governed/proj/${inner}/l.csv`), undefined);
  await lin.flush();
  t.same(lin.stats().droppedWrites, 0);
  await lin.close();
  t.same((await checkLineage(join(dir, 'lineage'))).problems, []);
});
