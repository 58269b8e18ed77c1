// A full disk under the lineage store, for real: the store lives on a 4 MiB tmpfs that
// is filled up while lineage keeps being recorded. Regression: lmdb-js rejected a
// promise nobody held when the batched commit failed ("Commit failed (see commitError
// …)"), and the unhandled rejection killed the daemon. Needs root (mount); skipped without.

import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { checkLineage, openLineage, type LineageStore, type OpenOptions } from '../../src/lineage/index.js';
import { cls, META, sleeper, Tree } from './fixtures/helpers.js';

const isRoot = process.getuid?.() === 0;

/**
 * A lineage store on its own 4 MiB tmpfs. Teardown closes the store and always
 * unmounts (lazily, so a store that failed to close cannot keep the mount busy).
 */
async function storeOnSmallDisk(t: Test, opts: OpenOptions = {}): Promise<{ lin: LineageStore; lineageDir: string; fill: () => void; free: () => void }> {
  const mnt = mkdtempSync(join(tmpdir(), 'lacuna-lineage-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt]);
  let lin: LineageStore | undefined;
  t.teardown(async () => {
    try {
      await lin?.close().catch(() => undefined);
    } finally {
      execFileSync('umount', ['-l', mnt]);
      rmSync(mnt, { recursive: true, force: true });
    }
  });
  const lineageDir = join(mnt, 'lineage');
  lin = await openLineage(lineageDir, { batchMs: 20, identityTtlMs: 0, ...opts });
  const filler = join(mnt, 'filler');
  const fill = (): void => {
    const fd = openSync(filler, 'a');
    try {
      for (const size of [1 << 20, 64 << 10, 4 << 10]) {
        const buf = Buffer.alloc(size, 1);
        for (;;) {
          try {
            writeSync(fd, buf);
          } catch {
            break; // ENOSPC at this size; try smaller pieces
          }
        }
      }
    } finally {
      closeSync(fd);
    }
  };
  return { lin, lineageDir, fill, free: () => rmSync(filler, { force: true }) };
}

/** Fails the test if any promise rejection goes unhandled while it runs. */
function noUnhandledRejections(t: Test): unknown[] {
  const seen: unknown[] = [];
  const on = (e: unknown): void => {
    seen.push(e);
  };
  process.on('unhandledRejection', on);
  t.teardown(() => {
    process.off('unhandledRejection', on);
  });
  return seen;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) return false;
    await sleep(20);
  }
  return true;
}

/** Records lineage with fingerprinted content (new pages for LMDB) until commits fail. */
async function recordUntilUnhealthy(lin: LineageStore, tree: Tree, pid: number, tag: string): Promise<number> {
  let n = 0;
  const ok = await until(() => {
    for (let i = 0; i < 20; i++, n++) {
      const f = tree.file(`work/${tag}-${n}.bin`, 'x', 'work');
      lin.recordWrite(pid, f, 'create', META);
      lin.observeContent(f, 0, randomBytes(16 * 1024), 'write');
    }
    return !lin.stats().healthy;
  }, 10_000);
  if (!ok) throw new Error('commits never failed on a full disk');
  return n;
}

