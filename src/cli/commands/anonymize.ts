// `lacuna-fs anonymize IN OUT`: writes a copy of IN with every identifier layer 1 validates
// pseudonymised (keyed HMAC tokens, so joins survive) or masked, and secrets masked. Offline:
// no daemon, no lineage record (the daemon's route records the derivative). Prints what was
// replaced by type and count, never a value; refuses to write a copy that still holds any.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { anonymize, ClassifyError, type AnonymizeResult } from '../../classify/index.js';
import { CliError, EXIT } from '../exit-codes.js';
import { loadRules } from './classify.js';
import { callControl, controlSocketPath, NoDaemonError } from '../../control/index.js';
import { loadConfig, resolveConfigPath, isWithin } from '../../config/index.js';
import { controlCall } from '../context.js';

interface Opts {
  mask?: boolean;
  keyFile?: string;
  json?: boolean;
  force?: boolean;
  rules?: string;
}

const KEY_BYTES = 32;

/** Where the key lives when neither --key-file nor $LACUNA_ANON_KEY_FILE names one. */
export function defaultKeyFile(): string {
  return join(homedir(), '.config', 'lacuna-fs', 'anonymize.key');
}

/**
 * The HMAC key: the file's bytes (one trailing line break ignored, so `openssl rand -hex 32 > F`
 * works). The default file is created on first use with 32 random bytes, mode 0600.
 */
async function loadKey(explicit: string | undefined): Promise<{ key: Buffer; file: string; created: boolean }> {
  const file = explicit ?? process.env.LACUNA_ANON_KEY_FILE ?? defaultKeyFile();
  let raw: Buffer;
  let created = false;
  try {
    raw = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' || explicit !== undefined || process.env.LACUNA_ANON_KEY_FILE !== undefined) {
      throw new CliError(`cannot read key file ${file}: ${(err as Error).message}`, EXIT.USAGE);
    }
    raw = randomBytes(KEY_BYTES);
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    try {
      // 'wx': two first runs racing must not end with different keys on disk.
      await writeFile(file, raw, { mode: 0o600, flag: 'wx' });
      created = true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new CliError(`cannot create key file ${file}: ${(e as Error).message}`, EXIT.FAILED);
      raw = await readFile(file);
    }
  }
  let end = raw.length;
  if (end > 0 && raw[end - 1] === 0x0a) end--;
  if (end > 0 && raw[end - 1] === 0x0d) end--;
  const key = raw.subarray(0, end);
  if (key.length < 16) throw new CliError(`key file ${file} holds ${key.length} bytes; at least 16 are needed`, EXIT.USAGE);
  const st = await stat(file);
  if ((st.mode & 0o077) !== 0) process.stderr.write(`anonymize: warning: key file ${file} is readable by others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it\n`);
  return { key, file, created };
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

function summary(r: AnonymizeResult): string {
  const what = r.replaced.length ? r.replaced.map((x) => `${x.count} ${x.type}`).join(', ') : 'nothing';
  const cols = r.columns.length ? `\n    named columns/fields replaced whole: ${r.columns.map((c) => `${c.header} (${c.type})`).join(', ')}` : '';
  return `replaced ${what}${cols}`;
}

export function register(program: Command): void {
  program
    .command('anonymize')
    .summary('write a copy with identifiers pseudonymised or masked and secrets masked')
    .description(
      'Write OUT: a copy of IN in which every identifier the layer-1 scanner validates\n' +
        '(emails, phones, SSNs, cards, IBANs, IPs, dates of birth, ...) is replaced by a keyed\n' +
        'pseudonym (<type>_<12 hex>: the same value gives the same token with the same key, in\n' +
        'any file, so joins still work), or by [TYPE] with --mask. Secrets are always masked.\n' +
        'In CSV/TSV files, columns whose header names personal data are replaced in every row.\n' +
        'The copy is scanned again; if anything is left, nothing is written and the exit code is 1.\n' +
        'When IN is inside a governed mount and the daemon runs, the daemon makes the copy: it\n' +
        'checks you may read IN and write OUT (inside a mount), asks the policy whether the\n' +
        'anonymised derivative may be written there, and records it in lineage, so it may then\n' +
        'leave governed storage as the policy allows. Otherwise (or with --offline) it runs here.',
    )
    .argument('<in>', 'text file to anonymize')
    .argument('<out>', 'where to write the copy (not overwritten unless --force)')
    .option('--mask', 'replace identifiers by [TYPE] instead of keyed pseudonyms')
    .option('--key-file <file>', 'HMAC key (default $LACUNA_ANON_KEY_FILE, else ~/.config/lacuna-fs/anonymize.key, created 0600 on first use)')
    .option('--rules <file>', 'extra rules (YAML list of rule specs, as in the config) added to the built-in table')
    .option('--force', 'overwrite OUT if it exists')
    .option('--json', 'print one JSON object: in, out, mode, replaced, columns, remaining, written')
    .option('-c, --config <file>', 'config file, to find the daemon (default: $LACUNA_FS_CONFIG or /etc/lacuna-fs/config.yaml)')
    .option('--offline', 'never ask the daemon (no lineage record)')
    .addHelpText(
      'after',
      '\nExamples:\n  lacuna-fs anonymize exports/crm.csv /tmp/crm.anon.csv\n  lacuna-fs anonymize --mask --json memo.txt memo.masked.txt\n\nExit codes: 0 written; 1 identifiers remained (nothing written) or IN could not be read; 2 bad usage (OUT exists, binary input, bad key or rules); 5 internal error.',
    )
    .action(async (input: string, output: string, opts: Opts & { config?: string; offline?: boolean }) => {
      if (!opts.offline && (await throughDaemon(resolve(input), resolve(output), opts))) return;
      await run(resolve(input), resolve(output), opts);
    });
}

