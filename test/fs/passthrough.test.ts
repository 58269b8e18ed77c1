// Passthrough semantics through a real governed mount, checked with real programs and
// against the source directory: contents, sizes, modes, ownership of new files,
// permissions as another user, link counts, rename over existing, symlinks, timestamps,
// xattrs, and the errno of every failure.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { PUBLIC_TEXT, startDaemon } from '../helpers/daemon.js';

t.test('passthrough', async (t) => {
  const h = await startDaemon(t, { files: { 'docs/a.txt': PUBLIC_TEXT } });
  const g = h.governed;
  const src = h.data;

  t.test('reads return the source bytes and sizes match', async (t) => {
    t.equal(h.sh(`cat ${g}/docs/a.txt`).stdout, PUBLIC_TEXT);
    t.equal(h.sh(`stat -c %s ${g}/docs/a.txt`).stdout.trim(), String(Buffer.byteLength(PUBLIC_TEXT)));
    const big = Buffer.alloc(3 * 1024 * 1024 + 17, 'x');
    fs.writeFileSync(path.join(src, 'big.bin'), big);
    t.equal(h.sh(`sha256sum < ${g}/big.bin`).stdout, h.sh(`sha256sum < ${src}/big.bin`).stdout);
  });

  t.test('writes land in the source with the requested mode', async (t) => {
    const r = h.sh(`umask 022; printf 'hello' > ${g}/new.txt && chmod 640 ${g}/new.txt && dd if=/dev/urandom of=${g}/rand.bin bs=64k count=40 status=none`);
    t.equal(r.status, 0, r.stderr);
    t.equal(fs.readFileSync(path.join(src, 'new.txt'), 'utf8'), 'hello');
    t.equal(fs.statSync(path.join(src, 'new.txt')).mode & 0o777, 0o640);
    t.equal(h.sh(`sha256sum < ${g}/rand.bin`).stdout, h.sh(`sha256sum < ${src}/rand.bin`).stdout);
    t.equal(fs.statSync(path.join(src, 'rand.bin')).size, 40 * 65536);
  });

  t.test('the umask of the caller applies exactly once', async (t) => {
    h.sh(`umask 027; touch ${g}/masked.txt; mkdir ${g}/masked.d`);
    t.equal(fs.statSync(path.join(src, 'masked.txt')).mode & 0o777, 0o640);
    t.equal(fs.statSync(path.join(src, 'masked.d')).mode & 0o777, 0o750);
  });

  t.test('new files belong to the user who created them', async (t) => {
    const r = h.sh(`touch ${g}/by-nobody.txt && mkdir ${g}/nobody-dir`, { user: 'nobody' });
    t.equal(r.status, 0, r.stderr);
    const st = fs.statSync(path.join(src, 'by-nobody.txt'));
    t.equal(st.uid, 65534);
    t.equal(fs.statSync(path.join(src, 'nobody-dir')).uid, 65534);
  });

  t.test('permissions are enforced as on the source for another user', async (t) => {
    fs.writeFileSync(path.join(src, 'private.txt'), 'secret-ish');
    fs.chmodSync(path.join(src, 'private.txt'), 0o600);
    const r = h.sh(`cat ${g}/private.txt`, { user: 'nobody' });
    t.not(r.status, 0);
    t.match(r.stderr, /Permission denied/);
    const w = h.sh(`echo x >> ${g}/docs/a.txt`, { user: 'nobody' });
    t.match(w.stderr, /Permission denied/);
    const c = h.sh(`chmod 777 ${g}/docs/a.txt`, { user: 'nobody' });
    t.match(c.stderr, /Operation not permitted/);
  });

  t.test('hard links share the inode and link counts are never stale', async (t) => {
    h.sh(`echo linked > ${g}/l1 && ln ${g}/l1 ${g}/l2`);
    t.equal(h.sh(`stat -c %h ${g}/l1`).stdout.trim(), '2');
    t.equal(h.sh(`stat -c %i ${g}/l1`).stdout, h.sh(`stat -c %i ${g}/l2`).stdout);
    t.equal(h.sh(`stat -c %i ${g}/l1`).stdout.trim(), String(fs.statSync(path.join(src, 'l1')).ino), 'real inode numbers');
    h.sh(`rm ${g}/l2`);
    t.equal(h.sh(`stat -c %h ${g}/l1`).stdout.trim(), '1', 'count drops right after unlink through the other name');
  });

  t.test('rename, including over an existing file, and of directories', async (t) => {
    h.sh(`echo one > ${g}/r1 && echo two > ${g}/r2 && mv ${g}/r1 ${g}/r2`);
    t.equal(fs.readFileSync(path.join(src, 'r2'), 'utf8'), 'one\n');
    t.notOk(fs.existsSync(path.join(src, 'r1')));
    h.sh(`mkdir -p ${g}/d1/sub && echo f > ${g}/d1/sub/f && mv ${g}/d1 ${g}/d2`);
    t.equal(fs.readFileSync(path.join(src, 'd2/sub/f'), 'utf8'), 'f\n');
  });

  t.test('symlinks are created, read and followed within the mount', async (t) => {
    h.sh(`ln -s docs/a.txt ${g}/sym`);
    t.equal(h.sh(`readlink ${g}/sym`).stdout.trim(), 'docs/a.txt');
    t.equal(fs.readlinkSync(path.join(src, 'sym')), 'docs/a.txt');
    t.equal(h.sh(`cat ${g}/sym`).stdout, PUBLIC_TEXT);
  });

  t.test('timestamps are kept to the nanosecond and UTIME_OMIT leaves one alone', async (t) => {
    h.sh(`touch ${g}/ts && touch -m -d '2020-01-02 03:04:05.123456789' ${g}/ts`);
    t.equal(h.sh(`stat -c %y ${g}/ts`).stdout.trim(), '2020-01-02 03:04:05.123456789 +0000');
    const atimeBefore = h.sh(`stat -c %X ${g}/ts`).stdout;
    h.sh(`touch -m -d '2021-01-01' ${g}/ts`); // -m: atime is UTIME_OMIT
    t.equal(h.sh(`stat -c %X ${g}/ts`).stdout, atimeBefore);
    t.match(h.sh(`stat -c %y ${g}/ts`).stdout, /^2021-01-01/);
  });

  t.test('truncate, append and sparse offsets', async (t) => {
    h.sh(`printf 0123456789 > ${g}/t && truncate -s 4 ${g}/t && printf AB >> ${g}/t`);
    t.equal(fs.readFileSync(path.join(src, 't'), 'utf8'), '0123AB');
    h.sh(`dd if=/dev/zero of=${g}/sparse bs=1 count=1 seek=1048575 status=none`);
    t.equal(fs.statSync(path.join(src, 'sparse')).size, 1048576);
  });

  t.test('user xattrs pass through', async (t) => {
    h.sh(`touch ${g}/x && setfattr -n user.team -v analytics ${g}/x`);
    t.equal(h.sh(`getfattr --only-values -n user.team ${g}/x`).stdout, 'analytics');
    t.match(h.sh(`getfattr -d ${g}/x`).stdout, /user\.lacuna\.tier="PUBLIC"/);
  });

  t.test('failures carry the right errno', async (t) => {
    t.match(h.sh(`cat ${g}/missing`).stderr, /No such file or directory/);
    t.match(h.sh(`ls ${g}/missing-dir/`).stderr, /No such file or directory/);
    t.match(h.sh(`mkdir ${g}/docs`).stderr, /File exists/);
    t.match(h.sh(`rmdir ${g}/docs`).stderr, /Directory not empty/);
    t.match(h.sh(`cat ${g}/docs`).stderr, /Is a directory/);
    t.match(h.sh(`touch ${g}/docs/a.txt/x`).stderr, /Not a directory/);
    t.match(h.sh(`ln ${g}/docs ${g}/dirlink`).stderr, /hard link not allowed for directory|Operation not permitted/);
  });

  t.test('statfs reports the source file system', async (t) => {
    const mnt = h.sh(`stat -f -c '%b %S' ${g}`).stdout;
    const raw = h.sh(`stat -f -c '%b %S' ${src}`).stdout;
    t.equal(mnt, raw);
  });

  t.test('readdir lists what the source holds, without the virtual .lacuna', async (t) => {
    const listed = h.sh(`ls -A ${g}`).stdout.trim().split('\n').sort();
    t.same(listed, fs.readdirSync(src).sort());
    t.equal(h.sh(`ls ${g}/.lacuna`).stdout.trim().split('\n').sort().join(' '), 'README status why');
  });
});
