// Public interface of the policy area: load a bundle (directory of Rego + data,
// or an OPA bundle .tar.gz, optionally with policy.wasm) once, then decide
// synchronously per file operation. A bundle that fails to load throws and so
// never replaces the one that is running.

import { mergeData } from './compiler/index.js';
import { compileModules } from './modules.js';
import { type Decision, errorDecision, toDecision } from './decision.js';
import { PolicyError } from './errors.js';
import { readBundle } from './bundle.js';
import { type Value, fromJS, toJSON } from './value.js';
import { loadWasm } from './wasm.js';

export type { Decision } from './decision.js';
export { PolicyError } from './errors.js';
export type { Location } from './source.js';
export { compileModules } from './modules.js';
export { runPolicyTests, type TestResult } from './testing.js';
export { checkBundle, type CheckReport } from './check.js';
export { evalQuery, type QueryOptions } from './query.js';

export interface PolicyBundle {
  /** sha256 over the bundle's files (path order), shown in status and audit. */
  readonly hash: string;
  /** Path loaded. */
  readonly source: string;
  /** ISO time of loading. */
  readonly loadedAt: string;
  readonly engine: 'rego' | 'wasm';
  /** The entrypoint decisions come from, e.g. `lacuna/decision`. */
  readonly entrypoint: string;
  /**
   * Synchronous decision. `data` is deep-merged under `data` for this call only.
   * Undefined → deny (`undefined-decision`); evaluation error → deny (`policy-error`).
   * Precondition: `input` and `data` are JSON-shaped (bigint for integers beyond 2^53) and are
   * not mutated after being passed; passing the same `data` object again while it is unchanged
   * reuses its merged form and cached data-only rule values.
   */
  decide(input: unknown, data?: Record<string, unknown>): Decision;
  /**
   * Evaluates a query. A plain reference (`data.lacuna.decision`) returns its value
   * (undefined when undefined); other queries return the result set: one object of
   * variable bindings per solution. Values come back as JSON (sets as sorted arrays).
   * Throws PolicyError on evaluation errors.
   */
  evaluate(query: string, input?: unknown): unknown;
}

export interface LoadOptions {
  /** Decision entrypoint, `/`-separated below data. Default `lacuna/decision`. */
  entrypoint?: string;
  /** `auto` (default) uses policy.wasm when the bundle has one, else the Rego engine. */
  engine?: 'rego' | 'wasm' | 'auto';
  /**
   * Raise builtin errors instead of making the expression undefined (OPA's
   * strict-builtin-errors). Default true here, unlike OPA: with it off, a builtin failing inside
   * a deny rule silently removes the denial, i.e. fails open. A raised error denies instead
   * (`policy-error`). Set false for OPA's exact behaviour.
   */
  strictBuiltinErrors?: boolean;
  /**
   * Rego engine only: compile rule definitions to generated JavaScript (default true). False
   * evaluates with the closure compiler alone, e.g. where `new Function` is not allowed, or
   * to compare the two.
   */
  codegen?: boolean;
}

const REF_QUERY = /^\s*data((?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*$/;

export async function loadPolicyBundle(path: string, opts: LoadOptions = {}): Promise<PolicyBundle> {
  const entrypoint = (opts.entrypoint ?? 'lacuna/decision').replace(/^data[./]/, '').replace(/\./g, '/');
  const contents = readBundle(path);
  const engine = opts.engine === 'wasm' || (opts.engine !== 'rego' && contents.wasm) ? 'wasm' : 'rego';
  const loadedAt = new Date().toISOString();
  const epPath = entrypoint.split('/').filter(Boolean);

  if (engine === 'wasm') {
    if (!contents.wasm) throw new PolicyError('bundle_error', `${path}: engine wasm requested but the bundle has no policy.wasm`);
    const wasm = await loadWasm(contents.wasm, contents.data, path);
    if (!(entrypoint in wasm.entrypoints)) {
      throw new PolicyError('bundle_error', `${path}: policy.wasm has no entrypoint ${entrypoint} (has: ${Object.keys(wasm.entrypoints).join(', ')})`);
    }
    let lastExtra: unknown;
    const withData = (extra: Record<string, unknown> | undefined): void => {
      if (extra === lastExtra) return;
      wasm.setData(extra === undefined ? contents.data : mergeData(contents.data, fromJS(extra)));
      lastExtra = extra;
    };
    const evalEp = (ep: string, input: unknown): unknown => {
      const rs = wasm.evaluate(input, ep);
      return rs.length ? rs[0]!.result : undefined;
    };
    return {
      hash: contents.hash,
      source: path,
      loadedAt,
      engine,
      entrypoint,
      decide(input, data) {
        try {
          withData(data);
          return toDecision(fromJS(evalEp(entrypoint, input)), entrypoint);
        } catch (e) {
          return errorDecision(e);
        }
      },
      evaluate(query, input) {
        withData(undefined);
        const m = REF_QUERY.exec(query);
        const ep = m ? m[1]!.slice(1).replace(/\./g, '/') : '';
        if (!(ep in wasm.entrypoints)) throw new PolicyError('wasm_error', `wasm bundles answer only their entrypoints (${Object.keys(wasm.entrypoints).join(', ')}); got ${query}`);
        return evalEp(ep, input);
      },
    };
  }

  const policy = compileModules(contents.modules, contents.data, { codegen: opts.codegen ?? true });
  const strict = opts.strictBuiltinErrors ?? true;
  const decideAt = policy.preparePath(epPath);
  const evalOpts = { strict };
  return {
    hash: contents.hash,
    source: path,
    loadedAt,
    engine,
    entrypoint,
    decide(input, data) {
      try {
        const v = decideAt(input as Value, data === undefined ? undefined : (data as Value), evalOpts);
        return toDecision(v, entrypoint);
      } catch (e) {
        return errorDecision(e);
      }
    },
    evaluate(query, input) {
      const v = input === undefined ? undefined : fromJS(input);
      const m = REF_QUERY.exec(query);
      if (m) {
        const r = policy.evalPath(m[1]!.split('.').filter(Boolean), v, undefined, { strict });
        return r === undefined ? undefined : toJSON(r);
      }
      return policy.prepare(query).run(v, undefined, { strict }).map((row) => toJSON(row as Value));
    },
  };
}
