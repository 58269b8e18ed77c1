// The Rego engine on its own: language features as data-driven cases, errors
// with file:line:col and caret, exact big integers, and the compile-once shape.
import t from 'tap';
import { PolicyError, compileModules } from '../../src/policy/index.js';
import { parseModule } from '../../src/policy/parser.js';
import { toJSON } from '../../src/policy/value.js';

interface Case {
  name: string;
  rego: string;
  query?: string; // default: data.t.p
  input?: unknown;
  data?: unknown;
  want?: unknown; // JSON value of data.t.p (undefined = undefined)
  wantCode?: string;
}

const CASES: Case[] = [
  { name: 'complete rule with default stays default when body fails', rego: 'default p := false\np if input.x == 1', input: { x: 2 }, want: false },
  { name: 'undefined stays undefined without a default', rego: 'p if input.x == 1', input: { x: 2 }, want: undefined },
  { name: 'partial set rules from several definitions union', rego: 'p contains x if some x in [1, 2]\np contains 3', want: [1, 2, 3] },
  { name: 'partial object rule', rego: 'p[k] := v if some k, v in {"a": 1, "b": 2}', want: { a: 1, b: 2 } },
  { name: 'ref heads nest objects', rego: 'p.a.b := 1\np.a.c := 2', want: { a: { b: 1, c: 2 } } },
  { name: 'functions with several definitions', rego: 'f(x) := "small" if x < 10\nf(x) := "big" if x >= 10\np := [f(1), f(20)]', want: ['small', 'big'] },
  { name: 'else chain takes the first body that holds', rego: 'p := "a" if input.x == 1\nelse := "b" if input.x == 2\nelse := "c"', input: { x: 2 }, want: 'b' },
  { name: 'negation', rego: 'p if not input.missing', input: {}, want: true },
  { name: 'every over an array', rego: 'p if every x in input.xs { x > 0 }', input: { xs: [1, 2] }, want: true },
  { name: 'every fails on one element', rego: 'p if every x in input.xs { x > 1 }', input: { xs: [1, 2] }, want: undefined },
  { name: 'comprehensions of all three kinds', rego: 'p := [[x | some x in input.xs], {x | some x in input.xs}, {x: x * 2 | some x in input.xs}]', input: { xs: [2, 1, 2] }, want: [[2, 1, 2], [1, 2], { '1': 2, '2': 4 }] },
  { name: 'with overrides input and data', rego: 'q := [input.x, data.d]\np := y if y := q with input.x as 1 with data.d as 2', want: [1, 2] },
  { name: 'with replaces a builtin', rego: 'p := y if y := count([1, 2, 3]) with count as 42', want: 42 },
  { name: 'with replaces a function by another', rego: 'f(x) := x + 1\ng(x) := x * 10\np := y if y := f(2) with f as g', want: 20 },
  { name: 'unification destructures arrays and objects', rego: 'p := [a, b] if {\n[a, {"k": b}] = [1, {"k": 2}]\n}', want: [1, 2] },
  { name: 'expressions are reordered for safety', rego: 'p := y if {\ny > 1\ny := 2\n}', want: 2 },
  { name: 'some ... in with key and value', rego: 'p contains k if { some k, v in input.o; v == true }', input: { o: { a: true, b: false } }, want: ['a'] },
  { name: 'multiple modules per package', rego: 'p := q + 1', query: 'data.t.p', want: 3 },
  { name: 'base data documents', rego: 'p := data.cfg.level * 2', data: { cfg: { level: 21 } }, want: 42 },
  { name: 'integers beyond 2^53 compare exactly', rego: 'p if input.a < input.b', input: { a: 9007199254740993n, b: 9007199254740994n }, want: true },
  { name: 'big integer arithmetic stays exact', rego: 'p := input.ns + 1', input: { ns: 1795000000000000000n }, want: 1795000000000000001n },
  { name: 'iteration over a set follows OPA order (sorted), as comprehensions and concat show', rego: 'p := [[x | some x in {"b", "c", "a"}], concat(",", {"b", "a"}), [k | some k in {3, "x", 1}]]', want: [['a', 'b', 'c'], 'a,b', [1, 3, 'x']] },
  { name: 'iteration over an object follows sorted keys, as in OPA', rego: 'p := [[k | some k, _ in input.o], [v | v := input.o[_]]]', input: { o: { b: 2, a: 1, '10': 3 } }, want: [['10', 'a', 'b'], [3, 1, 2]] },
  { name: 'sets of objects deduplicate structurally', rego: 'p := count({{"a": [1, 2]}, {"a": [1, 2]}, {"a": [2, 1]}})', want: 2 },
  { name: 'string builtins', rego: 'p := [sprintf("%s-%d-%v", ["a", 7, [1]]), concat("/", ["a", "b"]), trim_space("  x "), lower("AbC"), replace("a.b", ".", "/")]', want: ['a-7-[1]', 'a/b', 'x', 'abc', 'a/b'] },
  { name: 'regex via RE2 and glob', rego: 'p := [regex.match("^a+b$", "aaab"), glob.match("*.csv", ["/"], "x.csv"), glob.match("/data/**", ["/"], "/data/a/b")]', want: [true, true, true] },
  { name: 'time builtins', rego: 'p := [time.parse_rfc3339_ns("2026-11-23T14:02:03Z"), time.weekday(0), time.clock(3600000000000)]', want: [1795442523000000000n, 'Thursday', [1, 0, 0]] },
  { name: 'template strings', rego: 'p := $"user {input.u} has {count(input.xs)} items"', input: { u: 'alice', xs: [1, 2] }, want: 'user alice has 2 items' },
  { name: 'a builtin error makes the expression undefined (non-strict, like OPA)', rego: 'p := x if x := 1 / input.zero', input: { zero: 0 }, want: undefined },
  { name: 'complete rules with two values conflict', rego: 'p := 1\np := 2', wantCode: 'eval_conflict_error' },
  { name: 'functions with two outputs for one input conflict', rego: 'f(_) := 1\nf(_) := 2\np := f(0)', wantCode: 'eval_conflict_error' },
  { name: 'partial object keys with two values conflict', rego: 'p[k] := v if some k, v in {"a": 1}\np["a"] := 2', wantCode: 'eval_conflict_error' },
  { name: 'an unsafe variable is a compile error', rego: 'p if x > 1', wantCode: 'rego_unsafe_var_error' },
  { name: 'calling an unknown function is a compile error', rego: 'p := nope(1)', wantCode: 'rego_type_error' },
  { name: 'a wrong number of arguments is a compile error', rego: 'p := count(1, 2, 3)', wantCode: 'rego_type_error' },
];

