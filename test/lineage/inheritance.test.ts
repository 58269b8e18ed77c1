import t from 'tap';
import { cls, META, sleeper, store, Tree } from './fixtures/helpers.js';

t.test('a report written by a process that read a PROPRIETARY CSV is PROPRIETARY with its tags and a lineage edge', async (t) => {
  const { lin, dir } = await store(t, { identityTtlMs: 0 });
  const tree = new Tree(dir);
  const a = tree.file('crm/a.csv', 'id,email\n');
  const p = sleeper(t);
  lin.recordRead(p.pid!, a, cls('PROPRIETARY', ['PII']));
  const report = tree.file('workspace/report.txt', 'summary');
  lin.recordWrite(p.pid!, report, 'create', META);
  lin.recordWrite(p.pid!, report, 'write', META);
  const inh = lin.inherited(report);
  t.equal(inh?.tier, 'PROPRIETARY');
  t.same(inh?.tags, ['PII']);
  t.same(inh?.sources, ['/governed/crm/a.csv']);
  t.equal(inh?.layer, 0);
  const up = lin.upstream('/governed/workspace/report.txt');
  t.same(up.nodes.map((n) => n.path), ['/governed/workspace/report.txt', '/governed/crm/a.csv']);
  t.equal(up.edges.length, 1);
  t.equal(up.edges[0]!.op, 'create');
  t.same(up.edges[0]!.ops, ['create', 'write']);
  t.equal(up.edges[0]!.program, '/usr/bin/python3');
  t.equal(up.edges[0]!.user, 'ana');
  t.equal(up.edges[0]!.pid, p.pid);
});

t.test('a derived file gets the max tier and the union of tags: PUBLIC + PROPRIETARY is PROPRIETARY', async (t) => {
  const { lin, dir } = await store(t, { identityTtlMs: 0 });
  const tree = new Tree(dir);
  const p = sleeper(t);
  lin.recordRead(p.pid!, tree.file('pub/a.txt', 'a'), cls('PUBLIC', ['DOCS']));
  lin.recordRead(p.pid!, tree.file('crm/b.csv', 'b'), cls('PROPRIETARY', ['PII']));
  const c = tree.file('workspace/c.txt', 'ab');
  lin.recordWrite(p.pid!, c, 'write', META);
  const inh = lin.inherited(c)!;
  t.equal(inh.tier, 'PROPRIETARY');
  t.same(inh.tags, ['DOCS', 'PII']);
  t.same(inh.sources, ['/governed/crm/b.csv', '/governed/pub/a.txt']);
});

t.test('inheritance never lowers: a PROPRIETARY file written later from PUBLIC data stays PROPRIETARY', async (t) => {
  const { lin, dir } = await store(t, { identityTtlMs: 0 });
  const tree = new Tree(dir);
  const out = tree.file('workspace/out.txt', '');
  const p1 = sleeper(t);
  lin.recordRead(p1.pid!, tree.file('crm/b.csv', 'b'), cls('PROPRIETARY', ['PII']));
  lin.recordWrite(p1.pid!, out, 'write', META);
  const p2 = sleeper(t);
  lin.recordRead(p2.pid!, tree.file('pub/a.txt', 'a'), cls('PUBLIC'));
  lin.recordWrite(p2.pid!, out, 'write', META);
  t.equal(lin.inherited(out)?.tier, 'PROPRIETARY');
});

t.test('a declared aggregate drops to INTERNAL and keeps DERIVED_FROM_<TAG> provenance', async (t) => {
  const { lin, dir } = await store(t, { identityTtlMs: 0 });
  const tree = new Tree(dir);
  const p = sleeper(t);
  lin.recordRead(p.pid!, tree.file('crm/a.csv', 'a'), cls('PROPRIETARY', ['PII', 'CUSTOMER']));
  const agg = tree.file('workspace/counts.csv', 'region,count\n');
  lin.recordWrite(p.pid!, agg, 'create', META);
  lin.markAggregate(agg);
  const inh = lin.inherited(agg)!;
  t.equal(inh.tier, 'INTERNAL');
  t.same(inh.tags, ['DERIVED_FROM_CUSTOMER', 'DERIVED_FROM_PII']);
  t.match(inh.reasoning, /aggregate/);
});

