// `lacuna-fs classify`: runs the classifier offline over files, directories (recursively) or
// a string, printing one result per file (JSON lines with --json). Layer 1 by default; with
// --layers 1,2[,3] the escalation the daemon uses (config from --config), and with --explain
// each layer's verdict and why. It needs no daemon; the rule table and scanner are the daemon's.
import { opendir, lstat, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { parse } from 'yaml';
import { combineEscalated, createClassifier, ClassifyError, DECISIVE, isTier, tierRank, type Classification, type Classifier, type RuleSpec, type Tier } from '../../classify/index.js';
import type { Escalation } from '../../classify/escalate.js';
import { explainLayers, traceEscalation, type LayersEnabled, type LayerVerdict } from '../../classify/explain.js';
import { defaultConfig, type Config } from '../../config/index.js';
import { configOption, loadCliConfig } from '../context.js';
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
  layers: string;
  explain?: boolean;
  config?: string;
}

/** The CLI waits for its answers: a daemon's latency budget (meant for file operations) would only drop them. */
const CLI_LATENCY_BUDGET_MS = 120_000;

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

function jsonLine(path: string | undefined, c: Classification, layers?: LayerVerdict[]): string {
  const out: Record<string, unknown> = { path: path ?? null, tier: c.tier, tags: c.tags, confidence: c.confidence, layer: c.layer, reasoning: c.reasoning, findings: c.findings };
  if (c.partial) out.partial = true;
  if (layers) out.layers = layers;
  return JSON.stringify(out);
}

function explainLines(layers: LayerVerdict[], final: Classification): string {
  const rows = layers.map((v) => `    layer ${v.layer}: ${v.answered ? `${v.tier} ${v.confidence!.toFixed(2)}  ${v.why}` : v.why}`);
  const l1 = layers[0]!;
  const decided = final.layer === 1 || final.layer === 0 ? 'layer 1 stands' : `layer ${final.layer} decided`;
  const kept = final.layer === l1.layer && l1.tier === final.tier ? '' : ' (escalation may raise the tier, never lower it below layer 1)';
  return `${rows.join('\n')}\n    final: ${final.tier} ${final.confidence.toFixed(2)}, ${decided}${kept}`;
}

function parseLayers(spec: string): Set<number> {
  const parts = spec.split(',').map((x) => x.trim());
  const set = new Set(parts.map(Number));
  if (parts.some((p) => !/^[123]$/.test(p)) || !set.has(1)) throw new CliError(`--layers takes a comma-separated subset of 1,2,3 that includes 1 (got "${spec}")`, EXIT.USAGE);
  return set;
}

/** Layers 2/3 as the daemon builds them from config.classify; the cache is in memory unless classify.cacheDir is set. */
async function openEscalation(layers: Set<number>, config: Config): Promise<{ escalation: Escalation; enabled: LayersEnabled }> {
  const c = config.classify;
  const embeddingsOn = layers.has(2) && c.embeddings?.enabled !== false;
  const llmOn = layers.has(3) && c.llm?.enabled === true;
  const enabled: LayersEnabled = {
    l2: embeddingsOn,
    l3: llmOn,
    l2Off: layers.has(2) ? 'classify.embeddings.enabled is false' : 'not in --layers',
    l3Off: layers.has(3) ? 'classify.llm.enabled is not true in the config' : 'not in --layers',
  };
  const policy = (c.escalation ?? {}) as { latencyBudgetMs?: number };
  const { createEscalation } = await import('../../classify/escalate.js');
  try {
    const escalation = createEscalation({
      escalation: { ...policy, latencyBudgetMs: Math.max(policy.latencyBudgetMs ?? 0, CLI_LATENCY_BUDGET_MS) },
      embeddings: { ...(c.embeddings ?? {}), enabled: embeddingsOn, baseDir: config.file.startsWith('<') ? process.cwd() : dirname(config.file) } as never,
      ...(llmOn ? { llm: c.llm as never } : {}),
      ...(c.cacheDir ? { cacheDir: c.cacheDir } : {}),
      cacheMaxEntries: c.cacheMaxEntries,
    });
    await escalation.ready();
    return { escalation, enabled };
  } catch (err) {
    throw new CliError(`cannot start layers ${[...layers].join(',')}: ${(err as Error).message}`, EXIT.INTERNAL);
  }
}

