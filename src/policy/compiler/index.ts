// Compile once, evaluate many: modules → a CompiledPolicy. The passes run in a
// fixed order: build the data tree (rule paths and kinds), build each module's
// environment (package, imports, rule names), compile each rule node to closures.
// Errors of every pass are collected and thrown together, sorted by location.

import type { Module, Rule, Term } from '../ast.js';
import { BUILTINS } from '../builtins/index.js';
import type { BuiltinTable } from '../builtins/types.js';
import { PolicyError } from '../errors.js';
import { Ctx, type EvalOptions, type Override } from '../eval/runtime.js';
import { parseQuery } from '../parser.js';
import { RObj, type Value, fromJS, isObj } from '../value.js';
import { BodyCompiler, type CompileEnv, staticRef } from './body.js';
import { Resolver } from './resolve.js';
import { type CodegenOptions, compileNode } from './rules.js';
import { markStatic } from './static.js';
import { type RuleKind, TreeNode, dataAt } from './tree.js';

export interface QueryRow {
  [name: string]: Value;
}

export interface PreparedQuery {
  /** Variable names reported in each row. */
  vars: string[];
  run(input: Value | undefined, data?: Value, opts?: Partial<EvalOptions>): QueryRow[];
}

export interface CompiledPolicy {
  readonly root: TreeNode;
  readonly modules: Module[];
  readonly baseData: Value;
  /** Value of a data path (`['lacuna','decision']`), or undefined. */
  evalPath(path: string[], input: Value | undefined, data?: Value, opts?: Partial<EvalOptions>): Value | undefined;
  /** A data path resolved once (e.g. the decision entrypoint); calling it evaluates the path. */
  preparePath(path: string[]): (input: Value | undefined, data?: Value, opts?: Partial<EvalOptions>) => Value | undefined;
  /** Prepares a query body once (`data.x.p = y; y > 1`). */
  prepare(query: string): PreparedQuery;
  /** Makes a fresh evaluation context (exposed for the evaluator of tests and benches). */
  context(input: Value | undefined, data?: Value, opts?: Partial<EvalOptions>): Ctx;
}

interface ModuleEnv {
  pkg: string[];
  imports: Map<string, Term>;
  ruleNames: Set<string>;
}

/** Number of leading head-ref elements that are static names (they locate the rule node). */
function staticLen(r: Rule): number {
  let n = 1;
  const ref = r.head.ref;
  while (n < ref.length) {
    const t = ref[n]!;
    if (t.t === 'scalar' && typeof t.v === 'string') n++;
    else break;
  }
  // `a.b.c contains x` / v0 `p[x] { }`: the last static element is still the node.
  return n;
}

function ruleKind(r: Rule, sl: number): RuleKind {
  if (r.head.args) return 'function';
  if (r.legacySet) return r.head.ref.length - sl > 1 ? 'object' : 'set';
  if (r.head.contains) return r.head.ref.length > sl ? 'object' : 'set';
  return r.head.ref.length > sl ? 'object' : 'complete';
}