t.test('an aggregate of PUBLIC data stays PUBLIC (the rule never raises)', async (t) => {
  const { lin, dir } = await store(t, { identityTtlMs: 0 });
  const tree = new Tree(dir);
  const p = sleeper(t);
  lin.recordRead(p.pid!, tree.file('pub/a.csv', 'a'), cls('PUBLIC', ['OPEN_DATA']));
  const agg = tree.file('workspace/counts.csv', 'x');
  lin.recordWrite(p.pid!, agg, 'create', META);
  lin.markAggregate(agg);
  t.equal(lin.inherited(agg)?.tier, 'PUBLIC');
  t.same(lin.inherited(agg)?.tags, ['DERIVED_FROM_OPEN_DATA']);
});

t.test('inheritance is transitive: a file derived from a derived file inherits the original tier', async (t) => {
  const { lin, dir } = await store(t, { identityTtlMs: 0 });
  const tree = new Tree(dir);
  const p1 = sleeper(t);
  lin.recordRead(p1.pid!, tree.file('crm/a.csv', 'a'), cls('PROPRIETARY', ['PII']));
  const b = tree.file('workspace/b.txt', 'b');
  lin.recordWrite(p1.pid!, b, 'write', META);
  // b's content scans PUBLIC, but what it inherits travels with it.
  const p2 = sleeper(t);
  lin.recordRead(p2.pid!, b, cls('PUBLIC'));
  const c = tree.file('workspace/c.txt', 'c');
  lin.recordWrite(p2.pid!, c, 'write', META);
  t.equal(lin.inherited(c)?.tier, 'PROPRIETARY');
  t.same(lin.inherited(c)?.tags, ['PII']);
});

t.test('reclassifying a source upward raises everything downstream', async (t) => {
  const { lin, dir } = await store(t, { identityTtlMs: 0 });
  const tree = new Tree(dir);
  const a = tree.file('crm/a.csv', 'a');
  const p1 = sleeper(t);
  lin.recordRead(p1.pid!, a, cls('INTERNAL'));
  const b = tree.file('workspace/b.txt', 'b');
  lin.recordWrite(p1.pid!, b, 'write', META);
  const p2 = sleeper(t);
  lin.recordRead(p2.pid!, b, cls('PUBLIC'));
  const c = tree.file('workspace/c.txt', 'c');
  lin.recordWrite(p2.pid!, c, 'write', META);
  t.equal(lin.inherited(c)?.tier, 'INTERNAL');
  const p3 = sleeper(t);
  lin.recordRead(p3.pid!, a, cls('PROPRIETARY', ['PII'])); // a rescan finds PII
  t.equal(lin.inherited(c)?.tier, 'PROPRIETARY');
  t.same(lin.impact('/governed/crm/a.csv').map((e) => [e.path, e.tier, e.distance]), [
    ['/governed/workspace/b.txt', 'PROPRIETARY', 1],
    ['/governed/workspace/c.txt', 'PROPRIETARY', 2],
  ]);
});

t.test('an untainted writer creates no edges and no inherited classification', async (t) => {
  const { lin, dir } = await store(t, { identityTtlMs: 0 });
  const tree = new Tree(dir);
  const p = sleeper(t);
  const f = tree.file('workspace/x.txt', 'x');
  lin.recordWrite(p.pid!, f, 'create', META);
  t.equal(lin.inherited(f), undefined);
  t.same(lin.upstream('/governed/workspace/x.txt').edges, []);
});

t.test('lineage follows a renamed file', async (t) => {
  const { renameSync } = await import('node:fs');
  const { lin, dir } = await store(t, { identityTtlMs: 0 });
  const tree = new Tree(dir);
  const p = sleeper(t);
  lin.recordRead(p.pid!, tree.file('crm/a.csv', 'a'), cls('PROPRIETARY', ['PII']));
  const tmp = tree.file('workspace/.tmp123', 'r');
  lin.recordWrite(p.pid!, tmp, 'create', META);
  renameSync(tree.src + '/workspace/.tmp123', tree.src + '/workspace/report.txt');
  const final = tree.ref('workspace/report.txt');
  lin.recordRename(tmp, final, META);
  t.equal(lin.inherited(final)?.tier, 'PROPRIETARY');
  t.same(lin.upstream('/governed/workspace/report.txt').nodes.map((n) => n.path), ['/governed/workspace/report.txt', '/governed/crm/a.csv']);
  t.throws(() => lin.upstream('/governed/workspace/.tmp123'), { code: 'not_found' });
  t.equal(lin.node(final.sourcePath)?.path, '/governed/workspace/report.txt', 'the source path finds the node too');
});