export function register(program: Command): void {
  const cmd = program
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
    .option('--layers <list>', 'layers to run: 1 (scanner), 2 (embeddings), 3 (LLM, if enabled in the config); layers 2/3 only see what layer 1 is unsure of', '1')
    .option('--explain', "print each layer's verdict and why (with --json: a layers array)")
    .option('--list-rules', 'print the rule table (id, type, category) and exit')
    .option('--no-progress', 'no progress lines on stderr');
  configOption(cmd);
  cmd
    .addHelpText(
      'after',
      '\nExamples:\n  lacuna-fs classify --json /srv/data/exports\n  lacuna-fs classify --text "SSN 536-22-8745"\n  lacuna-fs classify --fail-on PROPRIETARY ./release-artifacts\n  lacuna-fs classify --layers 1,2 --explain -c /etc/lacuna-fs/config.yaml notes/retro.md\n\nExit codes: 0 ok; 1 a result reached --fail-on or a path could not be read; 2 bad usage or an invalid rule; 5 internal error (e.g. the native scanner is not built).',
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
  const layers = parseLayers(opts.layers);
  const extraRules = opts.rules ? await loadRules(opts.rules) : undefined;
  // The config matters only to layers 2/3; without --config or $LACUNA_FS_CONFIG the defaults apply.
  const escalating = layers.has(2) || layers.has(3);
  const config = escalating && (opts.config !== undefined || process.env.LACUNA_FS_CONFIG) ? loadCliConfig(opts.config) : defaultConfig();
  let classifier: Classifier;
  let esc: { escalation: Escalation; enabled: LayersEnabled } | undefined;
  let tracer: ReturnType<typeof traceEscalation> | undefined;
  try {
    if (escalating && !opts.listRules) {
      esc = await openEscalation(layers, config);
      tracer = traceEscalation(esc.escalation.escalate, () => esc!.escalation.stats());
    }
    // No cache across a one-shot run: each file is read once.
    classifier = createClassifier({
      extraRules,
      maxScanBytes: maxBytes,
      cacheSize: 0,
      exactCounts: opts.exactCounts === true,
      ...(tracer ? { escalate: tracer.hook } : {}),
    });
  } catch (err) {
    await esc?.escalation.close();
    if (err instanceof ClassifyError && (err.code === 'rule_invalid' || err.code === 'path_rule_invalid')) throw new CliError(err.message, EXIT.USAGE);
    if (err instanceof ClassifyError) throw new CliError(`${err.message} [${err.code}]`, EXIT.INTERNAL);
    throw err;
  }
  try {
    await classifyAll(paths, opts, classifier, tracer, esc?.enabled ?? { l2: false, l3: false });
  } finally {
    await esc?.escalation.close();
  }
}

async function classifyAll(
  paths: string[],
  opts: Opts,
  classifier: Classifier,
  tracer: ReturnType<typeof traceEscalation> | undefined,
  enabled: LayersEnabled,
): Promise<void> {
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
    const layers = opts.explain ? (tracer ? tracer.explain(c, enabled) : explainLayers(c, enabled)) : undefined;
    process.stdout.write((opts.json ? jsonLine(path, c, layers) : human({ ...c, path }) + (layers ? '\n' + explainLines(layers, c) : '')) + '\n');
  };
  if (opts.text !== undefined) {
    const text = Buffer.from(opts.text, 'utf8');
    tracer?.begin();
    const l1 = classifier.classifyBuffer(text);
    // classifyBuffer is the synchronous layer 1; the text is escalated here as classifyFile would.
    let c = l1;
    if (tracer && l1.confidence < DECISIVE) {
      try {
        c = combineEscalated(l1, await tracer.hook(l1, text, {}));
      } catch (err) {
        c = { ...l1, reasoning: `${l1.reasoning} Escalation failed (${(err as Error).message}); layer-1 result kept.` };
      }
    }
    emit(undefined, c);
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
            tracer?.begin();
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
