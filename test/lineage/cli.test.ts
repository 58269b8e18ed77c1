import t from 'tap';
import { register, parseSince, renderTree } from '../../src/cli/commands/lineage.js';
import { EXIT } from '../../src/cli/exit-codes.js';
import { runCli, type CliRun } from '../helpers/cli.js';
import { openLineage } from '../../src/lineage/index.js';
import { cls, META, sleeper, tempDir, Tree } from './fixtures/helpers.js';

/** Runs `lacuna-fs ...args` through register(), capturing stdout; returns exit code as main() would. */
async function cli(args: string[]): Promise<CliRun> {
  return runCli(register, args);
}

/** A state dir with a → b (python3) → c (sh), written by a daemon-like writer that stays open. */
async function fixture(t: Tap.Test) {
  const dir = tempDir(t);
  const tree = new Tree(dir);
  const lin = await openLineage(`${dir}/state/lineage`, { identityTtlMs: 0 });
  t.teardown(() => lin.close());
  const p1 = sleeper(t);
  lin.recordRead(p1.pid!, tree.file('crm/a.csv', 'a'), cls('PROPRIETARY', ['PII']));
  lin.recordWrite(p1.pid!, tree.file('workspace/b.txt', 'b'), 'create', META);
  const p2 = sleeper(t);
  lin.recordRead(p2.pid!, tree.ref('workspace/b.txt'), cls('PUBLIC'));
  lin.recordWrite(p2.pid!, tree.file('workspace/c.txt', 'c'), 'create', { program: '/bin/sh', uid: 1001, user: 'bob' });
  await lin.flush();
  return { state: `${dir}/state`, lin, tree };
}
type Tap = { Test: Parameters<Parameters<typeof t.test>[1]>[0] };

