// `lacuna-fs policy eval|test|check` run in-process through commander: output,
// --json, and exit codes (0 ok, 1 a failing test or --fail on undefined, 2 a
// policy that does not compile).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import t from 'tap';
import { register } from '../../src/cli/commands/policy.js';
import { EXIT } from '../../src/cli/exit-codes.js';
import { runCli, type CliRun } from '../helpers/cli.js';

const POLICIES = new URL('../../policies', import.meta.url).pathname;

/** Runs `lacuna-fs <args>` and returns stdout, stderr and the exit code. */
async function cli(...args: string[]): Promise<CliRun> {
  return runCli(register, args);
}

function tmp(t: { teardown(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'lacuna-cli-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

t.test('policy test runs the shipped tests and exits 0', async (t) => {
  const r = await cli('policy', 'test', POLICIES);
  t.equal(r.code, EXIT.OK);
  t.match(r.out, /PASS: (\d+)\/\1/);
});

t.test('policy test --json reports every test; a failing test exits 1', async (t) => {
  const d = tmp(t);
  writeFileSync(join(d, 'p.rego'), 'package p\nimport rego.v1\nx := 1\n');
  writeFileSync(join(d, 'p_test.rego'), 'package p_test\nimport rego.v1\ntest_ok if data.p.x == 1\ntest_bad if data.p.x == 2\ntodo_test_later if false\n');
  const r = await cli('policy', 'test', d, '--json');
  t.equal(r.code, EXIT.FAILED);
  const j = JSON.parse(r.out);
  t.same([j.pass, j.fail, j.skip], [1, 1, 1]);
  t.same(j.results.map((x: { name: string; outcome: string }) => `${x.name}:${x.outcome}`), ['data.p_test.test_ok:pass', 'data.p_test.test_bad:fail', 'data.p_test.todo_test_later:skip']);
});

t.test('policy check reports compile errors with positions and exits 2', async (t) => {
  const d = tmp(t);
  writeFileSync(join(d, 'p.rego'), 'package p\nimport rego.v1\nallow if {\n  y > 1\n}\n');
  const r = await cli('policy', 'check', d);
  t.equal(r.code, EXIT.USAGE);
  t.match(r.err, /p\.rego:4:3: var y is unsafe/);
  const ok = await cli('policy', 'check', POLICIES, '--json');
  t.equal(ok.code, EXIT.OK);
  t.equal(JSON.parse(ok.out).ok, true);
});

t.test('policy eval prints the decision for an input file; big integers stay exact', async (t) => {
  const d = tmp(t);
  const input = join(d, 'in.json');
  writeFileSync(input, '{"action": "read", "destination": {"path": "/governed/a.csv"}, "time": {"ns": 1795000000000000001}}');
  const r = await cli('policy', 'eval', '-d', POLICIES, '-i', input, 'data.lacuna.decision');
  t.equal(r.code, EXIT.OK);
  t.equal(JSON.parse(r.out).policy_id, 'read-audited');
  const n = await cli('policy', 'eval', '-i', input, 'input.time.ns + 1');
  t.equal(n.out.trim(), '1795000000000000002');
  const j = await cli('policy', 'eval', '--format', 'json', 'x := [1, 2][_]');
  t.same(JSON.parse(j.out), { result: [{ x: 1 }, { x: 2 }] });
});

t.test('policy eval --fail exits 1 on an undefined result', async (t) => {
  const r = await cli('policy', 'eval', '--fail', 'input.missing');
  t.equal(r.code, EXIT.FAILED);
  t.equal(r.out.trim(), 'undefined');
});

t.test('every policy subcommand has help text', async (t) => {
  const program = new Command('lacuna-fs');
  register(program);
  const pol = program.commands.find((c) => c.name() === 'policy')!;
  t.same(pol.commands.map((c) => c.name()).sort(), ['check', 'eval', 'test']);
  for (const c of pol.commands) t.ok(c.description().length > 20, `${c.name()} has a description`);
});
