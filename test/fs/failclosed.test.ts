// A full or unwritable audit spool: the daemon fails closed (governed writes into
// non-governed zones are denied with policy "audit-unavailable") and says so in status
// and in its log, instead of letting unaudited data through.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PUBLIC_TEXT, startDaemon } from '../helpers/daemon.js';

t.test('a full disk under the audit spool makes the daemon fail closed', async (t) => {
  let stateMount = '';
  const h = await startDaemon(t, {
    files: { 'pub.txt': PUBLIC_TEXT },
    beforeStart: ({ state }) => {
      fs.mkdirSync(state, { recursive: true });
      const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', state]);
      if (r.status !== 0) throw new Error(`cannot mount a tmpfs for the state dir: ${r.stderr}`);
      stateMount = state;
    },
  });
  t.teardown(() => {
    spawnSync('umount', ['-l', stateMount]);
  });
  t.equal(h.sh(`cp ${h.governed}/pub.txt ${h.exportMnt}/before.txt`).status, 0, 'works while the spool has room');
  // Fill the file system that holds the spool.
  spawnSync('bash', ['-c', `dd if=/dev/zero of=${path.join(h.state, 'filler')} bs=64k 2>/dev/null; sync`]);
  let denied = false;
  for (let i = 0; i < 40 && !denied; i++) {
    const r = h.sh(`cp ${h.governed}/pub.txt ${h.exportMnt}/after${i}.txt`);
    denied = r.status !== 0;
    if (!denied) await new Promise((res) => setTimeout(res, 100));
  }
  t.ok(denied, 'a copy is refused once the audit log cannot be written');
  const whyRun = h.cli(['why', '--config', h.config, '--json', '--last', '1']);
  t.equal(whyRun.status, 0, whyRun.stderr + h.stderr().slice(-3000));
  const why = JSON.parse(whyRun.stdout)[0];
  t.equal(why.policy_id, 'audit-unavailable');
  const s = JSON.parse(h.cli(['status', '--config', h.config, '--json']).stdout);
  t.equal(s.audit.healthy, false, 'status shows the audit log unhealthy');
  t.ok(s.decisions.audit_failures >= 1);
  t.match(JSON.stringify(s.last_errors), /audit log unavailable/, JSON.stringify(s.last_errors));
  fs.unlinkSync(path.join(h.state, 'filler'));
  let recovered = false;
  for (let i = 0; i < 50 && !recovered; i++) {
    await new Promise((res) => setTimeout(res, 200));
    recovered = h.sh(`cp ${h.governed}/pub.txt ${h.exportMnt}/recovered${i}.txt`).status === 0;
  }
  t.ok(recovered, 'writes resume once the spool has room again');
  await h.stop();
  t.match(h.stderr(), /audit log unavailable/, 'and the log says why');
});
