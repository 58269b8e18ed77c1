// Parse and compile a set of Rego sources in one go: parse errors of every
// file are collected before compiling, so an author sees all of them at once.

import { type CodegenOptions, type CompiledPolicy, compile } from './compiler/index.js';
import { BUILTINS } from './builtins/index.js';
import { PolicyError } from './errors.js';
import { parseModule } from './parser.js';

/**
 * Compiles Rego sources (path + text) with base data; the shared step of every Rego bundle.
 * `codegen: false` evaluates with the closure compiler alone (the reference the generated code is tested against).
 */
export function compileModules(modules: Array<{ path: string; text: string }>, data: unknown = {}, opts: CodegenOptions = { codegen: true }): CompiledPolicy {
  const errors: PolicyError[] = [];
  const parsed = [];
  for (const [i, m] of modules.entries()) {
    try {
      parsed.push(parseModule(m.path, m.text, i));
    } catch (e) {
      if (e instanceof PolicyError) errors.push(e);
      else throw e;
    }
  }
  if (errors.length) throw PolicyError.collect(errors);
  return compile(parsed, data, BUILTINS, opts);
}

