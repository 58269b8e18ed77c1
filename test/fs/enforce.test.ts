// Enforcement through a real mount: unsafe copies of PROPRIETARY data into an unmanaged
// zone fail with EACCES and leave nothing behind, whichever program tries; safe copies
// pass; monitor mode audits but never blocks.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { CUSTOMERS_CSV, PUBLIC_TEXT, startDaemon } from '../helpers/daemon.js';

const files = { 'crm/customers.csv': CUSTOMERS_CSV, 'docs/release-notes.txt': PUBLIC_TEXT };

t.test('enforce mode', async (t) => {
  const h = await startDaemon(t, { files });
  const src = path.join(h.governed, 'crm/customers.csv');
  const left = () => fs.readdirSync(h.exportSrc);

  t.test('a PUBLIC file copies into the unmanaged zone unchanged', async (t) => {
    const r = h.sh(`cp ${h.governed}/docs/release-notes.txt ${h.exportMnt}/notes.txt`);
    t.equal(r.status, 0, r.stderr);
    t.equal(fs.readFileSync(path.join(h.exportSrc, 'notes.txt'), 'utf8'), PUBLIC_TEXT);
  });

  t.test('cp of a PROPRIETARY file into the unmanaged zone fails with EACCES and leaves no file', async (t) => {
    const r = h.sh(`cp ${src} ${h.exportMnt}/customers.csv`);
    t.not(r.status, 0);
    t.match(r.stderr, /Permission denied/);
    t.notOk(fs.existsSync(path.join(h.exportSrc, 'customers.csv')), 'no file at the destination');
  });

  t.test('cat > dest of a PROPRIETARY file is refused and the created file removed', async (t) => {
    const r = h.sh(`cat ${src} > ${h.exportMnt}/cat.csv`);
    t.not(r.status, 0);
    t.notOk(fs.existsSync(path.join(h.exportSrc, 'cat.csv')), 'no partial file');
  });

  t.test('python3 shutil.copy of a PROPRIETARY file is refused', async (t) => {
    const r = h.sh(`python3 -c "import shutil; shutil.copy('${src}', '${h.exportMnt}/py.csv')"`);
    t.not(r.status, 0);
    t.match(r.stderr, /PermissionError: \[Errno 13\]/);
    t.notOk(fs.existsSync(path.join(h.exportSrc, 'py.csv')));
  });

  t.test('mv across mounts is refused and the source stays in place', async (t) => {
    const r = h.sh(`mv ${src} ${h.exportMnt}/`);
    t.not(r.status, 0);
    t.ok(fs.existsSync(path.join(h.data, 'crm/customers.csv')), 'source still there');
    t.notOk(fs.existsSync(path.join(h.exportSrc, 'customers.csv')));
  });

  t.test('a child process of the reader inherits its taint', async (t) => {
    const script = `import subprocess; open('${src}').read(); subprocess.run(['sh', '-c', 'echo summary > ${h.exportMnt}/child.txt'], check=True)`;
    const r = h.sh(`python3 -c "${script}"`);
    t.not(r.status, 0);
    t.notOk(fs.existsSync(path.join(h.exportSrc, 'child.txt')));
  });

  t.test('content that scans as PII is refused even from an untainted writer', async (t) => {
    const r = h.sh(`printf 'name,ssn\\nZed,536-22-8147\\nYan,412-70-3391\\n' > ${h.exportMnt}/typed.csv`);
    t.not(r.status, 0);
    t.notOk(fs.existsSync(path.join(h.exportSrc, 'typed.csv')));
  });

  t.test('copies inside the governed zone are allowed', async (t) => {
    const r = h.sh(`cp ${src} ${h.governed}/crm/customers-copy.csv`);
    t.equal(r.status, 0, r.stderr);
    t.equal(fs.readFileSync(path.join(h.data, 'crm/customers-copy.csv'), 'utf8'), CUSTOMERS_CSV);
  });

  t.test('the blocked user can read why, with the policy and how to proceed', async (t) => {
    const why = fs.readFileSync(path.join(h.governed, '.lacuna/why'), 'utf8');
    t.match(why, /DENIED: cp/);
    t.match(why, /customers\.csv/);
    t.match(why, /request an exception: lacuna-fs exception request --path/);
    t.notMatch(why, /536-22-8147/, 'never echoes sensitive content');
    const cli = h.cli(['why', '--config', h.config, '--json', '--last', '50']);
    t.equal(cli.status, 0, cli.stderr);
    const list = JSON.parse(cli.stdout) as Array<{ policy_id: string; path: string }>;
    t.ok(list.length >= 5);
    t.ok(list.every((d) => d.policy_id && d.path));
  });

  t.test('classification is visible as read-only extended attributes', async (t) => {
    const r = h.sh(`getfattr --only-values -n user.lacuna.tier ${src}`);
    t.equal(r.stdout, 'PROPRIETARY');
    const w = h.sh(`setfattr -n user.lacuna.tier -v PUBLIC ${src}`);
    t.not(w.status, 0, 'users cannot rewrite the tier');
  });

  t.test('explain predicts the decision of a copy before it is tried', async (t) => {
    const deny = h.cli(['explain', '--config', h.config, '--from', src, '--to', `${h.exportMnt}/x.csv`]);
    t.equal(deny.status, 1, 'a predicted denial exits 1');
    t.match(deny.stdout, /^DENIED: copy .*customers\.csv/);
    t.match(deny.stdout, /how to proceed:/);
    const ok = h.cli(['explain', '--config', h.config, '--from', `${h.governed}/docs/release-notes.txt`, '--to', `${h.exportMnt}/n.txt`, '--json']);
    t.equal(ok.status, 0, ok.stderr);
    const e = JSON.parse(ok.stdout);
    t.equal(e.decision.allow, true);
    t.equal(e.destination.zone, 'unmanaged');
    t.equal(e.lineage_consulted, true);
    const other = h.cli(['explain', '--config', h.config, '--from', src, '--to', `${h.exportMnt}/x.csv`, '--user', 'root'], { user: 'nobody' });
    t.equal(other.status, 4, 'explaining for someone else needs an admin');
  });

  t.test('status reports the decisions and denials that happened', async (t) => {
    const r = h.cli(['status', '--config', h.config, '--json']);
    t.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    t.equal(s.mode, 'enforce');
    t.equal(s.mounts.length, 2);
    t.ok(s.mounts.every((m: { healthy: boolean }) => m.healthy));
    t.ok(s.decisions.denies >= 5, `denies ${s.decisions.denies}`);
    t.ok(s.last_denials.length > 0);
    t.ok(s.audit.headSeq > 5);
  });

  t.teardown(() => void left);
});

