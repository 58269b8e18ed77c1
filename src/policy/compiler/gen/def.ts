// One rule definition (with its else chain) as one generated function. It
// computes what rules.ts's evalDef computes from closures: the first clause
// with a solution gives the value, solutions of one clause must agree
// (eval_conflict_error otherwise), a constant head stops at the first solution.

import type { Rule, Term } from '../../ast.js';
import { PolicyError } from '../../errors.js';
import type { Ctx } from '../../eval/runtime.js';
import { RSet, type Value, equal } from '../../value.js';
import type { CompileEnv } from '../steps.js';
import { BodyGen } from './body.js';
import type { Variants } from './emitter.js';

export type { Variants } from './emitter.js';

/** Value of a complete rule or function definition; `args` for functions. */
export type GenDef = (c: Ctx, args: Value[] | null) => Value | undefined;
/** Adds the members a partial set definition contributes. */
export type GenSetDef = (c: Ctx, out: RSet) => void;

export interface DefShape {
  rule: Rule;
  nslots: number;
  /** Whether each clause's head is a constant (first solution decides). */
  constant: boolean[];
  /** Set member term (partial sets), else null. */
  member: Term | null;
  msg: string;
}

/** `rule_<name>_<line>`: which definition a generated function is, in profiles and stack traces. */
function nameOf(rule: Rule): string {
  const h = rule.head.ref[0];
  return `rule_${h && h.t === 'var' ? h.name : 'anon'}_${rule.loc.line}`;
}

class DefGen extends BodyGen {
  value(d: DefShape): Variants<GenDef> {
    const em = this.em;
    const rule = d.rule;
    em.line('let out;');
    const args = rule.head.args ?? [];
    const argB = new Set<number>();
    if (args.length) {
      // A default function's value is evaluated without arguments (args === null).
      em.open('if (args !== null)');
      em.within('return undefined;', 'return undefined;', () => args.forEach((a, i) => this.genPattern(a, argB, `args[${i}]`)));
      em.close();
    }
    const conflict = em.ref(() => new PolicyError('eval_conflict_error', d.msg, rule.loc));
    const clauses: Array<{ body: Rule['body']; value: Term | null }> = [{ body: rule.body, value: rule.head.value }, ...rule.elses.map((e) => ({ body: e.body, value: e.value }))];
    clauses.forEach((cl, ci) => {
      const label = em.temp('C');
      const B = new Set(argB);
      em.open(`${label}:`);
      em.within(`break ${label};`, `break ${label};`, () =>
        this.genBody(cl.body, B, () => {
          const take = (v: string): void => {
            em.line(`if (out === undefined) out = ${v}; else if (!equal(out, ${v})) throw ${conflict}();`);
            if (d.constant[ci]) em.line(em.stop);
          };
          if (cl.value === null) take('true');
          else this.genTerm(cl.value, B, take);
        }),
      );
      em.close();
      em.line('if (out !== undefined) return out;');
    });
    em.line('return undefined;');
    return em.build<GenDef>('c, args', d.nslots, nameOf(rule));
  }

  members(d: DefShape): Variants<GenSetDef> {
    const em = this.em;
    const B = new Set<number>();
    const label = em.temp('C');
    em.open(`${label}:`);
    em.within(`break ${label};`, `break ${label};`, () => this.genBody(d.rule.body, B, () => this.genGetter(d.member!, B, (m) => em.line(`out.add(${m});`))));
    em.close();
    return em.build<GenSetDef>('c, out', d.nslots, nameOf(d.rule));
  }
}

/** Generated evaluator of a complete rule or function definition. */
export function generateValue(env: CompileEnv, d: DefShape): Variants<GenDef> {
  return new DefGen(env).value(d);
}

/**
 * A rule's or function's definitions (all generated) tried in order, as evaluate/call do: the
 * defined values must agree (`conflicts[i]` makes the error for definition i), and `fallback`
 * (the default) answers when none is defined. One call site per definition.
 */
export function firstOf(parts: GenDef[], conflicts: Array<() => PolicyError>, fallback: ((c: Ctx) => Value | undefined) | null): GenDef {
  // One definition and no default (an indexed function's usual case): the definition itself, one call less.
  if (parts.length === 1 && fallback === null) return parts[0]!;
  const names = parts.map((_, i) => `d${i}`);
  const xs = parts.map((_, i) => `x${i}`);
  const lines = names.map((n, i) =>
    i === 0 ? `v = ${n}(c, args); if (v !== undefined) r = v;` : `v = ${n}(c, args); if (v !== undefined) { if (r === undefined) r = v; else if (!equal(r, v)) throw ${xs[i]}(); }`,
  );
  const tail = fallback === null ? 'return r;' : 'return r !== undefined ? r : fallback(c);';
  const src = `"use strict";\nreturn function generatedRule(c, args) {\nlet r;\nlet v;\n${lines.join('\n')}\n${tail}\n};`;
  return new Function('equal', 'fallback', ...names, ...xs, src)(equal, fallback, ...parts, ...conflicts) as GenDef;
}

/**
 * A function's call indexed by its first argument: a string picks its definitions through a
 * `switch` over the indexed constants (else `unindexed`), a composite tries `all`, other
 * scalars go to `other`; no arguments (a default's evaluation) tries `all`.
 */
export function switchOnString(cases: Array<[string, GenDef]>, unindexed: GenDef, all: GenDef, other: GenDef): (args: Value[], c: Ctx) => Value | undefined {
  const names = cases.map((_, i) => `f${i}`);
  const arms = cases.map(([k], i) => `case ${JSON.stringify(k)}: return ${names[i]}(c, args);`).join('\n');
  const src = `"use strict";\nreturn function generatedCall(args, c) {\nif (args.length === 0) return all(c, args);\nconst a0 = args[0];\nif (typeof a0 === 'string') {\nswitch (a0) {\n${arms}\ndefault: return unindexed(c, args);\n}\n}\nif (typeof a0 === 'object' && a0 !== null) return all(c, args);\nreturn other(c, args);\n};`;
  return new Function('unindexed', 'all', 'other', ...names, src)(unindexed, all, other, ...cases.map(([, f]) => f)) as (args: Value[], c: Ctx) => Value | undefined;
}

/** A partial set rule whose definitions are all generated: one call site per definition (each can be inlined). */
export function unionOf(parts: GenSetDef[]): (c: Ctx) => Value {
  const names = parts.map((_, i) => `d${i}`);
  const calls = names.map((n) => `${n}(c, out);`).join('\n');
  const src = `"use strict";\nreturn function generatedSet(c) {\nconst out = new RSet();\n${calls}\nreturn out;\n};`;
  return new Function('RSet', ...names, src)(RSet, ...parts) as (c: Ctx) => Value;
}

/** Generated evaluator of a partial set definition (no else chain). */
export function generateMembers(env: CompileEnv, d: DefShape): Variants<GenSetDef> {
  return new DefGen(env).members(d);
}
