// `lacuna-fs classify`: JSON lines with the documented fields, --text, recursive directories,
// --fail-on and usage errors mapped to the documented exit codes.
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { register } from '../../src/cli/commands/classify.js';
import { CliError, EXIT } from '../../src/cli/exit-codes.js';

const dir = mkdtempSync(join(tmpdir(), 'lacuna-cli-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, 'sub'));
writeFileSync(join(dir, 'a.csv'), 'name,email,ssn\nJohn,john.doe@acme.io,536-22-8745\n');
writeFileSync(join(dir, 'sub', 'b.txt'), 'hello world\n');
writeFileSync(join(dir, 'sub', 'c.env'), 'DB_PASSWORD=Tr0ub4dor&3xK9\n');

async function run(...args: string[]): Promise<{ out: string; err: string; code: number }> {
  const program = new Command('lacuna-fs').exitOverride();
  register(program);
  let out = '';
  let err = '';
  const ow = process.stdout.write.bind(process.stdout);
  const ew = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  let code = 0;
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (e) {
    code = e instanceof CliError ? e.exitCode : ((e as { exitCode?: number }).exitCode ?? 99);
    err += (e as Error).message;
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
  }
  return { out, err, code };
}

t.test('--json prints one object per file with path, tier, tags, confidence, layer, reasoning, findings', async (t) => {
  const r = await run('classify', '--json', dir);
  t.equal(r.code, 0);
  const lines = r.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  t.same(lines.map((l) => l.path), [join(dir, 'a.csv'), join(dir, 'sub', 'b.txt'), join(dir, 'sub', 'c.env')], 'directories are walked recursively, in order');
  for (const l of lines) t.same(Object.keys(l).slice(0, 7), ['path', 'tier', 'tags', 'confidence', 'layer', 'reasoning', 'findings']);
  t.same(lines.map((l) => l.tier), ['PROPRIETARY', 'PUBLIC', 'PROPRIETARY']);
  const f = (lines[0]!.findings as { type: string; category: string; count: number }[]).find((x) => x.type === 'ssn' && x.category === 'pii');
  t.equal(f?.count, 1);
  t.notOk(r.out.includes('Tr0ub4dor'), 'no secret value in the output');
});

t.test('--text classifies a string', async (t) => {
  const r = await run('classify', '--json', '--text', 'SSN 536-22-8745');
  const o = JSON.parse(r.out) as { path: null; tier: string; tags: string[] };
  t.equal(o.path, null);
  t.equal(o.tier, 'PROPRIETARY');
  t.same(o.tags, ['PII']);
});

t.test('--fail-on exits 1 when a result reaches the tier; human output otherwise', async (t) => {
  const r = await run('classify', '--fail-on', 'PROPRIETARY', join(dir, 'sub'));
  t.equal(r.code, EXIT.FAILED);
  t.match(r.out, /PROPRIETARY\s+0\.95\s+SECRET/);
  t.equal((await run('classify', '--fail-on', 'PROPRIETARY', join(dir, 'sub', 'b.txt'))).code, 0);
});

t.test('usage errors exit 2; unreadable paths exit 1 after the others are printed', async (t) => {
  t.equal((await run('classify')).code, EXIT.USAGE);
  t.equal((await run('classify', '--text', 'x', dir)).code, EXIT.USAGE);
  t.equal((await run('classify', '--max-bytes', '-3', dir)).code, EXIT.USAGE);
  const rules = join(dir, 'bad-rules.yaml');
  writeFileSync(rules, 'rules:\n  - id: broken\n    category: pii\n    pattern: "(a"\n');
  const bad = await run('classify', '--rules', rules, '--text', 'x');
  t.equal(bad.code, EXIT.USAGE);
  t.match(bad.err, /broken/);
  const missing = await run('classify', '--json', join(dir, 'nope'), join(dir, 'sub', 'b.txt'));
  t.equal(missing.code, EXIT.FAILED);
  t.equal(missing.out.trim().split('\n').length, 1, 'the readable path is still classified');
});

t.test('--rules adds user rules; --list-rules shows the table', async (t) => {
  const rules = join(dir, 'rules.yaml');
  writeFileSync(rules, "- id: codename\n  category: keyword\n  pattern: '(?i)project heron'\n");
  const r = await run('classify', '--json', '--rules', rules, '--text', 'Project Heron budget');
  t.equal((JSON.parse(r.out) as { tier: string }).tier, 'PROPRIETARY');
  const list = await run('classify', '--list-rules', '--rules', rules);
  t.match(list.out, /^credit_card\s+pii\s+credit_card$/m);
  t.match(list.out, /^codename\s+keyword/m);
});
