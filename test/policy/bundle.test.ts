// Loading bundles: directories and OPA .tar.gz bundles, data placement, the
// bundle hash, load errors that leave the running bundle alone, and fail-closed
// decisions.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import * as tar from 'tar';
import { PolicyError, loadPolicyBundle } from '../../src/policy/index.js';

function dir(t: { teardown(fn: () => void): void }, files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), 'lacuna-bundle-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(d, p, '..'), { recursive: true });
    writeFileSync(join(d, p), text);
  }
  return d;
}

const POLICY = `package lacuna
import rego.v1
decision := {"allow": input.user in data.team.members, "policy_id": "team", "reasoning": sprintf("user %s", [input.user]), "alternatives": [], "obligations": [data.team.settings.tag]}
`;

t.test('a directory bundle places data files by their directory and decides', async (t) => {
  const d = dir(t, {
    'lacuna.rego': POLICY,
    'team/data.json': '{"members": ["alice"]}',
    'team/settings/x.yaml': 'tag: audited\n',
    'lacuna_test.rego': 'package lacuna_test\nimport rego.v1\ntest_x if true\n',
  });
  const b = await loadPolicyBundle(d);
  t.equal(b.engine, 'rego');
  t.equal(b.entrypoint, 'lacuna/decision');
  t.same(b.decide({ user: 'alice' }), { allow: true, policy_id: 'team', reasoning: 'user alice', alternatives: [], obligations: ['audited'] });
  t.equal(b.decide({ user: 'bob' }).allow, false);
  t.same(b.evaluate('data.team.members'), ['alice']);
  t.same(b.evaluate('x := data.team.members[_]'), [{ x: 'alice' }]);
  t.ok(!Number.isNaN(Date.parse(b.loadedAt)));
});

t.test('the bundle hash is stable, ignores tests, and changes with any decision-relevant file', async (t) => {
  const d = dir(t, { 'lacuna.rego': POLICY, 'team/data.json': '{"members": []}', 'team/settings/data.json': '{"tag": "t"}' });
  const h1 = (await loadPolicyBundle(d)).hash;
  t.equal((await loadPolicyBundle(d)).hash, h1);
  writeFileSync(join(d, 'extra_test.rego'), 'package x_test\nimport rego.v1\ntest_a if true\n');
  t.equal((await loadPolicyBundle(d)).hash, h1, 'adding a test file does not change it');
  writeFileSync(join(d, 'team/data.json'), '{"members": ["eve"]}');
  t.not((await loadPolicyBundle(d)).hash, h1);
});

t.test('an OPA bundle .tar.gz with .manifest and data.json loads on the Rego engine', async (t) => {
  const d = dir(t, { 'src/.manifest': '{"revision": "7", "roots": ["lacuna", "team"]}', 'src/lacuna/policy.rego': POLICY, 'src/data.json': '{"team": {"members": ["alice"], "settings": {"tag": "x"}}}' });
  const tgz = join(d, 'bundle.tar.gz');
  await tar.create({ gzip: true, file: tgz, cwd: join(d, 'src') }, ['.manifest', 'lacuna', 'data.json']);
  const b = await loadPolicyBundle(tgz);
  t.equal(b.engine, 'rego');
  t.equal(b.decide({ user: 'alice' }).allow, true);
  t.equal(b.source, tgz);
});

t.test('a bundle that does not compile is refused with file:line:col and the running one keeps deciding', async (t) => {
  const good = await loadPolicyBundle(dir(t, { 'lacuna.rego': POLICY, 'team/data.json': '{"members": ["alice"], "settings": {"tag": "x"}}' }));
  const bad = dir(t, { 'lacuna.rego': 'package lacuna\nimport rego.v1\ndecision := {"allow": true\n' });
  const err = (await loadPolicyBundle(bad).catch((e: unknown) => e)) as PolicyError;
  t.ok(err instanceof PolicyError);
  t.equal(err.code, 'rego_parse_error');
  t.match(err.file, /lacuna\.rego$/);
  t.equal(typeof err.line, 'number');
  t.equal(good.decide({ user: 'alice' }).allow, true, 'the previously loaded bundle is untouched');
});

