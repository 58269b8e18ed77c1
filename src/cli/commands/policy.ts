// `lacuna-fs policy eval|test|check`: work with Rego policies offline, without a
// daemon — evaluate a query, run a bundle's tests (like `opa test`), or compile a
// bundle and list every problem with file:line:col.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { PolicyError, checkBundle, evalQuery, runPolicyTests } from '../../policy/index.js';
import { parseJSON, prettyJSON } from '../../policy/json.js';
import { type Value, fromJS } from '../../policy/value.js';
import { CliError, EXIT } from '../exit-codes.js';

/** The policies/ directory shipped with lacuna-fs (src/cli/commands → repo root, also from dist/). */
function shippedPolicies(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      readFileSync(join(dir, 'policies', 'lacuna.rego'));
      return join(dir, 'policies');
    } catch {
      dir = dirname(dir);
    }
  }
  return resolve('policies');
}

function readDoc(file: string): Value {
  let text: string;
  try {
    text = file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read input ${file}: ${(e as Error).message}`, EXIT.USAGE);
  }
  try {
    return /\.ya?ml$/.test(file) ? fromJS(parseYaml(text, { intAsBigInt: true })) : parseJSON(text);
  } catch (e) {
    throw new CliError(`input ${file} is not valid ${/\.ya?ml$/.test(file) ? 'YAML' : 'JSON'}: ${(e as Error).message}`, EXIT.USAGE);
  }
}

function loadError(e: unknown): never {
  if (e instanceof PolicyError) throw new CliError(e.message, e.code.startsWith('eval_') ? EXIT.FAILED : EXIT.USAGE);
  throw e;
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

export function register(program: Command): void {
  const pol = program.command('policy').description('evaluate, test and check Rego policies offline (no daemon needed)');

  pol
    .command('eval <query>')
    .description('evaluate a Rego query, e.g. `data.lacuna.decision`, against policies, data and an input document')
    .option('-d, --data <path>', 'a .rego file, a data .json/.yaml file, a directory of them, or a bundle .tar.gz (repeatable)', collect, [])
    .option('-i, --input <file>', 'the input document (JSON or YAML), or - for stdin')
    .option('-f, --format <format>', 'json (the result set) or pretty (values only)', 'pretty')
    .option('--strict-builtin-errors', 'make a builtin error fail the query instead of making the expression undefined')
    .option('--fail', 'exit 1 when the result is undefined (empty)')
    .addHelpText('after', '\nExamples:\n  lacuna-fs policy eval -d policies -i input.json data.lacuna.decision\n  echo \'{"x":1}\' | lacuna-fs policy eval -i - \'input.x + 1\'\n')
    .action((query: string, o: { data: string[]; input?: string; format: string; strictBuiltinErrors?: boolean; fail?: boolean }) => {
      if (o.format !== 'json' && o.format !== 'pretty') throw new CliError(`--format must be json or pretty, not ${o.format}`, EXIT.USAGE);
      const input = o.input ? readDoc(o.input) : undefined;
      let r;
      try {
        r = evalQuery(query, { data: o.data, input, strictBuiltinErrors: o.strictBuiltinErrors });
      } catch (e) {
        loadError(e);
      }
      if (o.format === 'json') process.stdout.write(prettyJSON({ result: r.result }) + '\n');
      else if ('value' in r) process.stdout.write((r.value === undefined ? 'undefined' : prettyJSON(r.value)) + '\n');
      else process.stdout.write(r.result.length ? r.result.map((row) => prettyJSON(row)).join('\n') + '\n' : 'undefined\n');
      if (o.fail && r.result.length === 0) process.exitCode = EXIT.FAILED;
    });

  pol
    .command('test [dir]')
    .description('run the test_ rules of a policy directory (default: the shipped policies), like `opa test`')
    .option('-r, --run <regex>', 'only tests whose name (data.pkg.test_x) matches')
    .option('-v, --verbose', 'list every test, not only failures')
    .option('--json', 'print results as JSON')
    .action((dir: string | undefined, o: { run?: string; verbose?: boolean; json?: boolean }) => {
      const path = dir ?? shippedPolicies();
      let filter: RegExp | undefined;
      try {
        filter = o.run ? new RegExp(o.run) : undefined;
      } catch (e) {
        throw new CliError(`--run: ${(e as Error).message}`, EXIT.USAGE);
      }
      let results;
      try {
        results = runPolicyTests(path, filter);
      } catch (e) {
        loadError(e);
      }
      const bad = results.filter((r) => r.outcome === 'fail' || r.outcome === 'error');
      const count = (k: string): number => results.filter((r) => r.outcome === k).length;
      if (o.json) process.stdout.write(JSON.stringify({ path, results, pass: count('pass'), fail: count('fail'), error: count('error'), skip: count('skip') }, null, 2) + '\n');
      else {
        for (const r of results) {
          if (!o.verbose && r.outcome === 'pass') continue;
          const us = (r.durationNs / 1000).toFixed(0);
          process.stdout.write(`${r.outcome.toUpperCase().padEnd(5)} ${r.name} (${r.file}:${r.line}, ${us} µs)${r.message ? `\n      ${r.message.replace(/\n/g, '\n      ')}` : ''}\n`);
        }
        process.stdout.write(`${'-'.repeat(60)}\nPASS: ${count('pass')}/${results.length}${count('fail') ? `  FAIL: ${count('fail')}` : ''}${count('error') ? `  ERROR: ${count('error')}` : ''}${count('skip') ? `  SKIPPED: ${count('skip')}` : ''}\n`);
      }
      if (!results.length) throw new CliError(`no test_ rules found in ${path}`, EXIT.FAILED);
      if (bad.length) process.exitCode = EXIT.FAILED;
    });

  pol
    .command('check <dir>')
    .description('parse and compile a policy directory or bundle; list every error with file:line:col')
    .option('--json', 'print the report as JSON')
    .action((dir: string, o: { json?: boolean }) => {
      let rep;
      try {
        rep = checkBundle(dir);
      } catch (e) {
        loadError(e);
      }
      if (o.json) process.stdout.write(JSON.stringify(rep, null, 2) + '\n');
      else if (rep.ok) process.stdout.write(`ok: ${rep.modules} modules, ${rep.tests} test files compile (bundle sha256 ${rep.hash})\n`);
      else process.stderr.write(rep.errors.map((e) => `${e.message}\n`).join('') + `${rep.errors.length} error${rep.errors.length === 1 ? '' : 's'}\n`);
      if (!rep.ok) process.exitCode = EXIT.USAGE;
    });
}
