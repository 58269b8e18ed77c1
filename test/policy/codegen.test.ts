// Rule definitions compiled to generated JavaScript must mean exactly what the
// closure compiler's evaluation means: same values, same undefined, same errors.
// Each program runs both ways (codegen on and off) and the results are compared,
// and against the value OPA gives where it is stated.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { PolicyError, compileModules, loadPolicyBundle } from '../../src/policy/index.js';
import { fromJS, toJSON } from '../../src/policy/value.js';

interface Case {
  name: string;
  rego: string;
  input?: unknown;
  data?: unknown;
  want?: unknown;
  wantCode?: string;
}

const CASES: Case[] = [
  { name: 'conflicting complete rule values', rego: 'p := x if some x in [1, 2]', wantCode: 'eval_conflict_error' },
  { name: 'equal values of several solutions are no conflict', rego: 'p := 1 if some x in [1, 2]', want: 1 },
  { name: 'function conflict', rego: 'f(x) := 1\nf(x) := 2\np := f(0)', wantCode: 'eval_conflict_error' },
  { name: 'else chain whose head value is undefined falls through', rego: 'p := input.nope if true\nelse := 2', want: 2 },
  { name: 'default function without a matching definition', rego: 'default f(_) := "d"\nf(1) := "one"\np := [f(1), f(2)]', want: ['one', 'd'] },
  { name: 'array patterns in function arguments', rego: 'f([a, b]) := a + b\np := [f([1, 2]), x] if x := "y"\nq := f([1])', want: [3, 'y'] },
  { name: 'negation of an enumerating body', rego: 'p if not input.xs[_] > 5', input: { xs: [1, 2] }, want: true },
  { name: 'negation fails when any element matches', rego: 'p if not any_big\nany_big if some x in input.xs; x > 1', input: { xs: [1, 2] }, want: undefined },
  { name: 'nested iteration with shared variables', rego: 'p contains [i, j] if { some i, x in input.a; some j, y in input.b; x == y }', input: { a: ['x', 'y'], b: ['y', 'x'] }, want: [[0, 1], [1, 0]] },
  { name: 'ref iteration over objects and sets in key order', rego: 'p := [k | input.o[k]]\nq := 1', input: { o: { b: 1, a: 2 } }, want: ['a', 'b'] },
  { name: 'set comprehension with undefined head skipped', rego: 'p := {x.v | some x in input.xs}', input: { xs: [{ v: 1 }, {}, { v: 2 }] }, want: [1, 2] },
  { name: 'object literal with computed and non-string keys', rego: 'p := {input.k: 1, 2: "two", "z": input.k}', input: { k: 'a' }, want: { '2': 'two', a: 1, z: 'a' } },
  { name: 'undefined inside a collection makes it undefined', rego: 'p := [1, input.nope]', want: undefined },
  { name: 'with inside a generated body', rego: 'q := input.x\np := [y, input.x] if y := q with input.x as 7', input: { x: 1 }, want: [7, 1] },
  { name: 'every inside a generated body', rego: 'p if { count(input.xs) > 0; every x in input.xs { x > 0 } }', input: { xs: [1, 2] }, want: true },
  { name: 'builtin errors are raised with strict errors', rego: 'p := x if x := 1 / 0', wantCode: 'eval_builtin_error' },
  { name: 'relations enumerate', rego: 'p := [x | walk({"a": 1}, [_, x])]', want: [{ a: 1 }, 1] },
  { name: 'unification of two unbound composites by pairs', rego: 'p := [a, b] if [a, 1] = [2, b]', want: [2, 1] },
  { name: 'multiple definitions of a set with iteration and constants', rego: 'p contains x if some x in input.xs\np contains "c"', input: { xs: ['a', 'b'] }, want: ['a', 'b', 'c'] },
  { name: 'recursion is reported', rego: 'p := q\nq := p', wantCode: 'rego_recursion_error' },
  { name: 'with replaces a function that generated code calls', rego: 'f(x) := x + 1\np := y if y := g with f as 10\ng := f(1)', want: 10 },
  { name: 'template strings', rego: 'p := $"a{input.x}b{input.nope}"', input: { x: 1 }, want: 'a1b<undefined>' },
  { name: 'inherited property names are not values', rego: 'p := [x | x := input.o.constructor]\nq := input.o.toString', input: { o: {} }, want: [] },
  { name: 'sprintf joins strings in place and hands other values to the builtin', rego: 'p := [sprintf("%s-%v", ["a", input.b]), sprintf("%s!", [1]), sprintf("%v", [[1]]), sprintf("%d", [2]), sprintf("x", []), sprintf("%s %s", ["a"])]', input: { b: 'b' }, want: ['a-b', '1!', '[1]', '2', 'x', 'a %!s(MISSING)'] },
  { name: 'sprintf with an undefined argument is undefined', rego: 'p := sprintf("%s", [input.nope])', want: undefined },
  { name: 'a mocked sprintf is called from generated rules', rego: 'q := sprintf("%s", ["a"])\np := y if y := q with sprintf as "mocked"', want: 'mocked' },
  { name: 'one-argument builtins called without an argument array', rego: 'p := [count("héllo"), count([1, 2]), count({"a"}), count({"a": 1}), is_string("x"), is_string(1), is_null(null), type_name(null)]', want: [5, 2, 1, 1, true, false, true, 'null'] },
  { name: 'count of a number is a type error', rego: 'p := count(input.n)', input: { n: 1 }, wantCode: 'eval_type_error' },
  { name: 'sets of records compare them before hashing', rego: 'p := count({x | some i in numbers.range(1, 20); x := {"i": i % 12, "s": "same"}})', want: 12 },
  { name: 'equality with constants of each kind', rego: 'p := [1 == 1.0, "a" == input.s, input.n == "1", input.b != true, null == input.z, input.big == 1795000000000000000, input.one == 1]', input: { s: 'a', n: 1, b: true, z: null, big: 1795000000000000000n, one: 1n }, want: [true, true, false, false, true, true, true] },
  { name: 'constant array indexes', rego: 'p := [input.xs[0], input.xs[1], count([x | x := input.xs[5]]), count([x | x := input.o[0]])]', input: { xs: ['a', 'b'], o: { '0': 'zero' } }, want: ['a', 'b', 0, 0] },
  { name: 'array.concat with empty sides', rego: 'p := [array.concat([], input.xs), array.concat(input.xs, []), array.concat(input.xs, input.xs)]', input: { xs: [1] }, want: [[1], [1], [1, 1]] },
  { name: 'functions indexed by a first argument of each kind', rego: 'f("a") := 1\nf(1) := 2\nf(true) := 3\nf(null) := 4\nf(x) := 5 if is_array(x)\np := [f("a"), f(1), f(true), f(null), f([1]), count([y | y := f("zz")]), f(input.s)]', input: { s: 'a' }, want: [1, 2, 3, 4, 5, 0, 1] },
  // One evaluation runs a rule's plain code (no `with`) and its general code (under `with`).
  { name: 'a rule evaluated without and under with in one query', rego: 'q := input.x\nr := q + 1\np := [r, y] if y := r with input.x as 7', input: { x: 1 }, want: [2, 8] },
  { name: 'a function called without and under a mock of its callee', rego: 'g(x) := x\nf(x) := g(x) + 1\np := [f(1), y] if y := f(1) with g as 10', want: [2, 11] },
  { name: 'a set rule read under with data', rego: 's contains x if some x in data.xs\np := [[x | some x in s], y] if y := [x | some x in s] with data.xs as ["z"]', data: { xs: ['b', 'a'] }, want: [['a', 'b'], ['z']] },
  { name: 'iteration over empty, one-member and larger sets', rego: 'e contains x if some x in input.none\no contains x if some x in input.one\nm contains x if some x in input.two\np := [[x | some x in e], [x | some x in o], [x | some x in m], count(e), count(o)]', input: { none: [], one: ['a'], two: ['b', 'a'] }, want: [[], ['a'], ['a', 'b'], 0, 1] },
  { name: 'membership in sets, arrays and objects', rego: 's := {"a", 1, [1], {"k": 2}}\np := ["a" in s, 1.0 in s, [1] in s, {"k": 2} in s, "z" in s, 2 in s, "a" in ["a"], "a" in {"k": "a"}, "k" in {"k": "a"}, "a" in "a", 1.0 in [2, 1], "1" in [1], input.big in [1, input.big], [1] in [[1]]]', input: { big: 1795000000000000000n }, want: [true, true, true, true, false, false, true, true, false, false, true, false, true, true] },
  { name: 'type predicates on every kind', rego: 'vals := [null, true, 1, 1795000000000000000, "s", [1], {"k": 1}, {1}, {1: "n"}]\np := [[is_null(v), is_boolean(v), is_number(v), is_string(v), is_array(v), is_object(v), is_set(v)] | some v in vals]', want: [[true, false, false, false, false, false, false], [false, true, false, false, false, false, false], [false, false, true, false, false, false, false], [false, false, true, false, false, false, false], [false, false, false, true, false, false, false], [false, false, false, false, true, false, false], [false, false, false, false, false, true, false], [false, false, false, false, false, false, true], [false, false, false, false, false, true, false]] },
  {
    name: 'object.get along constant keys',
    rego: 'r := {1: {"b": "num"}}\np := [object.get(input.o, ["a", "b"], "d"), object.get(input.o, ["a", "x"], "d"), object.get(input.o, ["l", "b"], "d"), object.get(input.o, ["constructor"], "d"), object.get({"k": r}, ["k", 1, "b"], "d"), object.get(input.o, ["a", "n"], "d"), object.get(input.o, ["z"], null)]',
    input: { o: { a: { b: 'ab', n: null }, l: [{ b: 1 }] } },
    want: ['ab', 'd', 'd', 'd', 'num', null, null],
  },
  { name: 'object.get of a non-object is a type error', rego: 'p := object.get(input.s, ["a"], "d")', input: { s: 'x' }, wantCode: 'eval_type_error' },
  { name: 'split by a separator', rego: 'p := [split("a//b/", "/"), split("", "/"), split("abc", "bc"), split("aaa", "aa"), split("x", "yy"), split("héé", "")]', want: [['a', '', 'b', ''], [''], ['a', ''], ['', 'a'], ['x'], ['h', 'é', 'é']] },
  { name: 'partial objects (closure-compiled) beside generated rules', rego: 'p[k] := v if { some k in ["a", "b"]; v := upper(k) }', want: { a: 'A', b: 'B' } },
];

