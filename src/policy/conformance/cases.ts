// Runs OPA's YAML conformance cases (../shared/opa-conformance/cases) against
// this engine. One case: compile its modules and data, evaluate its query, and
// compare the result set (or error code and message) the way OPA's runner does.

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { compile } from '../compiler/index.js';
import { PolicyError } from '../errors.js';
import { parseModule } from '../parser.js';
import { type Value, compare, equal, fromJS, toJSON } from '../value.js';

export interface Case {
  note: string;
  query: string;
  modules?: string[];
  data?: unknown;
  input?: unknown;
  input_term?: string;
  want_result?: Array<Record<string, unknown>>;
  want_error_code?: string;
  want_error?: string;
  strict_error?: boolean;
  sort_bindings?: boolean;
  ignore_generated_vars?: boolean;
}

export interface CaseRef {
  folder: string;
  file: string;
  index: number;
  /** Stable key used in the ratchet list: `folder/file#index`. */
  key: string;
  c: Case;
}

export function loadCases(root: string): CaseRef[] {
  const out: CaseRef[] = [];
  for (const folder of readdirSync(root).sort()) {
    let files: string[];
    try {
      files = readdirSync(join(root, folder)).filter((f) => /\.ya?ml$/.test(f)).sort();
    } catch {
      continue;
    }
    for (const file of files) {
      const doc = parseYaml(readFileSync(join(root, folder, file), 'utf8'), { intAsBigInt: true }) as { cases?: Case[] };
      (doc.cases ?? []).forEach((c, index) => out.push({ folder, file, index, key: `${folder}/${file}#${index}`, c }));
    }
  }
  return out;
}

export type Outcome = { ok: true } | { ok: false; why: string };

function sortDeep(v: Value): Value {
  return Array.isArray(v) ? [...v].sort(compare) : v;
}

export function runCase(c: Case): Outcome {
  let rows: Array<Record<string, Value>>;
  try {
    const modules = (c.modules ?? []).map((m, i) => parseModule(`test-${i}.rego`, m, i));
    const policy = compile(modules, fromJS(c.data ?? {}));
    let input: Value | undefined = c.input === undefined ? undefined : fromJS(c.input);
    if (c.input_term !== undefined) {
      const r = compile([]).prepare(`input_term_value = ${c.input_term}`).run(undefined);
      input = r[0]?.['input_term_value'];
    }
    const q = policy.prepare(c.query);
    rows = q.run(input, undefined, { strict: !!c.strict_error });
  } catch (e) {
    if (!(e instanceof PolicyError)) return { ok: false, why: `crash: ${(e as Error).stack?.split('\n').slice(0, 3).join(' | ')}` };
    if (c.want_error_code === undefined && c.want_error === undefined) return { ok: false, why: `unexpected error ${e.code}: ${e.message}` };
    if (c.want_error_code !== undefined && e.code !== c.want_error_code) return { ok: false, why: `error code ${e.code}, want ${c.want_error_code}: ${e.message}` };
    if (c.want_error !== undefined && !e.message.includes(c.want_error)) return { ok: false, why: `error ${JSON.stringify(e.message)} does not contain ${JSON.stringify(c.want_error)}` };
    return { ok: true };
  }
  if (c.want_error_code !== undefined || c.want_error !== undefined) {
    if (c.want_result === undefined) return { ok: false, why: `no error, want ${c.want_error_code ?? ''} ${c.want_error ?? ''}` };
  }
  if (c.want_result === undefined) return { ok: false, why: 'case has no expectation' };
  const actual = rows.map((r) => {
    const o: Record<string, Value> = {};
    for (const [k, v] of Object.entries(r)) {
      if (c.ignore_generated_vars && k.startsWith('__localq')) continue;
      const j = fromJS(toJSON(v));
      o[k] = c.sort_bindings ? sortDeep(j) : j;
    }
    return o;
  });
  const want = c.want_result.map((r) => fromJS(r) as Record<string, Value>);
  const same = (a: Record<string, Value>, b: Record<string, Value>): boolean => equal(a, b);
  for (const w of want) if (!actual.some((a) => same(a, w))) return { ok: false, why: `missing row ${show(w)}; got ${show(actual)}` };
  for (const a of actual) if (!want.some((w) => same(a, w))) return { ok: false, why: `unexpected row ${show(a)}; want ${show(want)}` };
  return { ok: true };
}

function show(v: unknown): string {
  const s = JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));
  return s.length > 300 ? s.slice(0, 300) + '…' : s;
}