t.test('an undefined decision denies with policy_id undefined-decision', async (t) => {
  const b = await loadPolicyBundle(dir(t, { 'p.rego': 'package lacuna\nimport rego.v1\ndecision := {"allow": true} if input.ok\n' }));
  const d = b.decide({ ok: false });
  t.equal(d.allow, false);
  t.equal(d.policy_id, 'undefined-decision');
  t.match(d.reasoning, /undefined/);
});

t.test('an evaluation error denies (fail closed) with the error in the reasoning', async (t) => {
  const b = await loadPolicyBundle(dir(t, { 'p.rego': 'package lacuna\nimport rego.v1\ndecision := {"allow": true} if input.a\ndecision := {"allow": false} if input.b\n' }));
  const d = b.decide({ a: true, b: true });
  t.equal(d.allow, false);
  t.equal(d.policy_id, 'policy-error');
  t.match(d.reasoning, /eval_conflict_error/);
});

t.test('a custom entrypoint and a boolean decision', async (t) => {
  const b = await loadPolicyBundle(dir(t, { 'p.rego': 'package acme.files\nimport rego.v1\ndefault allow := false\nallow if input.user == "root"\n' }), { entrypoint: 'acme/files/allow' });
  t.same(b.decide({ user: 'root' }), { allow: true, policy_id: 'acme/files/allow', reasoning: 'allowed by policy', alternatives: [], obligations: [] });
  t.equal(b.decide({ user: 'x' }).allow, false);
});

t.test('decision fields are read from objects with non-string keys and from partial ones', async (t) => {
  const src = 'package lacuna\nimport rego.v1\ndecision := {"allow": true, "policy_id": "mixed", "reasoning": "r", "alternatives": {"b", "a"}, "obligations": ["o"], 1: "one"} if input.mixed\ndecision := {"allow": "yes"} if not input.mixed\n';
  const b = await loadPolicyBundle(dir(t, { 'p.rego': src }));
  t.same(b.decide({ mixed: true }), { allow: true, policy_id: 'mixed', reasoning: 'r', alternatives: ['a', 'b'], obligations: ['o'] });
  t.same(b.decide({ mixed: false }), { allow: false, policy_id: 'lacuna/decision', reasoning: 'denied by policy', alternatives: [], obligations: [] });
});

t.test('decision lists: strings as they are, other values as JSON text, sets in order', async (t) => {
  const src = 'package lacuna\nimport rego.v1\ndecision := {"allow": false, "policy_id": "p", "reasoning": "r", "alternatives": ["a", 1, {"k": {2, 1}}], "obligations": {"z", [1]}}\n';
  const b = await loadPolicyBundle(dir(t, { 'p.rego': src }));
  t.same(b.decide({}), { allow: false, policy_id: 'p', reasoning: 'r', alternatives: ['a', '1', '{"k":[1,2]}'], obligations: ['z', '[1]'] });
});

t.test('a missing path is a bundle_error', async (t) => {
  await t.rejects(loadPolicyBundle('/nonexistent/lacuna-policies'), { code: 'bundle_error' });
});

t.test('a builtin error inside a deny rule denies (fail closed) rather than silently allowing', async (t) => {
  const src = 'package lacuna\nimport rego.v1\ndefault decision := {"allow": true, "policy_id": "ok"}\ndecision := {"allow": false, "policy_id": "too-big"} if to_number(input.size) > 100\n';
  const strict = await loadPolicyBundle(dir(t, { 'p.rego': src }));
  const d = strict.decide({ size: 'not a number' });
  t.equal(d.allow, false);
  t.equal(d.policy_id, 'policy-error');
  t.match(d.reasoning, /to_number/);
  t.equal(strict.decide({ size: '7' }).allow, true);
  // OPA's default (non-strict) makes the failing expression undefined: the denial disappears.
  const opa = await loadPolicyBundle(dir(t, { 'p.rego': src }), { strictBuiltinErrors: false });
  t.equal(opa.decide({ size: 'not a number' }).allow, true);
});
