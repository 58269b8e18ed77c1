// No side doors: an unsafe copy of a PROPRIETARY file into an unmanaged zone is blocked
// whichever way it is attempted, and no attempt leaves partial data at the destination.
// Each attempt is a real program acting on a real mount.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { CUSTOMERS_CSV, PUBLIC_TEXT, startDaemon } from '../helpers/daemon.js';

t.test('side doors', async (t) => {
  const h = await startDaemon(t, {
    files: { 'crm/customers.csv': CUSTOMERS_CSV, 'pub/notes.txt': PUBLIC_TEXT },
    subzones: [{ path: 'outbox', zone: 'unmanaged' }],
  });
  fs.mkdirSync(path.join(h.data, 'outbox'), { mode: 0o777 });
  const src = `${h.governed}/crm/customers.csv`;
  const out = h.exportMnt;
  /** Nothing of the customer list may be anywhere under the unmanaged source dirs. */
  const assertNothingLeaked = (t: { notOk(v: unknown, m: string): void }, where: string) => {
    for (const dir of [h.exportSrc, path.join(h.data, 'outbox')]) {
      for (const f of fs.readdirSync(dir)) {
        const content = fs.readFileSync(path.join(dir, f));
        t.notOk(content.includes('536-22-8147') || content.includes('alice.martin'), `${where}: ${f} holds no customer data`);
      }
    }
  };

  const attempts: Array<[string, string]> = [
    ['dd', `dd if=${src} of=${out}/dd.csv bs=7 status=none`],
    ['rsync', `rsync ${src} ${out}/rsync.csv`],
    ['a tainted shell loop writing line by line', `while IFS= read -r line; do printf '%s\\n' "$line"; done < ${src} > ${out}/loop.csv`],
    ['python3 writing in 3-byte pieces', `python3 -c "d=open('${src}','rb').read(); f=open('${out}/pieces.csv','wb'); [f.write(d[i:i+3]) or f.flush() for i in range(0,len(d),3)]"`],
    ['os.sendfile', `python3 -c "import os; s=os.open('${src}',os.O_RDONLY); d=os.open('${out}/sendfile.csv',os.O_WRONLY|os.O_CREAT,0o644); os.sendfile(d,s,0,1<<20)"`],
    ['os.copy_file_range', `python3 -c "import os; s=os.open('${src}',os.O_RDONLY); d=os.open('${out}/cfr.csv',os.O_WRONLY|os.O_CREAT,0o644); os.copy_file_range(s,d,1<<20)"`],
    ['mmap write after reading', `python3 -c "
import mmap,os
data=open('${src}','rb').read()
fd=os.open('${out}/mmap.csv',os.O_RDWR|os.O_CREAT,0o644)
os.ftruncate(fd,len(data)); m=mmap.mmap(fd,len(data)); m[:]=data; m.flush()"`],
    ['a grandchild of the reader', `python3 -c "import subprocess; open('${src}').read(); subprocess.run(['bash','-c','cat /dev/null; echo derived > ${out}/grandchild.txt'],check=True)"`],
    ['mv across mounts', `mv ${src} ${out}/moved.csv`],
    ['rename into an unmanaged subtree of the same mount', `mv ${src} ${h.governed}/outbox/renamed.csv`],
    ['hard link into an unmanaged subtree of the same mount', `ln ${src} ${h.governed}/outbox/hard.csv`],
    ['write through a symlink that points into the unmanaged mount', `ln -s ${out}/via-link.csv ${h.governed}/crm/link-out && cp ${src} ${h.governed}/crm/link-out`],
  ];
  for (const [name, cmd] of attempts) {
    t.test(`${name} is blocked`, async (t) => {
      const r = h.sh(cmd);
      t.not(r.status, 0, `${name} must fail (stdout ${r.stdout} stderr ${r.stderr})`);
      t.ok(fs.existsSync(path.join(h.data, 'crm/customers.csv')), 'the source is untouched');
      assertNothingLeaked(t, name);
    });
  }

  t.test('O_TRUNC over an existing allowed file is refused before anything is truncated', async (t) => {
    t.equal(h.sh(`cp ${h.governed}/pub/notes.txt ${out}/existing.txt`).status, 0);
    const r = h.sh(`cp ${src} ${out}/existing.txt`);
    t.not(r.status, 0);
    t.equal(fs.readFileSync(path.join(h.exportSrc, 'existing.txt'), 'utf8'), PUBLIC_TEXT, 'the old content is intact');
  });

  t.test('truncate then write by a tainted process is refused', async (t) => {
    const r = h.sh(`python3 -c "
import os
open('${src}').read()
fd=os.open('${out}/existing.txt',os.O_WRONLY)
os.ftruncate(fd,0)"`);
    t.not(r.status, 0);
    t.equal(fs.readFileSync(path.join(h.exportSrc, 'existing.txt'), 'utf8'), PUBLIC_TEXT);
  });

  t.test('a PII payload split across two writes at any offset is still seen', async (t) => {
    const payload = 'id,ssn\n1,536-22-8147\n2,412-70-3391\n';
    for (const cut of [3, 11, 14, 17]) {
      const f = `${out}/split${cut}.csv`;
      const r = h.sh(`python3 -c "
import os
p=${JSON.stringify(payload)}.encode()
fd=os.open('${f}',os.O_WRONLY|os.O_CREAT,0o644)
os.write(fd,p[:${cut}]); os.write(fd,p[${cut}:])"`);
      t.not(r.status, 0, `cut at ${cut}`);
      t.notOk(fs.existsSync(path.join(h.exportSrc, `split${cut}.csv`)), `cut at ${cut}: no partial file`);
    }
  });

  t.test('safe work still goes through: PUBLIC data by every route', async (t) => {
    for (const cmd of [
      `cp ${h.governed}/pub/notes.txt ${out}/n1.txt`,
      `rsync ${h.governed}/pub/notes.txt ${out}/n2.txt`,
      `dd if=${h.governed}/pub/notes.txt of=${out}/n3.txt status=none`,
      `cat ${h.governed}/pub/notes.txt > ${out}/n4.txt`,
    ]) {
      const r = h.sh(cmd);
      t.equal(r.status, 0, `${cmd}: ${r.stderr}`);
    }
    for (const n of [1, 2, 3, 4]) t.equal(fs.readFileSync(path.join(h.exportSrc, `n${n}.txt`), 'utf8'), PUBLIC_TEXT);
  });
});
