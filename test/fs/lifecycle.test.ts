// Daemon lifecycle: ready line, clean stop leaves no mount, kill -9 leaves a stale mount
// that the next start cleans, a bad config is refused before anything is mounted, and
// the CLI says when no daemon runs.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { isMounted, PUBLIC_TEXT, spawnDaemon, startDaemon, waitExit, type RestartableHarness } from '../helpers/daemon.js';

t.test('SIGTERM unmounts everything and exits 0', async (t) => {
  const h = await startDaemon(t, { files: { 'a.txt': PUBLIC_TEXT } });
  t.match(h.stdout(), /^ready pid=\d+ mode=enforce mounts=/);
  t.ok(isMounted(h.governed) && isMounted(h.exportMnt));
  t.equal(await h.stop(), 0);
  t.notOk(isMounted(h.governed), 'governed mount gone');
  t.notOk(isMounted(h.exportMnt), 'export mount gone');
  t.notOk(fs.existsSync(path.join(h.run, 'control.sock')), 'control socket removed');
});

t.test('lacuna-fs stop asks the daemon to stop and waits for it', async (t) => {
  const h = await startDaemon(t);
  const r = h.cli(['stop', '--config', h.config]);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /stopped lacuna-fs \(pid \d+\)/);
  t.equal(await waitExit(h.daemon, 10_000), 0);
  t.notOk(isMounted(h.governed));
});

t.test('after kill -9 the stale mount is detected and cleaned by the next start', async (t) => {
  const h = (await startDaemon(t, { files: { 'a.txt': PUBLIC_TEXT } })) as RestartableHarness;
  await h.kill9();
  const stale = h.sh(`stat ${h.governed}`);
  t.match(stale.stderr, /Transport endpoint is not connected/, 'the crash left a stale mount');
  await h.restart();
  t.match(h.stderr(), /cleaned a stale mount/);
  const r = h.sh(`cat ${h.governed}/a.txt`);
  t.equal(r.stdout, PUBLIC_TEXT, 'the remount serves files again');
  t.equal(await h.stop(), 0);
  const v = h.cli(['audit', 'verify', '--state-dir', h.state]);
  t.equal(v.status, 0, `audit chain intact after the crash: ${v.stdout}${v.stderr}`);
});

t.test('a bad config is refused with the file, key and problem, and nothing is mounted', async (t) => {
  const h = await startDaemon(t);
  await h.stop();
  const bad = path.join(h.dir, 'bad.yaml');
  fs.writeFileSync(bad, fs.readFileSync(h.config, 'utf8').replace('zone: unmanaged', 'zone: downloads'));
  const r = h.cli(['mount', '--config', bad]);
  t.equal(r.status, 2);
  t.match(r.stderr, new RegExp(`invalid config: ${bad}:\\d+: mounts\\[1\\]\\.zone: unknown zone "downloads"`));
  t.notOk(isMounted(h.governed));
  const typo = path.join(h.dir, 'typo.yaml');
  fs.writeFileSync(typo, fs.readFileSync(h.config, 'utf8') + 'audti: {}\n');
  t.match(h.cli(['mount', '--config', typo]).stderr, /audti: unknown key/);
});

t.test('a mountpoint with files in it is refused with a plain message, and the files stay visible', async (t) => {
  const h = await startDaemon(t);
  await h.stop();
  fs.writeFileSync(path.join(h.governed, 'left-behind.txt'), 'mine\n');
  const r = h.cli(['mount', '--config', h.config]);
  t.equal(r.status, 2, r.stderr);
  t.match(r.stderr, new RegExp(`mountpoint ${h.governed} is not empty \\(1 entry: left-behind\\.txt\\)`));
  t.notMatch(r.stderr, /internal error|\n\s+at /, 'no stack trace');
  t.notOk(isMounted(h.governed));
  t.equal(fs.readFileSync(path.join(h.governed, 'left-behind.txt'), 'utf8'), 'mine\n');
  fs.rmSync(path.join(h.governed, 'left-behind.txt'));
});

t.test('a policy that does not compile stops the start and names the position', async (t) => {
  const h = await startDaemon(t);
  await h.stop();
  const pol = path.join(h.dir, 'badpol');
  fs.mkdirSync(pol);
  fs.writeFileSync(path.join(pol, 'lacuna.rego'), 'package lacuna\n\ndecision := {"allow": true if {\n');
  const cfg = path.join(h.dir, 'badpol.yaml');
  fs.writeFileSync(cfg, fs.readFileSync(h.config, 'utf8').replace(/policies: .*/, `policies: ${pol}`));
  await t.rejects(spawnDaemon(cfg), /lacuna\.rego:\d+:\d+/);
  t.notOk(isMounted(h.governed), 'nothing stays mounted after a failed start');
});

t.test('status and why without a daemon say so and exit 3', async (t) => {
  const h = await startDaemon(t);
  await h.stop();
  for (const cmd of ['status', 'why']) {
    const r = h.cli([cmd, '--config', h.config]);
    t.equal(r.status, 3, `${cmd} exit code`);
    t.match(r.stderr, /lacuna-fs is not running/);
  }
});

t.test('explain works without a daemon, from content and policy alone', async (t) => {
  const h = await startDaemon(t, { files: { 'a.txt': PUBLIC_TEXT } });
  await h.stop();
  const r = h.cli(['explain', '--config', h.config, '--from', `${h.data}/a.txt`, '--to', `${h.exportMnt}/a.txt`]);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^ALLOWED: copy/);
  t.match(r.stdout, /lineage was not consulted/);
});

t.test('every subcommand has --help', async (t) => {
  const h = await startDaemon(t);
  await h.stop();
  const top = h.cli(['--help']);
  t.equal(top.status, 0);
  const names = [...top.stdout.matchAll(/^ {2}([a-z-]+)\b/gm)].map((m) => m[1]!).filter((n) => n !== 'help');
  t.ok(names.length >= 4, names.join(' '));
  for (const n of names) {
    const r = h.cli([n, '--help']);
    t.equal(r.status, 0, `${n} --help`);
    t.match(r.stdout, /Usage: lacuna-fs/);
  }
});
