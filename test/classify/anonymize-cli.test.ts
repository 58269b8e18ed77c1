// `lacuna-fs anonymize IN OUT`: writes the copy, never overwrites without --force, keeps its key
// (created 0600 on first use, or from --key-file / $LACUNA_ANON_KEY_FILE), prints types and
// counts but never a value, and fails without writing when identifiers remain.
import t from 'tap';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { register } from '../../src/cli/commands/anonymize.js';
import { EXIT } from '../../src/cli/exit-codes.js';
import { runCli } from '../helpers/cli.js';

const corpus = join(import.meta.dirname, '..', 'fixtures', 'classify', 'corpus');
const dir = mkdtempSync(join(tmpdir(), 'lacuna-anon-cli-'));
const home = join(dir, 'home');
const saved = { HOME: process.env.HOME, KEY: process.env.LACUNA_ANON_KEY_FILE };
process.env.HOME = home;
delete process.env.LACUNA_ANON_KEY_FILE;
t.teardown(() => {
  process.env.HOME = saved.HOME;
  if (saved.KEY !== undefined) process.env.LACUNA_ANON_KEY_FILE = saved.KEY;
  rmSync(dir, { recursive: true, force: true });
});
copyFileSync(join(corpus, 'crm_export.csv'), join(dir, 'crm.csv'));
copyFileSync(join(corpus, 'env.production'), join(dir, 'env.production'));

const run = (...args: string[]) => runCli(register, args);

t.test('first run creates a 0600 key under ~/.config/lacuna-fs and writes the copy; the summary names types, never values', async (t) => {
  const out = join(dir, 'crm.anon.csv');
  const r = await run('anonymize', join(dir, 'crm.csv'), out);
  t.equal(r.code, 0, r.err);
  const keyFile = join(home, '.config', 'lacuna-fs', 'anonymize.key');
  t.ok(existsSync(keyFile), 'the key was created');
  t.equal(statSync(keyFile).mode & 0o777, 0o600);
  t.match(r.err, /created a new key/);
  t.match(r.out, /replaced 25 email, 50 name, 25 phone/);
  t.match(r.out, /first_name \(name\)/);
  t.notMatch(r.out + r.err, /@|hannah|Farouk/i, 'no value in the output');
  const copy = readFileSync(out, 'utf8');
  t.notMatch(copy, /hannah\.farouk21@acme-corp\.com/);
  t.match(copy.split('\n')[1]!, /^10231,name_[0-9a-f]{12},name_[0-9a-f]{12},email_[0-9a-f]{12},phone_[0-9a-f]{12},Globex,2024-02-16$/);
  const again = join(dir, 'crm.anon2.csv');
  t.equal((await run('anonymize', join(dir, 'crm.csv'), again)).code, 0);
  t.equal(readFileSync(again, 'utf8'), copy, 'the kept key gives the same tokens on the next run');
});

t.test('OUT is not overwritten without --force, and IN may not be OUT', async (t) => {
  const out = join(dir, 'exists.csv');
  writeFileSync(out, 'keep me\n');
  const r = await run('anonymize', join(dir, 'crm.csv'), out);
  t.equal(r.code, EXIT.USAGE);
  t.match(r.err, /exists; use --force/);
  t.equal(readFileSync(out, 'utf8'), 'keep me\n');
  t.equal((await run('anonymize', '--force', join(dir, 'crm.csv'), out)).code, 0);
  t.not(readFileSync(out, 'utf8'), 'keep me\n');
  t.equal((await run('anonymize', '--force', join(dir, 'crm.csv'), join(dir, 'crm.csv'))).code, EXIT.USAGE);
});

t.test('--key-file and $LACUNA_ANON_KEY_FILE choose the key; a different key gives different tokens', async (t) => {
  const k1 = join(dir, 'k1');
  const k2 = join(dir, 'k2');
  writeFileSync(k1, 'a'.repeat(64) + '\n', { mode: 0o600 });
  writeFileSync(k2, 'b'.repeat(64) + '\n', { mode: 0o600 });
  t.equal((await run('anonymize', '--key-file', k1, join(dir, 'crm.csv'), join(dir, 'k1.csv'))).code, 0);
  process.env.LACUNA_ANON_KEY_FILE = k1;
  t.equal((await run('anonymize', join(dir, 'crm.csv'), join(dir, 'k1env.csv'))).code, 0);
  delete process.env.LACUNA_ANON_KEY_FILE;
  t.equal((await run('anonymize', '--key-file', k2, join(dir, 'crm.csv'), join(dir, 'k2.csv'))).code, 0);
  t.equal(readFileSync(join(dir, 'k1env.csv'), 'utf8'), readFileSync(join(dir, 'k1.csv'), 'utf8'));
  t.not(readFileSync(join(dir, 'k2.csv'), 'utf8'), readFileSync(join(dir, 'k1.csv'), 'utf8'));
  const short = join(dir, 'short');
  writeFileSync(short, 'tiny', { mode: 0o600 });
  t.equal((await run('anonymize', '--key-file', short, join(dir, 'crm.csv'), join(dir, 'x.csv'))).code, EXIT.USAGE);
  t.equal((await run('anonymize', '--key-file', join(dir, 'missing'), join(dir, 'crm.csv'), join(dir, 'x.csv'))).code, EXIT.USAGE);
  t.notOk(existsSync(join(dir, 'x.csv')));
});

t.test('--mask --json reports replaced types and counts; secrets are masked', async (t) => {
  const r = await run('anonymize', '--mask', '--json', join(dir, 'env.production'), join(dir, 'env.masked'));
  t.equal(r.code, 0, r.err);
  const o = JSON.parse(r.out) as { mode: string; replaced: unknown; remaining: unknown[]; written: boolean };
  t.equal(o.mode, 'mask');
  t.same(o.replaced, [
    { type: 'credentials_in_url', count: 1 },
    { type: 'stripe_key', count: 1 },
  ]);
  t.same(o.remaining, []);
  t.equal(o.written, true);
  t.match(readFileSync(join(dir, 'env.masked'), 'utf8'), /STRIPE_SECRET_KEY=\[STRIPE_KEY\]/);
});

t.test('identifiers that survive anonymization fail with exit 1 and nothing is written', async (t) => {
  // A user rule that also matches its own mask cannot be anonymized away.
  const rules = join(dir, 'rules.yaml');
  writeFileSync(rules, "- id: bracketed\n  category: secret\n  pattern: '\\[[A-Z_]+\\]'\n");
  writeFileSync(join(dir, 'b.txt'), 'value [ABC] here\n');
  const r = await run('anonymize', '--rules', rules, join(dir, 'b.txt'), join(dir, 'b.out'));
  t.equal(r.code, EXIT.FAILED);
  t.match(r.out, /NOT written/);
  t.match(r.out, /still found: 1 bracketed \(secret\) on line 1/);
  t.notOk(existsSync(join(dir, 'b.out')));
});

t.test('binary input is bad input (exit 2); an unreadable IN exits 1', async (t) => {
  const png = await run('anonymize', join(corpus, 'chart.png'), join(dir, 'chart.out'));
  t.equal(png.code, EXIT.USAGE);
  t.match(png.err, /binary/);
  t.equal((await run('anonymize', join(dir, 'nope.csv'), join(dir, 'nope.out'))).code, EXIT.FAILED);
});