for (const c of CASES) {
  t.test(c.name, async (t) => {
    const modules = [{ path: 'm.rego', text: `package t\nimport rego.v1\n${c.rego}\n` }];
    if (c.name === 'multiple modules per package') modules.push({ path: 'n.rego', text: 'package t\nq := 2\n' });
    const run = (): unknown => {
      const p = compileModules(modules, c.data ?? {});
      const path = (c.query ?? 'data.t.p').replace(/^data\./, '').split('.');
      const v = p.evalPath(path, c.input as never);
      return v === undefined ? undefined : toJSON(v);
    };
    if (c.wantCode) {
      t.throws(run, { code: c.wantCode });
      return;
    }
    t.same(run(), c.want);
  });
}

t.test('a parse error names file, line and column and shows the line with a caret', async (t) => {
  const err = t.throws(() => parseModule('policies/bad.rego', 'package x\n\np if {\n  x := [1, 2}\n}\n')) as PolicyError;
  t.equal(err.code, 'rego_parse_error');
  t.equal(err.file, 'policies/bad.rego');
  t.equal(err.line, 4);
  t.equal(err.col, 13);
  t.match(err.message, /^policies\/bad\.rego:4:13: unexpected \} token/);
  t.match(err.message, /\n\t  x := \[1, 2\}\n\t {12}\^/);
});

t.test('compile errors from several files are collected and sorted by location', async (t) => {
  const err = t.throws(() =>
    compileModules([
      { path: 'b.rego', text: 'package b\np if y > 1\n' },
      { path: 'a.rego', text: 'package a\n\nq if z\np if x > 1\n' },
    ]),
  ) as PolicyError;
  t.equal(err.errors.length, 3);
  t.same(
    err.errors.map((e) => `${e.file}:${e.line}`),
    ['a.rego:3', 'a.rego:4', 'b.rego:2'],
  );
});

t.test('a prepared policy answers many inputs without recompiling', async (t) => {
  const p = compileModules([{ path: 'm.rego', text: 'package t\nimport rego.v1\nallow if input.user in data.admins\n' }], { admins: ['alice'] });
  const q = p.prepare('data.t.allow = x');
  t.same(q.run({ user: 'alice' }).map((r) => toJSON(r as never)), [{ x: true }]);
  t.same(q.run({ user: 'bob' }), []);
  t.same(q.vars, ['x']);
});
