// `lacuna-fs classify`: runs the layer-1 classifier offline over files, directories
// (recursively) or a string, printing one result per file (JSON lines with --json).
// It needs no daemon; it uses the same rule table and scanner the daemon does.
import { opendir, lstat, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { parse } from 'yaml';
import { createClassifier, ClassifyError, isTier, tierRank, type Classification, type Classifier, type RuleSpec, type Tier } from '../../classify/index.js';
import { CliError, EXIT } from '../exit-codes.js';

interface Opts {
  json?: boolean;
  text?: string;
  maxBytes: string;
  rules?: string;
  failOn?: string;
  progress: boolean;
  listRules?: boolean;
  exactCounts?: boolean;
}

const MiB = 1024 * 1024;

async function* walk(path: string, onSkip: (p: string, why: string) => void): AsyncGenerator<string> {
  const st = await lstat(path);
  if (st.isSymbolicLink()) return onSkip(path, 'symbolic link not followed');
  if (st.isFile()) {
    yield path;
    return;
  }
  if (!st.isDirectory()) return onSkip(path, 'not a regular file');
  const names: string[] = [];
  for await (const d of await opendir(path)) names.push(d.name);
  names.sort();
  for (const n of names) yield* walk(join(path, n), onSkip);
}

/** Reads a YAML rules file (a list, or a `rules:` list); unreadable or malformed → exit 2. */
export function loadRules(file: string): Promise<RuleSpec[]> {
  return readFile(file, 'utf8').then(
    (text) => {
      const doc = parse(text) as { rules?: unknown } | unknown[];
      const list = Array.isArray(doc) ? doc : (doc as { rules?: unknown })?.rules;
      if (!Array.isArray(list)) throw new CliError(`${file}: expected a list of rules (or a "rules:" list)`, EXIT.USAGE);
      return list as RuleSpec[];
    },
    (err: Error) => {
      throw new CliError(`cannot read rules file ${file}: ${err.message}`, EXIT.USAGE);
    },
  );
}

function human(c: Classification & { path?: string }): string {
  const tags = c.tags.length ? c.tags.join(',') : '-';
  return `${c.tier.padEnd(11)} ${c.confidence.toFixed(2)}  ${tags.padEnd(16)} ${c.path ?? '<text>'}\n    ${c.reasoning}`;
}

function jsonLine(path: string | undefined, c: Classification): string {
  const out: Record<string, unknown> = { path: path ?? null, tier: c.tier, tags: c.tags, confidence: c.confidence, layer: c.layer, reasoning: c.reasoning, findings: c.findings };
  if (c.partial) out.partial = true;
  return JSON.stringify(out);
}

export function register(program: Command): void {
  program
    .command('classify')
    .summary('classify files, directories or a string with the layer-1 scanner')
    .description(
      'Classify content with the native RE2 scanner and validators (layer 1), offline.\n' +
        'Directories are walked recursively (symbolic links are not followed). Prints one\n' +
        'result per file; with --json one JSON object per line with path, tier, tags,\n' +
        'confidence, layer, reasoning and findings (type, category, count, lines).\n' +
        'Reasoning names what was found and on which lines, never the matched value.',
    )
    .argument('[paths...]', 'files or directories to classify')
    .option('--json', 'one JSON object per file per line on stdout')
    .option('--text <string>', 'classify this string instead of files')
    .option('--max-bytes <n>', 'per-file byte budget: larger files are scanned head + tail (0 = whole file)', String(64 * MiB))
    .option('--rules <file>', 'extra rules (YAML list of rule specs, as in the config) added to the built-in table')
    .addOption(new Option('--fail-on <tier>', 'exit 1 when any result is at or above this tier').choices(['INTERNAL', 'PROPRIETARY']))
    .option('--exact-counts', 'count every match (by default a rule stops being counted after 64 candidates per MiB and its count reads "at least N")')
    .option('--list-rules', 'print the rule table (id, type, category) and exit')
    .option('--no-progress', 'no progress lines on stderr')
    .addHelpText(
      'after',
      '\nExamples:\n  lacuna-fs classify --json /srv/data/exports\n  lacuna-fs classify --text "SSN 536-22-8745"\n  lacuna-fs classify --fail-on PROPRIETARY ./release-artifacts\n\nExit codes: 0 ok; 1 a result reached --fail-on or a path could not be read; 2 bad usage or an invalid rule; 5 internal error (e.g. the native scanner is not built).',
    )
    .action(async (paths: string[], opts: Opts) => {
      await run(paths, opts);
    });
}

async function run(paths: string[], opts: Opts): Promise<void> {
  const maxBytes = Number(opts.maxBytes);
  if (!Number.isInteger(maxBytes) || maxBytes < 0) throw new CliError(`--max-bytes must be a non-negative integer, got ${opts.maxBytes}`, EXIT.USAGE);
  if (!opts.listRules && opts.text === undefined && paths.length === 0) throw new CliError('nothing to classify: give PATH... or --text', EXIT.USAGE);
  if (opts.text !== undefined && paths.length) throw new CliError('give either PATH... or --text, not both', EXIT.USAGE);
  const extraRules = opts.rules ? await loadRules(opts.rules) : undefined;
  let classifier: Classifier;
  try {
    // No cache across a one-shot run: each file is read once.
    classifier = createClassifier({ extraRules, maxScanBytes: maxBytes, cacheSize: 0, exactCounts: opts.exactCounts === true });
  } catch (err) {
    if (err instanceof ClassifyError && (err.code === 'rule_invalid' || err.code === 'path_rule_invalid')) throw new CliError(err.message, EXIT.USAGE);
    if (err instanceof ClassifyError) throw new CliError(`${err.message} [${err.code}]`, EXIT.INTERNAL);
    throw err;
  }
  if (opts.listRules) {
    for (const r of classifier.rules()) {
      process.stdout.write(opts.json ? JSON.stringify({ id: r.id, type: r.type, category: r.category, validator: r.validator || null, source: r.source }) + '\n' : `${r.id.padEnd(28)} ${r.category.padEnd(8)} ${r.type}\n`);
    }
    return;
  }
  const failOn: Tier | undefined = opts.failOn && isTier(opts.failOn) ? opts.failOn : undefined;
  let worst: Tier = 'PUBLIC';
  const emit = (path: string | undefined, c: Classification) => {
    if (tierRank(c.tier) > tierRank(worst)) worst = c.tier;
    process.stdout.write((opts.json ? jsonLine(path, c) : human({ ...c, path })) + '\n');
  };
  if (opts.text !== undefined) {
    emit(undefined, classifier.classifyBuffer(Buffer.from(opts.text, 'utf8')));
  } else {
    let errors = 0;
    let files = 0;
    let bytes = 0;
    const started = Date.now();
    let lastProgress = started;
    const tty = process.stderr.isTTY === true;
    const progress = (final = false) => {
      const now = Date.now();
      if (!opts.progress || now - started < 2000 || (!final && now - lastProgress < (tty ? 250 : 5000))) return;
      lastProgress = now;
      const line = `classify: ${files} files, ${(bytes / MiB).toFixed(1)} MiB, ${((now - started) / 1000).toFixed(1)} s`;
      process.stderr.write(tty ? `\r${line}${final ? '\n' : ''}` : `${line}\n`);
    };
    const skip = (p: string, why: string) => process.stderr.write(`classify: skipped ${p}: ${why}\n`);
    for (const arg of paths) {
      try {
        for await (const file of walk(resolve(arg), skip)) {
          try {
            const st = await lstat(file);
            const c = await classifier.classifyFile(file);
            files++;
            bytes += st.size;
            emit(file, c);
          } catch (err) {
            if (err instanceof ClassifyError && err.code === 'scanner_unavailable') throw new CliError(err.message, EXIT.INTERNAL);
            errors++;
            process.stderr.write(`classify: ${file}: ${(err as Error).message}\n`);
          }
          progress();
        }
      } catch (err) {
        if (err instanceof CliError) throw err;
        errors++;
        process.stderr.write(`classify: ${arg}: ${(err as Error).message}\n`);
      }
    }
    progress(true);
    if (errors) throw new CliError(`${errors} path${errors === 1 ? '' : 's'} could not be classified`, EXIT.FAILED);
  }
  if (failOn && tierRank(worst) >= tierRank(failOn)) throw new CliError(`a result reached ${worst} (--fail-on ${failOn})`, EXIT.FAILED);
}