export function compile(modules: Module[], baseData: unknown = {}, builtins: BuiltinTable = BUILTINS, opts: CodegenOptions = { codegen: true }): CompiledPolicy {
  const errors: PolicyError[] = [];
  const root = new TreeNode([]);
  const nodes: TreeNode[] = [];
  const pkgRuleNames = new Map<string, Set<string>>();

  // Pass 1: the data tree.
  modules.forEach((m, mi) => {
    const pkgKey = m.pkg.join('.');
    if (!pkgRuleNames.has(pkgKey)) pkgRuleNames.set(pkgKey, new Set());
    let pkgNode = root;
    for (const p of m.pkg) pkgNode = pkgNode.child(p);
    for (const r of m.rules) {
      r.module = mi;
      const head0 = r.head.ref[0]!;
      if (head0.t !== 'var') continue;
      pkgRuleNames.get(pkgKey)!.add(head0.name);
      const sl = staticLen(r);
      let n = pkgNode.child(head0.name);
      for (let i = 1; i < sl; i++) n = n.child((r.head.ref[i] as { v: string }).v);
      const kind = ruleKind(r, sl);
      if (r.isDefault) {
        if (n.kind === null) n.kind = r.head.args ? 'function' : 'complete';
      } else if (n.kind === null || (n.kind === 'complete' && n.rules.every((x) => x.isDefault))) n.kind = kind;
      else if (n.kind !== kind) {
        errors.push(new PolicyError('rego_type_error', `conflicting rules data.${n.path.join('.')} found`, r.loc));
        continue;
      }
      if (r.head.args) {
        if (n.rules.length && n.arity !== r.head.args.length) {
          errors.push(new PolicyError('rego_type_error', `conflicting rules data.${n.path.join('.')} found`, r.loc));
          continue;
        }
        n.arity = r.head.args.length;
      }
      if (n.id < 0) {
        n.id = nodes.length;
        nodes.push(n);
      }
      n.rules.push(r);
    }
  });

  // Pass 2: module environments.
  const envs: ModuleEnv[] = modules.map((m) => {
    const imports = new Map<string, Term>();
    for (const im of m.imports) {
      const path = im.path;
      const head = path.t === 'ref' ? path.head : path;
      if (head.t !== 'var') continue;
      if (head.name === 'future' || head.name === 'rego') continue;
      if (head.name !== 'data' && head.name !== 'input') {
        errors.push(new PolicyError('rego_parse_error', 'invalid import: path must begin with input or data', im.loc));
        continue;
      }
      let alias = im.alias;
      if (!alias) {
        if (path.t === 'ref') {
          const last = path.path[path.path.length - 1]!;
          alias = last.t === 'scalar' && typeof last.v === 'string' ? last.v : null;
        } else alias = head.name;
      }
      if (alias && alias !== 'input' && alias !== 'data') imports.set(alias, path);
    }
    return { pkg: m.pkg, imports, ruleNames: pkgRuleNames.get(m.pkg.join('.'))! };
  });

  // Pass 3: rule nodes to closures.
  const envFor = (r: Rule) => (res: Resolver) => {
    const me = envs[r.module]!;
    return { root, pkg: me.pkg, imports: me.imports, ruleNames: me.ruleNames, builtins, slots: res.slots, scopes: res.scopes } satisfies CompileEnv;
  };
  const isRootNameFor = (r: Rule) => {
    const me = envs[r.module]!;
    return (n: string) => n === 'input' || n === 'data' || me.imports.has(n) || me.ruleNames.has(n);
  };
  // Static-ness reads only the syntax tree; knowing it first lets generated code pick the cache.
  if (!errors.length) markStatic(nodes, { root, builtins, moduleEnv: (i) => envs[i]! });
  for (const n of nodes) {
    try {
      compileNode(n, staticLen, envFor, isRootNameFor, opts);
    } catch (e) {
      if (e instanceof PolicyError) errors.push(...(e.errors.length ? e.errors : [e]));
      else throw e;
    }
  }
  if (errors.length) throw PolicyError.collect(errors);

  const data = fromJS(baseData);
  const nodeCount = nodes.length;
  // Input-independent rule values, per data document and strictness (see static.ts).
  const shared = new WeakMap<object, Array<Array<Value | undefined> | undefined>>();
  // The last data document's caches, so the usual call (same data every time) skips the WeakMap.
  let lastData: Value | undefined;
  let lastShared: Array<Array<Value | undefined> | undefined> | undefined;
  const sharedFor = (d: Value, strict: boolean): Array<Value | undefined> | null => {
    if (d === lastData && lastShared !== undefined) return (lastShared[strict ? 1 : 0] ??= new Array(nodeCount));
    if (typeof d !== 'object' || d === null) return null;
    let pair = shared.get(d);
    if (!pair) shared.set(d, (pair = []));
    lastData = d;
    lastShared = pair;
    const i = strict ? 1 : 0;
    return (pair[i] ??= new Array(nodeCount));
  };
  const merged = new WeakMap<object, Value>();
  const NONSTRICT: EvalOptions = { strict: false };
  const STRICT: EvalOptions = { strict: true };
  const context = (input: Value | undefined, extra?: Value, opts?: Partial<EvalOptions>): Ctx => {
    const o = opts === undefined ? NONSTRICT : opts.nowNs === undefined ? (opts.strict ? STRICT : NONSTRICT) : { strict: false, ...opts };
    let d = data;
    if (extra !== undefined) {
      // Extra data (e.g. the daemon's exceptions) is merged once per distinct object: a caller
      // that passes the same object while it is unchanged gets merged data and shared rule
      // values from cache. Objects are treated as immutable once passed in.
      const key = typeof extra === 'object' && extra !== null ? extra : null;
      const hit = key ? merged.get(key) : undefined;
      if (hit !== undefined) d = hit;
      else {
        d = mergeData(data, extra);
        if (key) merged.set(key, d);
      }
    }
    const c = new Ctx(nodeCount, input, d, null, null, o);
    c.shared = sharedFor(d, o.strict) as typeof c.shared;
    return c;
  };

  return {
    root,
    modules,
    baseData: data,
    context,
    evalPath(path, input, extra, opts) {
      return dataAt(context(input, extra, opts), root, path);
    },
    preparePath(path) {
      const node = root.find(path);
      if (node && node.isRule && node.kind !== 'function') {
        // The common case: the path names a rule; skip the tree walk per call.
        return (input, extra, opts) => context(input, extra, opts).ruleValue(node);
      }
      return (input, extra, opts) => dataAt(context(input, extra, opts), root, path);
    },
    prepare(query: string): PreparedQuery {
      const body = parseQuery(query);
      const isRoot = (n: string): boolean => n === 'input' || n === 'data';
      const res = new Resolver(isRoot);
      const scope = res.body(body, null);
      const env: CompileEnv = { root, pkg: [], imports: new Map(), ruleNames: new Set(), builtins, slots: res.slots, scopes: res.scopes };
      const bc = new BodyCompiler(env);
      const run = bc.body(body, new Set());
      const vars = [...scope.names.entries()].filter(([n]) => !n.startsWith('_') && !n.startsWith('$'));
      const nslots = res.counter.n;
      return {
        vars: vars.map(([n]) => n),
        run(input, extra, opts) {
          const c = context(input, extra, opts);
          const f = { s: new Array(nslots), c };
          const rows: QueryRow[] = [];
          run(f, () => {
            const row: QueryRow = {};
            for (const [n, s] of vars) {
              const v = f.s[s];
              if (v !== undefined) row[n] = v;
            }
            rows.push(row);
            return false;
          });
          return rows;
        },
      };
    },
  };
}

/** Deep-merges extra data documents under the base data (objects merge, other values replace). */
export function mergeData(base: Value, extra: Value): Value {
  if (!isPlain(base) || !isPlain(extra)) return extra;
  const out: Record<string, Value> = { ...base };
  for (const k of Object.keys(extra)) {
    const b = out[k];
    out[k] = b === undefined ? extra[k]! : mergeData(b, extra[k]!);
  }
  return out;
}

function isPlain(v: Value): v is Record<string, Value> {
  return isObj(v) && !(v instanceof RObj);
}

export { staticRef, type Override, type CodegenOptions };
