// `policy check`: parse and compile a bundle (tests included) and report every
// problem with file:line:col, without evaluating anything.

import { readBundle } from './bundle.js';
import { PolicyError } from './errors.js';
import { compileModules } from './modules.js';

export interface CheckReport {
  ok: boolean;
  modules: number;
  tests: number;
  hash: string;
  errors: Array<{ code: string; file?: string; line?: number; col?: number; message: string }>;
}

export function checkBundle(path: string): CheckReport {
  const b = readBundle(path);
  try {
    compileModules([...b.modules, ...b.tests], b.data);
    return { ok: true, modules: b.modules.length, tests: b.tests.length, hash: b.hash, errors: [] };
  } catch (e) {
    if (!(e instanceof PolicyError)) throw e;
    const all = e.errors.length ? e.errors : [e];
    return {
      ok: false,
      modules: b.modules.length,
      tests: b.tests.length,
      hash: b.hash,
      errors: all.map((x) => ({ code: x.code, file: x.file, line: x.line, col: x.col, message: x.message })),
    };
  }
}
