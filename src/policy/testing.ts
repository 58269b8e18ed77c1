// `opa test`-style runner: compiles a bundle's modules together with its
// *_test.rego files and evaluates every rule named test_* (todo_test_* are
// skipped). A test passes when its value is true; undefined or false fails.

import { compileModules } from './modules.js';
import { readBundle } from './bundle.js';
import { PolicyError } from './errors.js';
import type { TreeNode } from './compiler/tree.js';

export interface TestResult {
  /** `data.pkg.test_name` */
  name: string;
  file: string;
  line: number;
  outcome: 'pass' | 'fail' | 'error' | 'skip';
  message?: string;
  durationNs: number;
}

function collect(n: TreeNode, out: TreeNode[]): void {
  if (n.isRule && n.kind !== 'function') {
    const last = n.path[n.path.length - 1]!;
    if (last.startsWith('test_') || last.startsWith('todo_test_')) out.push(n);
  }
  for (const c of n.children.values()) collect(c, out);
}

/** Runs the tests of a bundle directory (or a single file). Throws PolicyError if it does not compile. */
export function runPolicyTests(path: string, filter?: RegExp): TestResult[] {
  const b = readBundle(path);
  const policy = compileModules([...b.modules, ...b.tests], b.data);
  const tests: TreeNode[] = [];
  collect(policy.root, tests);
  const results: TestResult[] = [];
  for (const n of tests) {
    const name = 'data.' + n.path.join('.');
    if (filter && !filter.test(name)) continue;
    const r = n.rules[0]!;
    const base = { name, file: r.loc.file, line: r.loc.line };
    if (n.path[n.path.length - 1]!.startsWith('todo_')) {
      results.push({ ...base, outcome: 'skip', durationNs: 0 });
      continue;
    }
    const t0 = process.hrtime.bigint();
    try {
      const v = policy.evalPath(n.path, undefined, undefined, { strict: true });
      const durationNs = Number(process.hrtime.bigint() - t0);
      if (v === true) results.push({ ...base, outcome: 'pass', durationNs });
      else results.push({ ...base, outcome: 'fail', message: v === undefined ? 'undefined' : `value ${JSON.stringify(v)}`, durationNs });
    } catch (e) {
      const durationNs = Number(process.hrtime.bigint() - t0);
      results.push({ ...base, outcome: 'error', message: e instanceof PolicyError ? e.message : String(e), durationNs });
    }
  }
  return results.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}
