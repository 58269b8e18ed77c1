import { readdirSync, readFileSync, renameSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import t from 'tap';
import { cls, exited, META, sleeper, store, Tree } from './fixtures/helpers.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const specDir = resolve(repoRoot, '../shared/openlineage-spec');
const ourFacets = join(repoRoot, 'src/lineage/facets');

/** One validator with the OpenLineage schema, every facet schema of the spec folder, and ours, under their $ids. */
function validator() {
  const ajv = new (Ajv2020 as unknown as typeof Ajv2020.default)({ strict: false, allErrors: true });
  (addFormats as unknown as typeof addFormats.default)(ajv);
  const main = JSON.parse(readFileSync(join(specDir, 'OpenLineage.json'), 'utf8'));
  ajv.addSchema(main);
  const facetIds = new Map<string, string>();
  for (const dir of [join(specDir, 'facets'), ourFacets]) {
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.json'))) {
      const s = JSON.parse(readFileSync(join(dir, f), 'utf8'));
      ajv.addSchema(s);
      facetIds.set(f.replace(/\.json$/, ''), s.$id);
    }
  }
  const event = ajv.getSchema(main.$id)!;
  /** Validates a facet by its _schemaURL: `<file $id>#/$defs/<Name>`. */
  const facet = (f: { _schemaURL: string }) => {
    const v = ajv.getSchema(f._schemaURL);
    if (!v) return [`no schema registered for ${f._schemaURL}`];
    return v(f) ? [] : (v.errors ?? []).map((e) => `${f._schemaURL} ${e.instancePath} ${e.message}`);
  };
  return { event, facet };
}

function facetsOf(ev: Record<string, any>): Array<{ _schemaURL: string }> {
  const out: Array<{ _schemaURL: string }> = [];
  const add = (facets: Record<string, any> | undefined) => {
    for (const f of Object.values(facets ?? {})) out.push(f);
  };
  add(ev.run?.facets);
  add(ev.job?.facets);
  for (const d of [...(ev.inputs ?? []), ...(ev.outputs ?? []), ...(ev.dataset ? [ev.dataset] : [])]) add(d.facets);
  return out;
}

