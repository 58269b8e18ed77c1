// `lacuna-fs lineage` and `lacuna-fs impact`: offline queries of the lineage store
// (<stateDir>/lineage), opened read-only so they run beside the daemon (LMDB serves
// readers in other processes from one committed snapshot). Also the OpenLineage
// export and a consistency check.

import { join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { DEFAULTS } from '../../config/index.js';
import { checkLineage, LineageError, openLineage, type LineageEdge, type LineageGraph, type LineageNode, type LineageStore } from '../../lineage/index.js';
import { CliError, EXIT } from '../exit-codes.js';

interface StoreOpts {
  stateDir?: string;
}

function lineageDir(opts: StoreOpts): string {
  return join(resolve(opts.stateDir ?? process.env.LACUNA_FS_STATE_DIR ?? DEFAULTS.stateDir), 'lineage');
}

function asCliError(e: unknown, dir: string): unknown {
  if (!(e instanceof LineageError)) return e;
  switch (e.code) {
    case 'no_store':
      return new CliError(`no lineage store at ${dir} (has the daemon run with this state directory? see --state-dir)`, EXIT.FAILED);
    case 'not_found':
      return new CliError(e.message, EXIT.FAILED);
    case 'schema_mismatch':
      return new CliError(e.message, EXIT.INTERNAL);
    default:
      return new CliError(e.message, EXIT.INTERNAL);
  }
}

async function withStore<T>(opts: StoreOpts, fn: (s: LineageStore) => Promise<T> | T): Promise<T> {
  const dir = lineageDir(opts);
  let store: LineageStore;
  try {
    store = await openLineage(dir, { readOnly: true });
  } catch (e) {
    throw asCliError(e, dir);
  }
  try {
    return await fn(store);
  } catch (e) {
    throw asCliError(e, dir);
  } finally {
    await store.close();
  }
}

function stateDirOption(cmd: Command): Command {
  return cmd.option('--state-dir <dir>', `state directory of the daemon (default: $LACUNA_FS_STATE_DIR or ${DEFAULTS.stateDir})`);
}

function parseDepth(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`--depth must be a positive integer, got ${v}`, EXIT.USAGE);
  return n;
}

/** ISO 8601 time, or a span back from now: 90s, 30m, 12h, 7d, 2w. */
export function parseSince(v: string, now = Date.now()): Date {
  const rel = /^(\d+)\s*([smhdw])$/.exec(v.trim());
  if (rel) {
    const unit = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 604800e3 }[rel[2] as 's' | 'm' | 'h' | 'd' | 'w'];
    return new Date(now - Number(rel[1]) * unit);
  }
  const t = Date.parse(v);
  if (!/^\d{4}-\d{2}-\d{2}/.test(v) || Number.isNaN(t)) throw new CliError(`--since must be an ISO 8601 time or a span like 30m, 12h, 7d; got ${v}`, EXIT.USAGE);
  return new Date(t);
}

function label(n: LineageNode): string {
  const tags = n.tags.length ? ` [${n.tags.join(', ')}]` : '';
  const notes: string[] = [];
  if (n.content !== undefined && n.content.tier !== n.tier) notes.push(`content ${n.content.tier}, inherited`);
  if (n.aggregate) notes.push('aggregate');
  if (n.deleted) notes.push(`deleted ${n.deleted}`);
  return `${n.path}  ${n.tier}${tags}${notes.length ? `  (${notes.join('; ')})` : ''}`;
}

function edgeLabel(e: LineageEdge): string {
  const who = e.program ? `${e.program} (${e.user || `uid ${e.uid}`}, pid ${e.pid})` : 'content fingerprint match';
  const sim = e.similarity !== undefined ? ` similarity ${(e.similarity * 100).toFixed(0)}%` : '';
  const times = e.count > 1 ? ` … ${e.last} (${e.count}×)` : '';
  return `${e.ops.join(',')} by ${who}${sim} at ${e.time}${times}`;
}

