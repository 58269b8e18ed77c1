// Concurrency through a real mount: many processes reading and writing the same and
// different files at once (fixed seed, bounded time), contents checked afterwards
// against what each writer wrote.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { startDaemon } from '../helpers/daemon.js';

const WORKERS = 8;
const ROUNDS = 60;

// Each worker: private files rewritten at random offsets with seeded content, O_APPEND
// records into one shared log, and checksum reads of one shared large file.
const WORKER = `
import os, random, sys, hashlib
wid, root, rounds = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
rng = random.Random(1000 + wid)
mine = os.path.join(root, 'w%d' % wid)
os.makedirs(mine, exist_ok=True)
expected = {}
for r in range(rounds):
    name = os.path.join(mine, 'f%d' % rng.randrange(4))
    size = rng.randrange(1, 200000)
    data = bytes(rng.randrange(256) for _ in range(64)) * (size // 64 + 1)
    data = data[:size]
    with open(name, 'wb') as f:
        f.write(data)
    expected[name] = hashlib.sha256(data).hexdigest()
    fd = os.open(os.path.join(root, 'shared.log'), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(fd, ('w%d r%d %s\\n' % (wid, r, 'x' * rng.randrange(10, 300))).encode())
    os.close(fd)
    with open(os.path.join(root, 'big.bin'), 'rb') as f:
        f.seek(rng.randrange(0, 4 << 20))
        f.read(65536)
for name, digest in expected.items():
    with open(name, 'rb') as f:
        assert hashlib.sha256(f.read()).hexdigest() == digest, name
print('ok', wid)
`;

t.test('parallel readers and writers see consistent data', async (t) => {
  const h = await startDaemon(t);
  const big = crypto.createHash('sha256');
  const bigData = Buffer.alloc(8 << 20);
  for (let i = 0; i < bigData.length; i += 4) bigData.writeUInt32LE(i, i);
  big.update(bigData);
  fs.writeFileSync(path.join(h.data, 'big.bin'), bigData);
  fs.writeFileSync(path.join(h.dir, 'worker.py'), WORKER);

  const started = Date.now();
  const cmd = Array.from({ length: WORKERS }, (_, w) => `python3 ${h.dir}/worker.py ${w} ${h.governed} ${ROUNDS} &`).join(' ') + ' wait';
  const r = h.sh(`set -e; ${cmd}; for j in $(jobs -p); do wait $j; done`, { timeoutMs: 180_000 });
  t.equal(r.status, 0, r.stderr);
  t.equal((r.stdout.match(/^ok \d+$/gm) ?? []).length, WORKERS, 'every worker verified its own files through the mount');
  t.ok(Date.now() - started < 180_000, 'bounded time');

  const log = fs.readFileSync(path.join(h.data, 'shared.log'), 'utf8').trim().split('\n');
  t.equal(log.length, WORKERS * ROUNDS, 'no O_APPEND record lost or merged');
  t.ok(log.every((l) => /^w\d r\d+ x+$/.test(l)), 'no torn or interleaved records');
  for (let w = 0; w < WORKERS; w++) {
    const rounds = log.filter((l) => l.startsWith(`w${w} `)).map((l) => Number(l.split(' ')[1]!.slice(1)));
    t.same(rounds, [...Array(ROUNDS).keys()], `worker ${w}'s records are all there, in its order`);
  }
  const again = crypto.createHash('sha256').update(fs.readFileSync(path.join(h.data, 'big.bin'))).digest('hex');
  t.equal(again, big.digest('hex'), 'the shared file read by everyone is unchanged');
  t.equal(h.sh(`sha256sum < ${h.governed}/big.bin`).stdout.split(' ')[0], again, 'and reads back identically through the mount');
});