function run(c: Case, codegen: boolean): { value?: unknown; code?: string } {
  try {
    const p = compileModules([{ path: 't.rego', text: `package t\nimport rego.v1\n${c.rego}\n` }], c.data ?? {}, { codegen });
    const v = p.evalPath(['t', 'p'], c.input === undefined ? undefined : fromJS(c.input), undefined, { strict: true });
    return { value: v === undefined ? undefined : toJSON(v) };
  } catch (e) {
    if (e instanceof PolicyError) return { code: e.code };
    throw e;
  }
}

for (const c of CASES) {
  t.test(c.name, async (t) => {
    const gen = run(c, true);
    const ref = run(c, false);
    t.same(gen, ref, 'generated code agrees with the closure compiler');
    if (c.wantCode) t.equal(gen.code, c.wantCode);
    else t.same(gen.value, c.want);
  });
}

t.test('a bundle loaded with codegen: false decides the same', async (t) => {
  const dir = path.resolve(import.meta.dirname, '../../policies');
  const gen = await loadPolicyBundle(dir);
  const ref = await loadPolicyBundle(dir, { codegen: false });
  const input = { action: 'create', source: { tier: 'PROPRIETARY', tags: ['PII'], content: { tier: 'INTERNAL', findings: [] }, lineage: { files: [{ path: '/g/a' }], copy_of: '/g/a' } }, destination: { path: '/tmp/a', zone: 'tmp', zone_kind: 'unmanaged' }, user: { name: 'alice' }, process: { comm: 'cp' }, time: { ns: 1n, hour: 12, weekday: 'Monday' }, purpose: null, exceptions: [] };
  t.same(gen.decide(input), ref.decide(input));
  t.equal(gen.decide(input).allow, false);
});

