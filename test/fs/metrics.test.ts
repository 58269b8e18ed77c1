// Status and Prometheus metrics reflect real counts after a scripted workload: every
// op is counted (also the ones served natively), decisions by result and policy, and a
// structured journal line is logged for each denial.
import t from 'tap';
import { CUSTOMERS_CSV, PUBLIC_TEXT, startDaemon } from '../helpers/daemon.js';

function sample(text: string, name: string, labels: Record<string, string>): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text.split('\n').find((l) => (l.startsWith(name + '{') || l.startsWith(name + ' ')) && want.every((w) => l.includes(w)));
  return line ? Number(line.split(' ').at(-1)) : NaN;
}

t.test('metrics and status after a workload', async (t) => {
  const h = await startDaemon(t, { files: { 'crm/customers.csv': CUSTOMERS_CSV, 'pub.txt': PUBLIC_TEXT } });
  const allowed = 7;
  const denied = 3;
  for (let i = 0; i < allowed; i++) t.equal(h.sh(`cp ${h.governed}/pub.txt ${h.exportMnt}/pub${i}.txt`).status, 0);
  for (let i = 0; i < denied; i++) t.not(h.sh(`cp ${h.governed}/crm/customers.csv ${h.exportMnt}/c${i}.csv`).status, 0);
  for (let i = 0; i < 20; i++) h.sh(`stat ${h.governed}/pub.txt > /dev/null`);

  const m = h.cli(['metrics', '--config', h.config]);
  t.equal(m.status, 0, m.stderr);
  const text = m.stdout;
  t.match(text, /# TYPE lacuna_fs_op_duration_seconds histogram/);
  t.equal(sample(text, 'lacuna_fs_decisions_total', { result: 'deny' }), denied, 'denials by policy');
  t.ok(sample(text, 'lacuna_fs_op_duration_seconds_count', { mount: 'export', op: 'create' }) >= allowed + denied);
  t.equal(sample(text, 'lacuna_fs_op_errors_total', { mount: 'export', op: 'create' }), denied, 'each denial is a failed create');
  t.ok(sample(text, 'lacuna_fs_op_duration_seconds_count', { mount: 'data', op: 'getattr' }) >= 20, 'native getattr counted');
  t.equal(sample(text, 'lacuna_fs_op_duration_seconds_bucket', { mount: 'export', op: 'create', le: '+Inf' }), sample(text, 'lacuna_fs_op_duration_seconds_count', { mount: 'export', op: 'create' }));
  t.ok(sample(text, 'lacuna_fs_classifications_total', { mount: 'data', tier: 'PROPRIETARY' }) >= denied);
  t.ok(sample(text, 'lacuna_fs_audit_head_seq', {}) > allowed + denied);
  t.ok(sample(text, 'lacuna_fs_written_bytes_total', { mount: 'export' }) >= allowed * PUBLIC_TEXT.length);

  const s = JSON.parse(h.cli(['status', '--config', h.config, '--json']).stdout);
  t.equal(s.decisions.denies, denied);
  t.equal(s.last_denials.length, denied);
  const human = h.cli(['status', '--config', h.config]).stdout;
  t.match(human, /DECISIONS \d+ total: \d+ allowed, 3 denied/);

  await h.stop();
  const journal = h.stderr().split('\n').filter((l) => l.includes('"event":"denied"'));
  t.equal(journal.length, denied, 'one structured log line per denial');
  const entry = JSON.parse(journal[0]!);
  t.match(entry, { level: 40, event: 'denied', action: 'create', zone: 'unmanaged', tier: 'PROPRIETARY' });
  t.notMatch(journal.join('\n'), /536-22-8147/, 'the log never carries content');
});