t.test('monitor mode audits the same copy but lets it through', async (t) => {
  const h = await startDaemon(t, { files, mode: 'monitor' });
  const r = h.sh(`cp ${h.governed}/crm/customers.csv ${h.exportMnt}/customers.csv`);
  t.equal(r.status, 0, r.stderr);
  t.equal(fs.readFileSync(path.join(h.exportSrc, 'customers.csv'), 'utf8'), CUSTOMERS_CSV);
  const s = JSON.parse(h.cli(['status', '--config', h.config, '--json']).stdout);
  t.ok(s.decisions.monitored_denies >= 1, 'the would-be denial is counted');
  t.ok(s.last_denials.some((d: { monitored: boolean }) => d.monitored));
  await h.stop();
  const v = h.cli(['audit', 'verify', '--state-dir', h.state, '--json']);
  t.equal(v.status, 0, v.stdout + v.stderr);
  const q = h.cli(['audit', 'query', '--state-dir', h.state, '--decision', 'allow_monitor', '--json']);
  t.match(q.stdout, /allow_monitor/);
});

t.test('a declared purpose (LACUNA_PURPOSE) is checked against the purposes the data allows', async (t) => {
  const h = await startDaemon(t, { files });
  fs.mkdirSync(path.join(h.data, 'work'), { mode: 0o777 });
  const job = (purpose: string, out: string) =>
    h.sh(`LACUNA_PURPOSE=${purpose} python3 -c "open('${h.governed}/crm/customers.csv').read(); open('${h.governed}/work/${out}', 'w').write('summary')"`);
  const denied = job('marketing', 'm.txt');
  t.not(denied.status, 0, 'PII used for marketing is refused, even inside governed storage');
  t.notOk(fs.existsSync(path.join(h.data, 'work/m.txt')));
  const why = JSON.parse(h.cli(['why', '--config', h.config, '--json', '--last', '1']).stdout)[0];
  t.equal(why.policy_id, 'purpose-not-allowed');
  const allowed = job('billing', 'b.txt');
  t.equal(allowed.status, 0, `billing is a declared purpose of PII: ${allowed.stderr}`);
  t.ok(fs.existsSync(path.join(h.data, 'work/b.txt')));
});
