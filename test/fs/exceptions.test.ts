// Errors that teach and exceptions with approval and expiry, through a real mount and
// real users: a denial is explained to the user it blocked and to nobody else; an
// exception approved by a second person lets the same copy through until it expires;
// self-approval, non-admin stop and a broken policy reload are refused; all audited.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { CUSTOMERS_CSV, startDaemon } from '../helpers/daemon.js';

t.test('exceptions and feedback', async (t) => {
  const h = await startDaemon(t, {
    files: { 'crm/customers.csv': CUSTOMERS_CSV },
    extraYaml: 'approvers: { users: [daemon], groups: [] }',
  });
  const src = `${h.governed}/crm/customers.csv`;
  const dest = `${h.exportMnt}/customers.csv`;
  const copy = () => h.sh(`cp ${src} ${dest}`, { user: 'nobody' });
  const cli = (user: string, ...args: string[]) => h.cli([...args, '--config', h.config], { user });

  t.test('a denied cp is explained to that user and to nobody else', async (t) => {
    const r = copy();
    t.match(r.stderr, /Permission denied/);
    const mine = cli('nobody', 'why', '--json');
    t.equal(mine.status, 0, mine.stderr);
    const list = JSON.parse(mine.stdout) as Array<{ path: string; user: string }>;
    t.equal(list[0]?.path, dest);
    t.equal(list[0]?.user, 'nobody');
    const other = cli('daemon', 'why', '--json');
    t.same(JSON.parse(other.stdout), [], 'another user sees none of it');
    const file = h.sh(`cat ${h.governed}/.lacuna/why`, { user: 'nobody' }).stdout;
    t.match(file, /DENIED: cp/);
    t.equal(h.sh(`cat ${h.governed}/.lacuna/why`, { user: 'daemon' }).stdout, 'No recent denials for you.\n');
  });

  let id = '';
  t.test('a request cannot be approved by the requester', async (t) => {
    const r = cli('nobody', 'exception', 'request', '--path', src, '--dest', dest, '--justification', 'quarterly audit for the regulator', '--ttl', '4s', '--json');
    t.equal(r.status, 0, r.stderr);
    const rec = JSON.parse(r.stdout) as { id: string; state: string; requested_by: string };
    id = rec.id;
    t.equal(rec.state, 'pending');
    t.equal(rec.requested_by, 'nobody');
    const self = cli('nobody', 'exception', 'approve', id);
    t.equal(self.status, 4, 'nobody is not an approver');
    // Even an approver cannot approve their own request.
    const own = cli('daemon', 'exception', 'request', '--path', src, '--dest', dest, '--justification', 'my own request here');
    const ownId = /ex-[0-9a-f]+/.exec(own.stdout)?.[0] ?? '';
    const selfApprove = cli('daemon', 'exception', 'approve', ownId);
    t.equal(selfApprove.status, 4);
    t.match(selfApprove.stderr, /cannot approve it: a second person must/);
    t.equal(copy().status, 1, 'a pending exception allows nothing');
  });

  t.test('approved by a second person, the same copy succeeds, until it expires', async (t) => {
    const a = cli('daemon', 'exception', 'approve', id, '--json');
    t.equal(a.status, 0, a.stderr);
    t.equal(JSON.parse(a.stdout).approved_by, 'daemon');
    const ok = copy();
    t.equal(ok.status, 0, ok.stderr);
    t.equal(fs.readFileSync(path.join(h.exportSrc, 'customers.csv'), 'utf8'), CUSTOMERS_CSV);
    fs.unlinkSync(path.join(h.exportSrc, 'customers.csv'));
    await new Promise((r) => setTimeout(r, 4500));
    const again = copy();
    t.equal(again.status, 1, 'after expiry the copy fails again');
    t.notOk(fs.existsSync(path.join(h.exportSrc, 'customers.csv')));
    const list = JSON.parse(cli('daemon', 'exception', 'list', '--json').stdout) as Array<{ id: string; state: string }>;
    t.equal(list.find((x) => x.id === id)?.state, 'expired');
    const mine = JSON.parse(cli('nobody', 'exception', 'list', '--json').stdout) as Array<{ requested_by: string }>;
    t.ok(mine.every((x) => x.requested_by === 'nobody'), 'users list only their own');
  });

  t.test('stop and reload need an admin', async (t) => {
    const stop = cli('nobody', 'stop');
    t.equal(stop.status, 4);
    t.match(stop.stderr, /needs root or the admin group/);
    const reload = cli('nobody', 'reload');
    t.equal(reload.status, 4);
  });

  t.test('a reload with a broken policy is rejected and the old one keeps deciding', async (t) => {
    const before = JSON.parse(h.cli(['status', '--config', h.config, '--json']).stdout).policy.hash;
    const bad = path.join(h.dir, 'badpol');
    fs.mkdirSync(bad);
    fs.writeFileSync(path.join(bad, 'lacuna.rego'), 'package lacuna\n\ndecision := {\n');
    fs.writeFileSync(h.config, fs.readFileSync(h.config, 'utf8').replace(/policies: .*/, `policies: ${bad}`));
    const r = h.cli(['reload', '--config', h.config]);
    t.equal(r.status, 2);
    t.match(r.stderr, /reload rejected.*lacuna\.rego:\d+:\d+/s);
    const s = JSON.parse(h.cli(['status', '--config', h.config, '--json']).stdout);
    t.equal(s.policy.hash, before, 'the running policy is unchanged');
    t.match(s.last_errors.at(-1).message, /reload rejected/);
    t.equal(copy().status, 1, 'and it still denies');
  });

  t.test('every exception state change is in the audit chain', async (t) => {
    await h.stop();
    const q = h.cli(['audit', 'query', '--state-dir', h.state, '--json']);
    t.equal(q.status, 0, q.stderr);
    const kinds = q.stdout.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { kind: string }).kind);
    for (const k of ['exception_requested', 'exception_approved', 'exception_expired', 'policy_rejected']) t.ok(kinds.includes(k), k);
    t.equal(h.cli(['audit', 'verify', '--state-dir', h.state]).status, 0);
  });
});
