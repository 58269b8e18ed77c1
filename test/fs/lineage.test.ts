// Lineage through a real mount: what a process read taints what it writes, derived files
// inherit the maximum tier and the union of tags, copies are recognised, rename keeps
// lineage, and a derived file is blocked from a zone that forbids its inherited tier even
// when its own content scans PUBLIC.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { CUSTOMERS_CSV, PUBLIC_TEXT, startDaemon } from '../helpers/daemon.js';

const FINANCE = 'Quarterly revenue summary. CONFIDENTIAL - internal use only. Do not distribute.\nRegion totals follow.\n';

t.test('lineage through the mount', async (t) => {
  const h = await startDaemon(t, { files: { 'crm/customers.csv': CUSTOMERS_CSV, 'pub/notes.txt': PUBLIC_TEXT, 'fin/summary.txt': FINANCE } });
  const g = h.governed;
  const tier = (p: string) => h.sh(`getfattr --only-values -n user.lacuna.tier ${p}`).stdout;
  const tags = (p: string) => h.sh(`getfattr --only-values -n user.lacuna.tags ${p}`).stdout.split(',').filter(Boolean);
  const lineage = (p: string, ...extra: string[]) => {
    const r = h.cli(['lineage', p, '--state-dir', h.state, '--json', ...extra]);
    return { status: r.status, graph: r.status === 0 ? JSON.parse(r.stdout) : null, stderr: r.stderr };
  };
  /** The store is written in batches off the hot path: wait until the CLI sees an edge. */
  const eventually = async (p: string, test: (g: { upstream: { edges: unknown[] } }) => boolean) => {
    for (let i = 0; i < 50; i++) {
      const l = lineage(p);
      if (l.graph && test(l.graph)) return l.graph;
      await new Promise((r) => setTimeout(r, 100));
    }
    return lineage(p).graph;
  };

  t.test('a python report derived from a PROPRIETARY CSV is PROPRIETARY with its tags', async (t) => {
    const r = h.sh(`python3 -c "
import csv
rows = list(csv.DictReader(open('${g}/crm/customers.csv')))
open('${g}/reports/count.txt', 'w').write('customers: %d\\n' % len(rows))"`, {});
    t.not(r.status, 0, 'reports/ does not exist yet');
    fs.mkdirSync(path.join(h.data, 'reports'), { mode: 0o777 });
    const ok = h.sh(`python3 -c "
import csv
rows = list(csv.DictReader(open('${g}/crm/customers.csv')))
open('${g}/reports/count.txt', 'w').write('customers: %d\\n' % len(rows))"`);
    t.equal(ok.status, 0, ok.stderr);
    t.equal(fs.readFileSync(path.join(h.data, 'reports/count.txt'), 'utf8'), 'customers: 3\n', 'content alone is PUBLIC');
    t.equal(tier(`${g}/reports/count.txt`), 'PROPRIETARY', 'inherited from the CSV');
    t.ok(tags(`${g}/crm/customers.csv`).every((x) => tags(`${g}/reports/count.txt`).includes(x)), 'with the source tags');
    const graph = await eventually(`${g}/reports/count.txt`, (x) => x.upstream.edges.length > 0);
    t.ok(graph, 'lineage has the report');
    const edge = (graph.upstream.edges as Array<{ from: string; to: string; op: string; program: string }>)[0]!;
    t.match(JSON.stringify(graph.upstream), /customers\.csv/);
    t.match(edge.program, /python3/);
  });

  t.test('cat a b > c takes the maximum tier and the union of tags', async (t) => {
    const r = h.sh(`cat ${g}/pub/notes.txt ${g}/fin/summary.txt > ${g}/reports/combined.txt`);
    t.equal(r.status, 0, r.stderr);
    const finTier = tier(`${g}/fin/summary.txt`);
    t.not(finTier, 'PUBLIC', 'the summary is at least INTERNAL');
    t.equal(tier(`${g}/reports/combined.txt`), finTier);
    const mixed = h.sh(`cat ${g}/pub/notes.txt ${g}/crm/customers.csv > ${g}/reports/mixed.txt`);
    t.equal(mixed.status, 0);
    t.equal(tier(`${g}/reports/mixed.txt`), 'PROPRIETARY', 'PUBLIC + PROPRIETARY → PROPRIETARY');
  });

  t.test('cp is recognised as a copy and keeps tier and tags; rename keeps lineage', async (t) => {
    t.equal(h.sh(`cp ${g}/crm/customers.csv ${g}/reports/copy.csv`).status, 0);
    t.same(tags(`${g}/reports/copy.csv`).sort(), tags(`${g}/crm/customers.csv`).sort());
    t.equal(h.sh(`mv ${g}/reports/copy.csv ${g}/reports/renamed.csv`).status, 0);
    t.equal(tier(`${g}/reports/renamed.csv`), 'PROPRIETARY');
    const graph = await eventually(`${g}/reports/renamed.csv`, (x) => x.upstream.edges.length > 0);
    t.match(JSON.stringify(graph), /customers\.csv/, 'the renamed file still traces back to the CSV');
  });

  t.test('a derived file is blocked from the unmanaged zone although its content scans PUBLIC', async (t) => {
    const r = h.sh(`cp ${g}/reports/count.txt ${h.exportMnt}/count.txt`);
    t.not(r.status, 0);
    t.notOk(fs.existsSync(path.join(h.exportSrc, 'count.txt')));
    const why = JSON.parse(h.cli(['why', '--config', h.config, '--json', '--last', '1']).stdout)[0];
    t.equal(why.tier, 'PROPRIETARY');
  });

  t.test('impact lists everything downstream of the CSV with its tier', async (t) => {
    const r = h.cli(['impact', `${g}/crm/customers.csv`, '--state-dir', h.state, '--json']);
    t.equal(r.status, 0, r.stderr);
    const impact = JSON.parse(r.stdout) as { affected: Array<{ path: string; tier: string }> };
    const paths = impact.affected.map((a) => a.path);
    t.ok(paths.some((p) => p.endsWith('count.txt')), paths.join(' '));
    t.ok(paths.some((p) => p.endsWith('mixed.txt')));
  });

  // The native side tells JavaScript about a write only when the writer or the read epoch
  // changed since the handle's last write; the opener's own writes are known at release.
  t.test('a writer that reads a PROPRIETARY file after opening its output still taints it', async (t) => {
    const r = h.sh(`python3 -c "
out = open('${g}/reports/late.txt', 'w')
out.write('header\\n'); out.flush()
rows = open('${g}/crm/customers.csv').read().count(chr(10))
out.write('rows: %d\\n' % rows); out.close()"`);
    t.equal(r.status, 0, r.stderr);
    t.equal(tier(`${g}/reports/late.txt`), 'PROPRIETARY', 'the write after the read carries the taint');
  });

  t.test('a file rewritten through the descriptor that opened it is classified anew', async (t) => {
    fs.writeFileSync(path.join(h.data, 'pub/edit.txt'), PUBLIC_TEXT);
    t.equal(tier(`${g}/pub/edit.txt`), 'PUBLIC');
    const r = h.sh(`python3 -c "
f = open('${g}/pub/edit.txt', 'a')
f.write('name,ssn\\nZed,536-22-8147\\nYan,412-70-3391\\n'); f.close()"`);
    t.equal(r.status, 0, r.stderr);
    t.equal(tier(`${g}/pub/edit.txt`), 'PROPRIETARY', 'no stale PUBLIC result after the rewrite');
  });
});