const DAEMON = { program: 'lacuna-fs anonymize', uid: 0, user: 'root' };

t.test('an anonymised copy the daemon made of a PROPRIETARY PII file inherits INTERNAL with DERIVED_FROM_PII, on an anonymize edge', async (t) => {
  const { lin, dir } = await store(t, { identityTtlMs: 0 });
  const tree = new Tree(dir);
  const a = tree.file('crm/a.csv', 'id,email\n1,a@example.com\n');
  const p = sleeper(t);
  lin.recordRead(p.pid!, a, cls('PROPRIETARY', ['PII']));
  const out = tree.file('export/a.anon.csv', 'id,email\n1,<EMAIL>\n', 'export');
  lin.recordDerivation([a], out, 'anonymize', DAEMON);
  const inh = lin.inherited(out)!;
  t.equal(inh.tier, 'INTERNAL');
  t.same(inh.tags, ['DERIVED_FROM_PII']);
  t.same(inh.sources, ['/governed/crm/a.csv']);
  t.match(inh.reasoning, /aggregate/);
  t.equal(lin.node('/governed/export/a.anon.csv')?.aggregate, true);
  const up = lin.upstream('/governed/export/a.anon.csv');
  t.equal(up.edges.length, 1);
  t.match(up.edges[0], { op: 'anonymize', ops: ['anonymize'], program: 'lacuna-fs anonymize', user: 'root', uid: 0, pid: process.pid });
  t.same(lin.downstream('/governed/crm/a.csv').nodes.map((n) => n.path), ['/governed/crm/a.csv', '/governed/export/a.anon.csv']);
  t.same(lin.impact('/governed/crm/a.csv'), [{ path: '/governed/export/a.anon.csv', tier: 'INTERNAL', tags: ['DERIVED_FROM_PII'], distance: 1 }]);
  t.same(lin.taintOf(process.pid).files, [], 'the daemon making the copy is not tainted by it');
});

t.test('an aggregate derivation from several sources is capped at INTERNAL only when declared aggregate', async (t) => {
  const { lin, dir } = await store(t, { identityTtlMs: 0 });
  const tree = new Tree(dir);
  const p = sleeper(t);
  const a = tree.file('crm/a.csv', 'a');
  const b = tree.file('hr/b.csv', 'b');
  lin.recordRead(p.pid!, a, cls('PROPRIETARY', ['PII']));
  lin.recordRead(p.pid!, b, cls('INTERNAL', ['HR']));
  const plain = tree.file('workspace/joined.csv', 'ab');
  lin.recordDerivation([a, b], plain, 'aggregate', DAEMON);
  t.match(lin.inherited(plain), { tier: 'PROPRIETARY', tags: ['HR', 'PII'], sources: ['/governed/crm/a.csv', '/governed/hr/b.csv'] }, 'without aggregate: the derived rule');
  const counts = tree.file('workspace/counts.csv', 'n');
  lin.recordDerivation([a, b, a], counts, 'aggregate', DAEMON, { aggregate: true });
  t.match(lin.inherited(counts), { tier: 'INTERNAL', tags: ['DERIVED_FROM_HR', 'DERIVED_FROM_PII'] });
  t.same(lin.upstream('/governed/workspace/counts.csv').edges.map((e) => e.op), ['aggregate', 'aggregate'], 'one edge per distinct source');
});

t.test('an anonymised output follows its source upward: a later reclassification raises it, still capped at INTERNAL', async (t) => {
  const { lin, dir } = await store(t, { identityTtlMs: 0 });
  const tree = new Tree(dir);
  const a = tree.file('pub/a.csv', 'a');
  const p = sleeper(t);
  lin.recordRead(p.pid!, a, cls('PUBLIC', ['OPEN_DATA']));
  const out = tree.file('export/a.anon.csv', 'x', 'export');
  lin.recordDerivation([a], out, 'anonymize', DAEMON);
  t.match(lin.inherited(out), { tier: 'PUBLIC', tags: ['DERIVED_FROM_OPEN_DATA'] });
  lin.recordRead(p.pid!, a, cls('PROPRIETARY', ['PII']));
  t.match(lin.inherited(out), { tier: 'INTERNAL', tags: ['DERIVED_FROM_OPEN_DATA', 'DERIVED_FROM_PII'] });
});