interface DaemonAnswer {
  input: string;
  output: string;
  replaced: Array<{ type: string; count: number }>;
  columns: Array<{ header: string; type: string }>;
  decision: { allow: boolean; policy_id: string; reasoning: string; alternatives: string[] };
}

/**
 * Asks the running daemon to make the copy when IN is governed by it. Returns false when
 * there is no config, IN is not under any mount, or no daemon answers (then: offline).
 */
async function throughDaemon(input: string, output: string, opts: Opts & { config?: string }): Promise<boolean> {
  let config;
  try {
    config = loadConfig(resolveConfigPath(opts.config));
  } catch {
    return false;
  }
  if (!config.mounts.some((m) => isWithin(input, m.mountpoint) || isWithin(input, m.source))) return false;
  let r: DaemonAnswer;
  try {
    r = await callControl<DaemonAnswer>(controlSocketPath(config.runtimeDir), 'POST', '/v1/anonymize', { input, output, mask: String(Boolean(opts.mask)), force: String(Boolean(opts.force)) });
  } catch (e) {
    if (e instanceof NoDaemonError) {
      process.stderr.write('anonymize: no daemon runs: anonymising here; the copy is not recorded in lineage\n');
      return false;
    }
    return controlCall(() => Promise.reject(e));
  }
  if (opts.json) process.stdout.write(JSON.stringify({ in: r.input, out: r.output, mode: opts.mask ? 'mask' : 'pseudonymise', replaced: r.replaced, columns: r.columns, remaining: [], written: r.decision.allow, decision: r.decision }) + '\n');
  else if (r.decision.allow) {
    process.stdout.write(`wrote ${r.output} (${opts.mask ? 'masked' : 'pseudonymised'}; recorded in lineage as an anonymised derivative of ${r.input})\n    ${r.replaced.map((x) => `${x.count} ${x.type}`).join(', ') || 'no identifiers found'}\n`);
  }
  if (!r.decision.allow) throw new CliError(`not written: ${r.decision.reasoning} (policy ${r.decision.policy_id})`, EXIT.FAILED);
  return true;
}

async function run(input: string, output: string, opts: Opts): Promise<void> {
  if (input === output) throw new CliError('IN and OUT are the same file; write the copy elsewhere', EXIT.USAGE);
  if (!opts.force && (await exists(output))) throw new CliError(`${output} exists; use --force to overwrite it`, EXIT.USAGE);
  const extraRules = opts.rules ? await loadRules(opts.rules) : undefined;
  let data: Buffer;
  try {
    data = await readFile(input);
  } catch (err) {
    throw new CliError(`cannot read ${input}: ${(err as Error).message}`, EXIT.FAILED);
  }
  const { key, file: keyFile, created } = await loadKey(opts.keyFile);
  if (created) process.stderr.write(`anonymize: created a new key in ${keyFile} (mode 0600); keep it to get the same tokens next time\n`);
  const mode = opts.mask ? 'mask' : 'pseudonymise';
  let r: AnonymizeResult;
  try {
    r = anonymize(data, { key, path: input, extraRules, mode });
  } catch (err) {
    if (err instanceof ClassifyError && ['binary_input', 'rule_invalid', 'key_invalid'].includes(err.code)) throw new CliError(`${input}: ${err.message}`, EXIT.USAGE);
    if (err instanceof ClassifyError) throw new CliError(`${err.message} [${err.code}]`, EXIT.INTERNAL);
    throw err;
  }
  const clean = r.remaining.length === 0;
  if (clean) {
    // Written beside OUT and renamed: a reader never sees half a copy.
    const tmp = join(dirname(output), `.${basename(output)}.${process.pid}.tmp`);
    try {
      await writeFile(tmp, r.output, { flag: 'wx', mode: 0o644 });
      await rename(tmp, output);
    } catch (err) {
      await rm(tmp, { force: true });
      throw new CliError(`cannot write ${output}: ${(err as Error).message}`, EXIT.FAILED);
    }
  }
  if (opts.json) {
    process.stdout.write(JSON.stringify({ in: input, out: output, mode, replaced: r.replaced, columns: r.columns, remaining: r.remaining, written: clean }) + '\n');
  } else {
    process.stdout.write(`${clean ? 'wrote' : 'NOT written'} ${output} (${mode === 'mask' ? 'masked' : 'pseudonymised'})\n    ${summary(r)}\n`);
    for (const f of r.remaining) process.stdout.write(`    still found: ${f.count} ${f.type} (${f.category}) on line${f.lines && f.lines.length > 1 ? 's' : ''} ${(f.lines ?? []).join(', ')}\n`);
  }
  if (!clean) throw new CliError(`${input}: identifiers remain after anonymization (${r.remaining.map((f) => f.type).join(', ')}); nothing was written`, EXIT.FAILED);
}