/** A DAG as an indented tree; a node reached twice is printed once and referred to after. */
export function renderTree(g: LineageGraph): string {
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  const next = new Map<number, Array<{ id: number; edge: LineageEdge }>>();
  for (const e of g.edges) {
    const [from, to] = g.direction === 'upstream' ? [e.to, e.from] : [e.from, e.to];
    let list = next.get(from);
    if (list === undefined) next.set(from, (list = []));
    list.push({ id: to, edge: e });
  }
  const lines: string[] = [];
  const shown = new Set<number>([g.root]);
  const visit = (id: number, prefix: string): void => {
    const kids = (next.get(id) ?? []).sort((a, b) => (byId.get(a.id)?.path ?? '').localeCompare(byId.get(b.id)?.path ?? ''));
    kids.forEach((k, i) => {
      const last = i === kids.length - 1;
      const n = byId.get(k.id);
      if (n === undefined) return;
      const again = shown.has(k.id);
      lines.push(`${prefix}${last ? '└── ' : '├── '}${again ? `${n.path}  (see above)` : label(n)}`);
      lines.push(`${prefix}${last ? '    ' : '│   '}    ${g.direction === 'upstream' ? '→' : '←'} ${edgeLabel(k.edge)}`);
      if (again) return;
      shown.add(k.id);
      visit(k.id, prefix + (last ? '    ' : '│   '));
    });
  };
  visit(g.root, '');
  if (lines.length === 0) lines.push(g.direction === 'upstream' ? '(no recorded sources)' : '(nothing derived from it)');
  if (g.truncated) lines.push('… more beyond the depth or size limit (use --depth, or --json)');
  return lines.join('\n');
}

interface LineageOpts extends StoreOpts {
  upstream?: boolean;
  downstream?: boolean;
  depth?: number;
  json?: boolean;
}

async function showLineage(path: string | undefined, opts: LineageOpts): Promise<void> {
  if (path === undefined) throw new CliError('give a PATH (or a subcommand: export, check)', EXIT.USAGE);
  const p = resolve(path);
  const both = !opts.upstream && !opts.downstream;
  await withStore(opts, (s) => {
    const up = opts.upstream || both ? s.upstream(p, opts.depth) : undefined;
    const down = opts.downstream || both ? s.downstream(p, opts.depth) : undefined;
    const node = (up ?? down)!.nodes[0]!;
    if (opts.json) {
      process.stdout.write(JSON.stringify({ node, ...(up && { upstream: up }), ...(down && { downstream: down }) }, null, 2) + '\n');
      return;
    }
    const out = [label(node)];
    if (up) out.push('', 'upstream (what it was made from):', renderTree(up));
    if (down) out.push('', 'downstream (what was made from it):', renderTree(down));
    process.stdout.write(out.join('\n') + '\n');
  });
}

interface ExportOpts extends StoreOpts {
  format: string;
  since?: string;
  namespace?: string;
}

async function exportLineage(opts: ExportOpts): Promise<void> {
  const since = opts.since !== undefined ? parseSince(opts.since) : undefined;
  await withStore(opts, async (s) => {
    let n = 0;
    for await (const ev of s.exportOpenLineage({ since, namespace: opts.namespace })) {
      // Respect back-pressure: a pipe to a slow consumer must not buffer the whole log.
      if (!process.stdout.write(JSON.stringify(ev) + '\n')) await new Promise((r) => process.stdout.once('drain', r));
      n++;
    }
    process.stderr.write(`lineage export: ${n} event${n === 1 ? '' : 's'}\n`);
  });
}

async function check(opts: StoreOpts & { json?: boolean }): Promise<void> {
  const dir = lineageDir(opts);
  let res;
  try {
    res = await checkLineage(dir);
  } catch (e) {
    throw asCliError(e, dir);
  }
  if (opts.json) process.stdout.write(JSON.stringify(res) + '\n');
  else {
    process.stdout.write(`${res.nodes} nodes, ${res.edges} edges, ${res.events} events\n`);
    for (const p of res.problems) process.stdout.write(`problem: ${p}\n`);
  }
  if (res.problems.length > 0) throw new CliError(`${res.problems.length} consistency problem(s) in ${dir}`, EXIT.FAILED);
}