t.test('the default bundle decides the same with and without generated code', async (t) => {
  const dir = path.resolve(import.meta.dirname, '../../policies');
  const modules = [{ path: 'lacuna.rego', text: readFileSync(path.join(dir, 'lacuna.rego'), 'utf8') }];
  const data = JSON.parse(readFileSync(path.join(dir, 'data.json'), 'utf8'));
  const gen = compileModules(modules, data);
  const ref = compileModules(modules, data, { codegen: false });
  const ruleNodes = (n: ReturnType<typeof gen.root.find>, out: string[] = []): string[] => {
    if (!n) return out;
    if (n.isRule && n.kind !== 'object' && !n.generated) out.push(n.path.join('.'));
    for (const ch of n.children.values()) ruleNodes(ch, out);
    return out;
  };
  t.same(ruleNodes(gen.root), [], 'every rule of the default bundle runs as generated code');
  t.ok(gen.root.find(['lacuna', 'decision'])!.generated, 'the decision rule runs as generated code');
  t.notOk(ref.root.find(['lacuna', 'decision'])!.generated);
  const base = { action: 'create', source: { tier: 'PUBLIC', tags: [], content: { tier: 'PUBLIC', findings: [] }, lineage: { files: [{ path: '/g/a' }], copy_of: '/g/a', aggregate: false } }, destination: { path: '/tmp/a', zone: 'tmp', zone_kind: 'unmanaged', external: false }, user: { name: 'alice' }, process: { comm: 'cp' }, time: { ns: 1795000000000000000n, hour: 22, weekday: 'Sunday' }, purpose: null, exceptions: [] };
  const variants: unknown[] = [
    base,
    { ...base, action: 'read' },
    { ...base, action: 'frobnicate' },
    { ...base, source: { ...base.source, tier: 'PROPRIETARY', tags: ['PII'] } },
    { ...base, action: 'export', source: { ...base.source, tier: 'PROPRIETARY', tags: ['PII'] } },
    { ...base, source: { ...base.source, tier: 'INTERNAL' }, destination: { ...base.destination, external: true } },
    { ...base, source: { ...base.source, content: { tier: 'INTERNAL', findings: [{ type: 'email', category: 'pii', count: 3 }, { type: 'aws_key', category: 'secret', count: 1 }] } } },
    { ...base, source: { ...base.source, tier: 'PROPRIETARY', tags: ['PII'], lineage: { ...base.source.lineage, aggregate: true } } },
    { ...base, source: { ...base.source, tier: 'PROPRIETARY' }, exceptions: [{ id: 'e1', path: '/g/', dest: '/tmp/a', expires_ns: 1895000000000000000n, requested_by: 'alice', approved_by: 'bob' }] },
    { ...base, destination: { ...base.destination, zone_kind: 'governed' } },
  ];
  for (const v of variants) {
    const input = fromJS(v);
    t.same(toJSON(gen.evalPath(['lacuna', 'decision'], input, undefined, { strict: true })!), toJSON(ref.evalPath(['lacuna', 'decision'], input, undefined, { strict: true })!));
  }
});
