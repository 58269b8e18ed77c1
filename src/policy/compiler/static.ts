// Input-independence analysis: a rule whose value depends only on data (not on
// input, `with`, or non-deterministic builtins, directly or through other rules)
// is computed once per data document and shared across decisions, so settings
// like `cfg := object.union(defaults, data.x.config)` cost nothing per decision.

import type { Term } from '../ast.js';
import type { BuiltinTable } from '../builtins/types.js';
import { staticRef } from './body.js';
import type { TreeNode } from './tree.js';

export interface StaticEnv {
  root: TreeNode;
  builtins: BuiltinTable;
  /** Per rule (by module index): package path, imports, rule names. */
  moduleEnv(module: number): { pkg: string[]; imports: Map<string, Term>; ruleNames: Set<string> };
}

function descendantRules(n: TreeNode, out: TreeNode[]): void {
  if (n.isRule) out.push(n);
  for (const c of n.children.values()) descendantRules(c, out);
}

/** Marks `node.isStatic` on every rule node. */
export function markStatic(nodes: TreeNode[], env: StaticEnv): void {
  const deps = new Map<TreeNode, { impure: boolean; refs: Set<TreeNode> }>();
  for (const n of nodes) {
    const info = { impure: false, refs: new Set<TreeNode>() };
    for (const r of n.rules) {
      const me = env.moduleEnv(r.module);
      const senv = { root: env.root, pkg: me.pkg, imports: me.imports, ruleNames: me.ruleNames, builtins: env.builtins, slots: new Map(), scopes: new Map() };
      const resolvePath = (path: string[]): void => {
        if (path[0] === 'input') {
          info.impure = true;
          return;
        }
        if (path[0] !== 'data') return;
        let node = env.root;
        for (const p of path.slice(1)) {
          const next = node.children.get(p);
          if (!next) {
            if (!node.isRule) return; // off the virtual tree: base data only
            break;
          }
          node = next;
          if (node.isRule) break;
        }
        const hits: TreeNode[] = [];
        descendantRules(node, hits);
        for (const h of hits) info.refs.add(h);
      };
      const visit = (x: unknown): void => {
        if (info.impure || !x || typeof x !== 'object') return;
        if (Array.isArray(x)) {
          for (const y of x) visit(y);
          return;
        }
        const o = x as Record<string, unknown>;
        if (o.kind !== undefined && Array.isArray(o.with) && (o.with as unknown[]).length) {
          info.impure = true;
          return;
        }
        if (o.t === 'var' || o.t === 'ref') {
          const t = o as Term;
          const head = t.t === 'ref' ? t.head : t;
          if (head.t === 'var') {
            if (head.name === 'input') {
              info.impure = true;
              return;
            }
            const p = staticRef(t.t === 'ref' ? { ...t, path: prefixStrings(t.path) } : t, senv);
            if (p) resolvePath(p);
            else if (head.name === 'data') resolvePath(['data']);
          } else if (t.t === 'ref') visit(t.head);
          if (t.t === 'ref') visit(t.path);
          return;
        }
        if (o.t === 'call') {
          const fn = o.fn as string;
          const b = env.builtins.get(fn);
          const parts = fn.split('.');
          if (b && !me.ruleNames.has(parts[0]!) && !me.imports.has(parts[0]!)) {
            if (b.pure === false) info.impure = true;
          } else {
            const p = staticRef(o.fnRef as Term, senv);
            if (p) resolvePath(p);
          }
        }
        for (const k of Object.keys(o)) if (k !== 'loc') visit(o[k]);
      };
      visit(r.head);
      visit(r.body);
      visit(r.elses);
    }
    deps.set(n, info);
  }
  const state = new Map<TreeNode, boolean | 'visiting'>();
  const isStatic = (n: TreeNode): boolean => {
    const s = state.get(n);
    if (s === 'visiting') return false;
    if (s !== undefined) return s;
    state.set(n, 'visiting');
    const d = deps.get(n);
    let ok = !!d && !d.impure;
    if (ok) for (const r of d!.refs) if (r !== n && !isStatic(r)) ok = false;
    state.set(n, ok);
    return ok;
  };
  for (const n of nodes) n.isStatic = n.kind !== 'function' && isStatic(n);
}

/** The leading string elements of a ref path (the part a static lookup can follow). */
function prefixStrings(path: Term[]): Term[] {
  const out: Term[] = [];
  for (const p of path) {
    if (p.t === 'scalar' && typeof p.v === 'string') out.push(p);
    else break;
  }
  return out;
}
