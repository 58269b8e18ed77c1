// Ad-hoc evaluation for `lacuna-fs policy eval`: load Rego and data from any
// number of paths (directories, .rego, .json/.yaml, bundles), then run a query.

import { readBundle } from './bundle.js';
import { mergeData } from './compiler/index.js';
import { compileModules } from './modules.js';
import { type Value, toJSON } from './value.js';

export interface QueryOptions {
  /** Directories, files or bundles to load modules and data from. */
  data?: string[];
  input?: Value;
  strictBuiltinErrors?: boolean;
}

export interface QueryResult {
  /** One object of variable bindings per solution (JSON values); `[]` means undefined. */
  result: Array<Record<string, unknown>>;
  /** Set for a query that is a single term (e.g. `data.lacuna.decision`): its value, or undefined. */
  value?: unknown;
}

export function evalQuery(query: string, opts: QueryOptions = {}): QueryResult {
  const modules: Array<{ path: string; text: string }> = [];
  let data: Value = {};
  for (const p of opts.data ?? []) {
    const b = readBundle(p);
    modules.push(...b.modules);
    data = mergeData(data, b.data);
  }
  const policy = compileModules(modules, data);
  // A bare term is evaluated as `x = term` so its value can be shown, as `opa eval` does.
  const single = !/[;\n]/.test(query) && !/(?<![:=!<>])=(?!=)|:=/.test(query) && !/^\s*(some|every|not)\b/.test(query);
  const q = policy.prepare(single ? `lacuna_query_value = ${query}` : query);
  const rows = q.run(opts.input, undefined, { strict: !!opts.strictBuiltinErrors });
  if (single) {
    const vals = rows.map((r) => r['lacuna_query_value']).filter((v) => v !== undefined);
    return { result: vals.map((v) => ({ value: toJSON(v!) })), value: vals.length ? toJSON(vals[0]!) : undefined };
  }
  return { result: rows.map((r) => toJSON(r as Value) as Record<string, unknown>) };
}
