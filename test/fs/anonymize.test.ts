// The "anonymise" alternative, end to end through the daemon: the blocked customer list is
// anonymised into the governed workspace, the output holds no identifier, joins survive,
// lineage records it as an anonymised derivative, and the policy then lets it out.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { CUSTOMERS_CSV, startDaemon } from '../helpers/daemon.js';

t.test('anonymize through the daemon', async (t) => {
  const h = await startDaemon(t, { files: { 'crm/customers.csv': CUSTOMERS_CSV, 'crm/orders.csv': 'order_id,email,total\n77,alice.martin@example.com,12.50\n' } });
  fs.mkdirSync(path.join(h.data, 'work'), { mode: 0o777 });
  const src = `${h.governed}/crm/customers.csv`;
  t.not(h.sh(`cp ${src} ${h.exportMnt}/`).status, 0, 'the raw list may not leave');

  const r = h.cli(['anonymize', src, `${h.governed}/work/customers.csv`, '--config', h.config, '--json']);
  t.equal(r.status, 0, r.stderr);
  const res = JSON.parse(r.stdout);
  t.ok(res.replaced.length > 0, 'identifiers were replaced');
  const out = fs.readFileSync(path.join(h.data, 'work/customers.csv'), 'utf8');
  for (const raw of ['536-22-8147', '412-70-3391', 'alice.martin@example.com', '4111111111111111']) t.notOk(out.includes(raw), `no ${raw} in the output`);
  t.equal(out.split('\n')[0], CUSTOMERS_CSV.split('\n')[0], 'the header is kept');

  const r2 = h.cli(['anonymize', `${h.governed}/crm/orders.csv`, `${h.governed}/work/orders.csv`, '--config', h.config, '--json']);
  t.equal(r2.status, 0, r2.stderr);
  const orders = fs.readFileSync(path.join(h.data, 'work/orders.csv'), 'utf8');
  const token = orders.split('\n')[1]!.split(',')[1]!;
  t.ok(out.includes(token), 'the same email gets the same pseudonym in both files, so they still join');

  const graph = JSON.parse(h.cli(['lineage', `${h.governed}/work/customers.csv`, '--state-dir', h.state, '--json', '--upstream']).stdout);
  t.match(JSON.stringify(graph), /anonymize/, 'lineage records the anonymised derivation');
  const tier = h.sh(`getfattr --only-values -n user.lacuna.tier ${h.governed}/work/customers.csv`).stdout;
  t.not(tier, 'PROPRIETARY', 'the derivative is no longer PROPRIETARY');
  const tags = h.sh(`getfattr --only-values -n user.lacuna.tags ${h.governed}/work/customers.csv`).stdout;
  t.match(tags, /DERIVED_FROM_PII/, 'and keeps its provenance');

  const cp = h.sh(`cp ${h.governed}/work/customers.csv ${h.exportMnt}/customers-anon.csv`);
  t.equal(cp.status, 0, `the anonymised copy may leave: ${cp.stderr} ${h.cli(['why', '--config', h.config, '--last', '1']).stdout}`);
  t.equal(fs.readFileSync(path.join(h.exportSrc, 'customers-anon.csv'), 'utf8'), out);

  const exists = h.cli(['anonymize', src, `${h.governed}/work/customers.csv`, '--config', h.config]);
  t.not(exists.status, 0, 'an existing output is not overwritten without --force');
});