t.test('every exported event validates against the OpenLineage schema, and every facet against its own', async (t) => {
  const { lin, dir } = await store(t, { identityTtlMs: 0, pruneMs: 20 });
  const tree = new Tree(dir);
  const p = sleeper(t);
  lin.recordRead(p.pid!, tree.file('crm/a.csv', 'a'), cls('PROPRIETARY', ['PII']));
  lin.recordRead(p.pid!, tree.file('pub/b.csv', 'b'), cls('PUBLIC'));
  const r = tree.file('workspace/r.tmp', 'r');
  lin.recordWrite(p.pid!, r, 'create', META);
  lin.recordWrite(p.pid!, r, 'write', META);
  renameSync(`${tree.src}/workspace/r.tmp`, `${tree.src}/workspace/r.csv`);
  lin.recordRename(r, tree.ref('workspace/r.csv'), META);
  const agg = tree.file('workspace/agg.csv', 'n');
  lin.recordWrite(p.pid!, agg, 'truncate', META);
  lin.markAggregate(agg);
  lin.recordUnlink(tree.ref('pub/b.csv'));
  p.kill('SIGKILL');
  await exited(p);
  await new Promise((res) => setTimeout(res, 100)); // the prune timer closes the run
  const events: Array<Record<string, any>> = [];
  for await (const e of lin.exportOpenLineage()) events.push(e as Record<string, any>);

  const { event, facet } = validator();
  t.ok(events.length >= 5, `${events.length} events`);
  for (const ev of events) {
    t.ok(event(ev), `${ev.eventType ?? 'DatasetEvent'} valid: ${JSON.stringify(event.errors)}`);
    for (const f of facetsOf(ev)) t.same(facet(f), [], `facet ${f._schemaURL}`);
  }
  t.same(events.map((e) => e.eventType ?? 'DATASET'), ['START', 'RUNNING', 'COMPLETE', 'RUNNING', 'DATASET', 'COMPLETE']);
  const [start, write, rename, trunc, drop, end] = events;
  t.equal(start!.schemaURL, 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent');
  t.same(start!.inputs.map((d: any) => d.name).sort(), ['/governed/crm/a.csv', '/governed/pub/b.csv']);
  t.equal(start!.outputs[0].name, '/governed/workspace/r.csv', 'datasets are named by their current path');
  t.match(start!.outputs[0].facets.lacuna_classification, { tier: 'PROPRIETARY', tags: ['PII'], zone: 'workspace', inherited: { rule: 'derived', sources: ['/governed/crm/a.csv', '/governed/pub/b.csv'] } });
  t.same(start!.outputs[0].facets.tags.tags[0], { key: 'lacuna.tier', value: 'PROPRIETARY', source: 'LACUNA_FS' });
  t.equal(start!.outputs[0].facets.lifecycleStateChange.lifecycleStateChange, 'CREATE');
  t.equal(write!.run.runId, start!.run.runId, 'one run per process');
  t.match(start!.run.facets.lacuna_process, { pid: p.pid, program: META.program, user: 'ana' });
  t.match(rename!.outputs[0].facets.lifecycleStateChange, { lifecycleStateChange: 'RENAME', previousIdentifier: { name: '/governed/workspace/r.tmp' } });
  t.match(trunc!.outputs[0].facets.lacuna_classification, { tier: 'INTERNAL', tags: ['DERIVED_FROM_PII'], inherited: { rule: 'aggregate' } });
  t.equal(drop!.dataset.facets.lifecycleStateChange.lifecycleStateChange, 'DROP');
  t.equal(drop!.schemaURL, 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent');
  t.equal(end!.run.runId, start!.run.runId, 'the run completes when the process ends');

  const since = new Date(Date.parse(trunc!.eventTime));
  const tail: Array<Record<string, any>> = [];
  for await (const e of lin.exportOpenLineage({ since })) tail.push(e as Record<string, any>);
  t.ok(tail.length >= 3 && tail.length < events.length, `--since keeps ${tail.length} of ${events.length}`);
  t.ok(tail.every((e) => e.eventTime >= trunc!.eventTime));
});

t.test('a copy found by fingerprints is exported as a one-event run from copy detection', async (t) => {
  const { lin, dir } = await store(t, { identityTtlMs: 0 });
  const tree = new Tree(dir);
  const text = 'id,email\n' + Array.from({ length: 500 }, (_, i) => `${i},u${i}@example.com`).join('\n');
  const a = tree.file('crm/a.csv', text);
  const p = sleeper(t);
  lin.recordRead(p.pid!, a, cls('PROPRIETARY', ['PII']));
  await lin.flush();
  const c = tree.file('export/c.csv', text, 'export');
  lin.observeContent(c, 0, Buffer.from(text), 'write');
  await lin.flush();
  const events: Array<Record<string, any>> = [];
  for await (const e of lin.exportOpenLineage()) events.push(e as Record<string, any>);
  const { event } = validator();
  t.equal(events.length, 1);
  t.ok(event(events[0]), JSON.stringify(event.errors));
  t.equal(events[0]!.eventType, 'COMPLETE');
  t.equal(events[0]!.job.facets.jobType.jobType, 'COPY_DETECTION');
  t.match(events[0]!.outputs[0].facets.lacuna_classification, { tier: 'PROPRIETARY', inherited: { rule: 'copy', sources: ['/governed/crm/a.csv'] } });
});

t.test('the validator used above does reject malformed events and facets', async (t) => {
  const { event, facet } = validator();
  t.notOk(event({ eventTime: 'now', producer: 'x', schemaURL: 'y', run: { runId: 'not-a-uuid' }, job: { namespace: 'n', name: 'j' } }));
  t.not(facet({ _schemaURL: 'https://lacuna-fs.dev/spec/facets/1-0-0/LacunaClassificationDatasetFacet.json#/$defs/LacunaClassificationDatasetFacet', _producer: 'https://x', tier: 'SECRET', tags: [] } as never).length, 0);
});

t.test('a copy made by a process that never read through a mount is exported as that process\'s run', async (t) => {
  const { lin, dir } = await store(t, { identityTtlMs: 0, pruneMs: 20 });
  const tree = new Tree(dir);
  const text = 'id,email\n' + Array.from({ length: 500 }, (_, i) => `${i},u${i}@example.com`).join('\n');
  const a = tree.file('crm/a.csv', text);
  const reader = sleeper(t);
  lin.recordRead(reader.pid!, a, cls('PROPRIETARY', ['PII']));
  await lin.flush();
  const cp = sleeper(t); // stands for `cp`, fed from a pipe: it read nothing through the mount
  const c = tree.file('export/c.csv', text, 'export');
  lin.recordWrite(cp.pid!, c, 'create', { program: '/bin/cp', uid: 1000, user: 'ana' });
  lin.observeContent(c, 0, Buffer.from(text), 'write');
  await lin.flush();
  t.match(lin.upstream('/governed/export/c.csv').edges[0], { op: 'copy', program: '/bin/cp', user: 'ana', pid: cp.pid });
  cp.kill('SIGKILL');
  await exited(cp);
  await new Promise((r) => setTimeout(r, 100));
  const events: Array<Record<string, any>> = [];
  for await (const e of lin.exportOpenLineage()) events.push(e as Record<string, any>);
  const { event } = validator();
  for (const e of events) t.ok(event(e), JSON.stringify(event.errors));
  t.same(events.map((e) => [e.eventType, e.job.name]), [
    ['START', '/bin/cp'],
    ['COMPLETE', '/bin/cp'],
  ]);
  t.equal(events[0]!.inputs[0].name, '/governed/crm/a.csv');
  t.equal(events[1]!.run.runId, events[0]!.run.runId);
});

t.test('an anonymised copy the daemon made is exported as a run of the daemon with the source as input', async (t) => {
  const { lin, dir } = await store(t, { identityTtlMs: 0 });
  const tree = new Tree(dir);
  const a = tree.file('crm/a.csv', 'id,email\n');
  const p = sleeper(t);
  lin.recordRead(p.pid!, a, cls('PROPRIETARY', ['PII']));
  const out = tree.file('export/a.anon.csv', 'id,email\n', 'export');
  lin.recordDerivation([a], out, 'anonymize', { program: 'lacuna-fs anonymize', uid: 0, user: 'root' });
  const events: Array<Record<string, any>> = [];
  for await (const e of lin.exportOpenLineage()) events.push(e as Record<string, any>);
  const { event, facet } = validator();
  t.equal(events.length, 1);
  t.ok(event(events[0]), JSON.stringify(event.errors));
  for (const f of facetsOf(events[0]!)) t.same(facet(f), [], `facet ${f._schemaURL}`);
  t.match(events[0], { eventType: 'START', job: { name: 'lacuna-fs anonymize' } });
  t.match(events[0]!.run.facets.lacuna_process, { pid: process.pid, program: 'lacuna-fs anonymize', user: 'root' });
  t.same(events[0]!.inputs.map((d: any) => d.name), ['/governed/crm/a.csv']);
  t.match(events[0]!.outputs[0], {
    name: '/governed/export/a.anon.csv',
    facets: { lacuna_classification: { tier: 'INTERNAL', tags: ['DERIVED_FROM_PII'], inherited: { rule: 'aggregate', sources: ['/governed/crm/a.csv'] } } },
  });
});
