// The data tree: packages and rule paths from every module, merged. Each node
// with rules is a virtual document; base documents (JSON data) live beside it.
// Also holds run-time access to `data` (merging base and virtual, with overrides).

import type { Rule, Term } from '../ast.js';
import { type Ctx, type FnImpl, PENDING, lookupPath, patch } from '../eval/runtime.js';
import { type PlainObj, type Value, isObj, objEntries } from '../value.js';

export type RuleKind = 'complete' | 'set' | 'object' | 'function';

export class TreeNode {
  readonly children = new Map<string, TreeNode>();
  readonly rules: Rule[] = [];
  /** Index in the policy's node table (rule nodes only, -1 otherwise). */
  id = -1;
  kind: RuleKind | null = null;
  arity = 0;
  /** Filled by the rule compiler. */
  evaluate: (c: Ctx) => Value | undefined = () => undefined;
  call: FnImpl = () => undefined;
  /** `evaluate` and `call` for contexts without `with` overrides or mocks (generated code specialised for them). */
  evaluatePlain: (c: Ctx) => Value | undefined = () => undefined;
  callPlain: FnImpl = () => undefined;
  pkgId = -1;
  /** Value depends only on data: shared across evaluations with the same data (see static.ts). */
  isStatic = false;
  /** Every definition of this rule runs as generated JavaScript (see gen/). */
  generated = false;
  constructor(readonly path: string[]) {}
  get isRule(): boolean {
    return this.rules.length > 0;
  }
  child(name: string): TreeNode {
    let c = this.children.get(name);
    if (!c) {
      c = new TreeNode([...this.path, name]);
      this.children.set(name, c);
    }
    return c;
  }
  find(path: readonly string[]): TreeNode | undefined {
    let n: TreeNode | undefined = this;
    for (const p of path) {
      n = n.children.get(p);
      if (!n) return undefined;
    }
    return n;
  }
}

/** Where a `data` ref's leading constant keys lead in the tree (see staticDataPath). */
export interface StaticDataPath {
  /** The ref's leading string keys. */
  keys: string[];
  /** The rule or package node reached (the root when nothing was). */
  node: TreeNode;
  /** How many of `keys` lead to `node`. */
  consumed: number;
  /** The keys left the virtual tree under a node without rules: the value is base data at `keys`. */
  offTree: boolean;
}

/**
 * Walk the tree along the constant prefix of a ref under `data`, stopping at the first rule: what
 * the closure compiler and the code generator both resolve at compile time.
 */
export function staticDataPath(root: TreeNode, path: readonly Term[]): StaticDataPath {
  const keys: string[] = [];
  for (const p of path) {
    if (p.t === 'scalar' && typeof p.v === 'string') keys.push(p.v);
    else break;
  }
  let node = root;
  let consumed = 0;
  let offTree = false;
  while (consumed < keys.length) {
    const next = node.children.get(keys[consumed]!);
    if (!next) {
      offTree = !node.isRule;
      break;
    }
    node = next;
    consumed++;
    if (node.isRule) break;
  }
  return { keys, node, consumed, offTree };
}

/** Per-evaluation cache of package values, kept on the Ctx by node. */
const pkgCaches = new WeakMap<Ctx, Map<TreeNode, Value>>();

/** The merged value of a package node: base data at its path plus its defined rules. */
export function nodeValue(c: Ctx, node: TreeNode): Value | undefined {
  if (node.isRule) {
    if (node.kind === 'function') return undefined;
    return c.ruleValue(node);
  }
  let cache = pkgCaches.get(c);
  if (!cache) {
    cache = new Map();
    pkgCaches.set(c, cache);
  }
  const hit = cache.get(node);
  if (hit !== undefined) return hit;
  const base = lookupPath(c.data, node.path);
  const out: PlainObj = {};
  if (base !== undefined && isObj(base)) for (const [k, v] of objEntries(base)) if (typeof k === 'string') out[k] = v;
  for (const [name, child] of node.children) {
    const v = nodeValue(c, child);
    if (v !== undefined) out[name] = v;
  }
  cache.set(node, out);
  return out;
}

/** Value of data at a static path through the tree (no overrides). */
export function treeValueAt(c: Ctx, root: TreeNode, path: readonly string[]): Value | undefined {
  let node = root;
  for (let i = 0; i < path.length; i++) {
    const next = node.children.get(path[i]!);
    if (!next) {
      if (node.isRule) return lookupPath(nodeValue(c, node), path.slice(i));
      // Off the virtual tree: base data only.
      return lookupPath(c.data, path);
    }
    node = next;
    if (node.isRule) return lookupPath(nodeValue(c, node), path.slice(i + 1));
  }
  return nodeValue(c, node);
}

/** Value of data at a static path, honouring `with data.… as` overrides (later ones win). */
export function dataAt(c: Ctx, root: TreeNode, path: readonly string[]): Value | undefined {
  const ovs = c.overrides;
  if (ovs === null) return treeValueAt(c, root, path);
  for (let i = ovs.length - 1; i >= 0; i--) {
    const o = ovs[i]!;
    if (o.path.length <= path.length && o.path.every((p, j) => p === path[j])) return lookupPath(o.value, path.slice(o.path.length));
  }
  let v = treeValueAt(c, root, path);
  for (const o of ovs) {
    if (o.path.length > path.length && path.every((p, j) => p === o.path[j])) v = patch(v ?? {}, o.path.slice(path.length), o.value);
  }
  return v;
}

export { PENDING };