t.test('a full disk never rejects unhandled; lineage is kept and lands once space returns', { skip: !isRoot && 'needs root to mount a tmpfs' }, async (t) => {
  const unhandled = noUnhandledRejections(t);
  const { lin, lineageDir, fill, free } = await storeOnSmallDisk(t);
  const tree = new Tree(mkdtempSync(join(tmpdir(), 'lacuna-lineage-tree-')));
  t.teardown(() => rmSync(join(tree.src, '..'), { recursive: true, force: true }));
  const p = sleeper(t);
  const a = tree.file('crm/a.csv', 'id,email\n');
  lin.recordRead(p.pid!, a, cls('PROPRIETARY', ['PII']));
  await lin.flush();
  t.match(lin.stats(), { healthy: true, failedCommits: 0, droppedWrites: 0 });

  fill();
  const written = await recordUntilUnhealthy(lin, tree, p.pid!, 'full');
  const during = tree.file('work/report.csv', 'r', 'work');
  lin.recordWrite(p.pid!, during, 'create', META);
  await sleep(300); // several batch ticks and retries fail meanwhile
  const st = lin.stats();
  t.equal(st.healthy, false, 'stats say commits fail');
  t.match(st.lastError, /Commit failed/);
  t.ok(st.lastErrorAt !== undefined && Date.parse(st.lastErrorAt) > Date.now() - 60_000);
  t.ok(st.failedCommits >= 1, `${st.failedCommits} failed commits`);
  t.ok(st.pendingWrites > written, `${st.pendingWrites} writes kept in memory`);
  t.equal(st.droppedWrites, 0, 'nothing dropped under the bound');
  t.match(lin.inherited(during), { tier: 'PROPRIETARY', tags: ['PII'] }, 'queries still see what is pending');
  await t.rejects(lin.flush(), /Commit failed/, 'an explicit flush reports the failure to its caller');

  free();
  t.ok(await until(() => lin.stats().healthy, 15_000), 'a background retry lands the batch once space returns');
  await lin.flush();
  t.match(lin.stats(), { healthy: true, pendingWrites: 0, droppedWrites: 0 });
  t.same(unhandled, [], 'no unhandled rejection');
  await lin.close();
  t.same((await checkLineage(lineageDir)).problems, []);
  const ro = await openLineage(lineageDir, { readOnly: true });
  t.teardown(() => ro.close());
  t.equal(ro.node(during.path)?.tier, 'PROPRIETARY', 'lineage recorded while the disk was full is on disk');
  t.same(ro.upstream(during.path).nodes.map((n) => n.path), [during.path, a.path]);
  t.ok(ro.node(`/governed/work/full-${written - 1}.bin`));
});

t.test('while commits fail, unsaved writes are bounded: the oldest are dropped and counted', { skip: !isRoot && 'needs root to mount a tmpfs' }, async (t) => {
  const unhandled = noUnhandledRejections(t);
  const max = 2_000;
  const { lin, fill, free } = await storeOnSmallDisk(t, { maxPendingWrites: max });
  const tree = new Tree(mkdtempSync(join(tmpdir(), 'lacuna-lineage-tree-')));
  t.teardown(() => rmSync(join(tree.src, '..'), { recursive: true, force: true }));
  mkdirSync(join(tree.src, 'work'), { recursive: true });
  const p = sleeper(t);
  lin.recordRead(p.pid!, tree.file('crm/a.csv', 'a'), cls('PROPRIETARY', ['PII']));
  await lin.flush();
  fill();
  await recordUntilUnhealthy(lin, tree, p.pid!, 'a');
  for (let round = 0; round < 10; round++) {
    for (let i = 0; i < 20; i++) {
      const f = tree.file(`work/b-${round}-${i}.bin`, 'x', 'work');
      lin.recordWrite(p.pid!, f, 'create', META);
      lin.observeContent(f, 0, randomBytes(32 * 1024), 'write');
    }
    await sleep(30);
  }
  const st = lin.stats();
  t.equal(st.healthy, false);
  t.ok(st.droppedWrites > 0, `${st.droppedWrites} writes dropped`);
  t.ok(st.pendingWrites <= max + 1, `${st.pendingWrites} pending, bound ${max}`);

  free();
  t.ok(await until(() => lin.stats().healthy, 15_000), 'recovers once space returns');
  const late = tree.file('work/late.csv', 'l', 'work');
  lin.recordWrite(p.pid!, late, 'create', META);
  await lin.flush();
  t.match(lin.stats(), { healthy: true, pendingWrites: 0 });
  t.match(lin.inherited(late), { tier: 'PROPRIETARY', tags: ['PII'] }, 'lineage goes on after the loss');
  t.same(unhandled, [], 'no unhandled rejection');
});