async function impact(path: string, opts: StoreOpts & { json?: boolean }): Promise<void> {
  const p = resolve(path);
  await withStore(opts, (s) => {
    const node = s.node(p);
    if (node === undefined) throw new CliError(`no lineage recorded for ${p}`, EXIT.FAILED);
    const affected = s.impact(p);
    if (opts.json) {
      process.stdout.write(JSON.stringify({ path: node.path, tier: node.tier, tags: node.tags, affected }, null, 2) + '\n');
      return;
    }
    const lines = [`${label(node)}: ${affected.length} file${affected.length === 1 ? '' : 's'} downstream`];
    for (const a of affected) lines.push(`  ${String(a.distance).padStart(3)}  ${a.tier.padEnd(11)} ${(a.tags.join(',') || '-').padEnd(20)} ${a.path}`);
    process.stdout.write(lines.join('\n') + '\n');
  });
}

export function register(program: Command): void {
  const lineage = stateDirOption(
    program
      .command('lineage')
      .summary('show where a file came from and what was made from it')
      .description(
        'Show the lineage graph of a file as a tree: upstream (the files it was derived\n' +
          'from) and downstream (the files derived from it), each edge with the operation,\n' +
          'program, user and time. PATH is the path users see (e.g. /governed/x.csv) or the\n' +
          'real path under the source directory. Reads the store read-only: safe while the\n' +
          'daemon runs.',
      )
      .argument('[path]', 'file to show')
      .option('--upstream', 'only what the file was made from')
      .option('--downstream', 'only what was made from the file')
      .option('--depth <n>', 'follow at most N edges', parseDepth)
      .option('--json', 'JSON: {node, upstream, downstream}, each {root, direction, nodes, edges, truncated}'),
  )
    .addHelpText('after', '\nExamples:\n  lacuna-fs lineage /governed/reports/q3.csv\n  lacuna-fs lineage --downstream --depth 2 --json /governed/crm/customers.csv\n  lacuna-fs lineage export --format openlineage --since 24h > events.jsonl\n\nExit codes: 0 ok; 1 no lineage for PATH or no store; 2 bad usage; 5 internal error.')
    .action(async (path: string | undefined, opts: LineageOpts) => {
      if (opts.upstream && opts.downstream) throw new CliError('give at most one of --upstream, --downstream (neither shows both)', EXIT.USAGE);
      await showLineage(path, opts);
    });

  stateDirOption(
    lineage
      .command('export')
      .summary('write lineage as OpenLineage events (JSON lines) to stdout')
      .description(
        'Write the recorded lineage as OpenLineage events, one JSON object per line, in time\n' +
          'order: a RunEvent per write (START for a process\'s first, RUNNING after, COMPLETE\n' +
          'when it ended), renames with a RENAME lifecycle facet, deletions as DatasetEvents\n' +
          'with DROP. Datasets carry the classification (lacuna_classification and tags facets).',
      )
      .addOption(new Option('--format <format>', 'output format').choices(['openlineage']).makeOptionMandatory())
      .option('--since <time>', 'only events at or after an ISO 8601 time or a span back from now (30m, 12h, 7d)')
      .option('--namespace <ns>', 'OpenLineage dataset namespace (default file://<hostname>)'),
  ).action(async (_opts: ExportOpts, cmd: Command) => {
    // --state-dir may be written before `export`, where the parent command parses it.
    await exportLineage(cmd.optsWithGlobals<ExportOpts>());
  });

  stateDirOption(
    lineage
      .command('check')
      .summary('check the lineage store for dangling references')
      .option('--json', 'one JSON object: {nodes, edges, events, problems}'),
  ).action(async (_opts: StoreOpts & { json?: boolean }, cmd: Command) => {
    await check(cmd.optsWithGlobals<StoreOpts & { json?: boolean }>());
  });

  stateDirOption(
    program
      .command('impact')
      .summary('list every file derived from a file, with the tier each has now')
      .description(
        'Everything downstream of PATH, nearest first, with its current tier and tags: who\n' +
          'is affected if this file is reclassified or leaked.',
      )
      .argument('<path>', 'source file')
      .option('--json', 'JSON: {path, tier, tags, affected: [{path, tier, tags, distance}]}'),
  ).action(async (path: string, opts: StoreOpts & { json?: boolean }) => {
    await impact(path, opts);
  });
}