t.test('lineage PATH prints upstream and downstream trees while the writer holds the store', async (t) => {
  const { state } = await fixture(t);
  const r = await cli(['lineage', '/governed/workspace/b.txt', '--state-dir', state]);
  t.equal(r.code, 0, r.err);
  t.match(r.out, /^\/governed\/workspace\/b.txt {2}PROPRIETARY \[PII\] {2}\(content PUBLIC, inherited\)/);
  t.match(r.out, /upstream[^\n]*\n└── \/governed\/crm\/a.csv {2}PROPRIETARY \[PII\]\n +→ create by \/usr\/bin\/python3 \(ana, pid \d+\) at 20/);
  t.match(r.out, /downstream[^\n]*\n└── \/governed\/workspace\/c.txt {2}PROPRIETARY \[PII\]\n +← create by \/bin\/sh \(bob/);
});

t.test('lineage --upstream --json gives nodes and edges with operation, program, user and time', async (t) => {
  const { state } = await fixture(t);
  const r = await cli(['lineage', '/governed/workspace/c.txt', '--upstream', '--json', '--state-dir', state]);
  t.equal(r.code, 0, r.err);
  const doc = JSON.parse(r.out);
  t.equal(doc.downstream, undefined);
  t.same(doc.upstream.nodes.map((n: { path: string }) => n.path), ['/governed/workspace/c.txt', '/governed/workspace/b.txt', '/governed/crm/a.csv']);
  t.match(doc.upstream.edges[0], { op: 'create', program: '/bin/sh', user: 'bob', time: /^\d{4}-/ });
  const r1 = await cli(['lineage', '/governed/workspace/c.txt', '--upstream', '--depth', '1', '--json', '--state-dir', state]);
  const d1 = JSON.parse(r1.out);
  t.equal(d1.upstream.nodes.length, 2);
  t.equal(d1.upstream.truncated, true);
});

t.test('impact lists everything downstream with its current tier; --json too', async (t) => {
  const { state } = await fixture(t);
  const r = await cli(['impact', '/governed/crm/a.csv', '--state-dir', state]);
  t.equal(r.code, 0, r.err);
  t.match(r.out, /2 files downstream/);
  t.match(r.out, /1 {2}PROPRIETARY +PII +\/governed\/workspace\/b.txt/);
  const j = JSON.parse((await cli(['impact', '/governed/crm/a.csv', '--json', '--state-dir', state])).out);
  t.same(j.affected.map((a: { path: string; distance: number }) => [a.path, a.distance]), [
    ['/governed/workspace/b.txt', 1],
    ['/governed/workspace/c.txt', 2],
  ]);
});

t.test('a source path finds the same node as its mount path', async (t) => {
  const { state, tree } = await fixture(t);
  const r = await cli(['impact', `${tree.src}/crm/a.csv`, '--json', '--state-dir', state]);
  t.equal(r.code, 0, r.err);
  t.equal(JSON.parse(r.out).path, '/governed/crm/a.csv');
});

t.test('exit codes: unknown path 1, missing store 1, bad flags 2', async (t) => {
  const { state } = await fixture(t);
  t.equal((await cli(['lineage', '/governed/nope', '--state-dir', state])).code, EXIT.FAILED);
  t.equal((await cli(['impact', '/governed/nope', '--state-dir', state])).code, EXIT.FAILED);
  const empty = tempDir(t);
  const r = await cli(['lineage', '/x', '--state-dir', empty]);
  t.equal(r.code, EXIT.FAILED);
  t.match(r.err, /no lineage store/);
  t.equal((await cli(['lineage', '/x', '--depth', '0', '--state-dir', state])).code, EXIT.USAGE);
  t.equal((await cli(['lineage', '/x', '--upstream', '--downstream', '--state-dir', state])).code, EXIT.USAGE);
  t.equal((await cli(['lineage', 'export', '--format', 'csv', '--state-dir', state])).code, EXIT.USAGE);
  t.equal((await cli(['lineage', 'export', '--format', 'openlineage', '--since', 'yesterday', '--state-dir', state])).code, EXIT.USAGE);
});

t.test('lineage export writes one OpenLineage event per line; --since filters by time', async (t) => {
  const { state } = await fixture(t);
  const r = await cli(['lineage', 'export', '--format', 'openlineage', '--state-dir', state]);
  t.equal(r.code, 0, r.err);
  const events = r.out.trim().split('\n').map((l) => JSON.parse(l));
  t.equal(events.length, 2);
  t.same(events.map((e) => e.eventType), ['START', 'START']);
  t.same(events.map((e) => e.outputs[0].name), ['/governed/workspace/b.txt', '/governed/workspace/c.txt']);
  const later = await cli(['lineage', 'export', '--format', 'openlineage', '--since', new Date(Date.now() + 60_000).toISOString(), '--state-dir', state]);
  t.equal(later.out, '');
});

t.test('lineage check reports a consistent store', async (t) => {
  const { state } = await fixture(t);
  const r = await cli(['lineage', 'check', '--json', '--state-dir', state]);
  t.equal(r.code, 0, r.err);
  t.match(JSON.parse(r.out), { nodes: 3, edges: 2, problems: [] });
});

t.test('--since accepts ISO times and spans back from now', async (t) => {
  const now = Date.parse('2026-11-23T12:00:00Z');
  t.equal(parseSince('2026-11-01T00:00:00Z', now).toISOString(), '2026-11-01T00:00:00.000Z');
  t.equal(parseSince('12h', now).toISOString(), '2026-11-23T00:00:00.000Z');
  t.equal(parseSince('7d', now).toISOString(), '2026-11-16T12:00:00.000Z');
  t.throws(() => parseSince('soon', now), { exitCode: EXIT.USAGE });
});

t.test('a diamond is printed once per node, later mentions refer back', async (t) => {
  const node = (id: number, path: string) => ({ id, path, sourcePath: path, mount: '/g', zone: 'g', tier: 'PUBLIC' as const, tags: [] });
  const edge = (from: number, to: number) => ({ from, to, op: 'write' as const, ops: ['write' as const], program: 'p', user: 'u', uid: 1, pid: 2, time: 't', last: 't', count: 1 });
  const text = renderTree({
    root: 1,
    direction: 'upstream',
    nodes: [node(1, '/d'), node(2, '/b'), node(3, '/c'), node(4, '/a')],
    edges: [edge(2, 1), edge(3, 1), edge(4, 2), edge(4, 3)],
    truncated: false,
  });
  t.equal(text.match(/\/a {2}PUBLIC/g)?.length, 1);
  t.match(text, /\/a {2}\(see above\)/);
});
