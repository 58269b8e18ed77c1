// `lacuna-fs audit verify|query|report|prove|check-proof|pubkey`: offline commands over the audit evidence, read
// straight from the spool under the state dir or from PostgreSQL (`--source postgres`). No daemon
// is needed; verify exits 0 only when every chain is intact and 1 when a break is found.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import {
  ProofError, ReportBuilder, checkProof, compareCopies, compileFilter, describeMismatch, pinnedKey, proofMaterial, proveConsistency,
  proveInclusion, queryPostgres, querySpool, readPublicKey, renderCsv, renderMarkdown, summarizeVerification, verifyPostgres, verifySpool,
  type AuditRecord, type ConsistencyProofDoc, type CopiesReport, type InclusionProofDoc, type KeySpec, type RecordFilter, type VerifyReport,
} from '../../audit/index.js';
import { configOption, loadCliConfig } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';

interface SourceOpts {
  config?: string;
  stateDir?: string;
  postgres?: string;
  source: 'spool' | 'postgres' | 'both';
  chain?: string;
  pubkey?: string;
  json?: boolean;
}

function sourceOptions(cmd: Command, both = false): Command {
  return configOption(cmd)
    .option('--state-dir <dir>', 'daemon state directory holding audit/ (default: stateDir from the config)')
    .option('--postgres <url>', 'PostgreSQL connection string (default: audit.postgres from the config)')
    .addOption(
      new Option('--source <where>', both ? 'the local spool, PostgreSQL, or both (each verified, then compared with each other)' : 'read the local spool or PostgreSQL')
        .choices(both ? ['spool', 'postgres', 'both'] : ['spool', 'postgres'])
        .default('spool'),
    )
    .option('--chain <id>', 'only this chain (PostgreSQL holds one chain per host)');
}

function stateDirOf(o: SourceOpts): string {
  const dir = o.stateDir ?? loadCliConfig(o.config).stateDir;
  if (!existsSync(join(dir, 'audit'))) throw new CliError(`no audit spool in ${dir} (expected ${join(dir, 'audit')})`, EXIT.USAGE);
  return dir;
}

function postgresOf(o: SourceOpts): string {
  const url = o.postgres ?? loadCliConfig(o.config).audit.postgres;
  if (!url) throw new CliError('no PostgreSQL configured: pass --postgres URL or set audit.postgres in the config', EXIT.USAGE);
  return url;
}

function keyOf(o: SourceOpts): KeySpec | undefined {
  if (!o.pubkey) return undefined;
  try {
    return pinnedKey(readFileSync(o.pubkey, 'utf8'));
  } catch (err) {
    throw new CliError(`cannot use --pubkey ${o.pubkey}: ${(err as Error).message}`, EXIT.USAGE);
  }
}

function intArg(v: string | undefined, what: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new CliError(`${what}: ${JSON.stringify(v)} is not a non-negative integer`, EXIT.USAGE);
  return n;
}

async function pgCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof CliError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code && /^(ECONNREFUSED|ENOENT|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|28P01|3D000|42P01)$/.test(code)) {
      throw new CliError(`PostgreSQL: ${(err as Error).message}${code === '42P01' ? ' (no audit tables: has a daemon ever shipped to this database?)' : ''}`, EXIT.FAILED);
    }
    throw err;
  }
}

async function runVerify(o: SourceOpts & { from?: string; max?: string }): Promise<VerifyReport[]> {
  const from = intArg(o.from, '--from');
  const maxMismatches = intArg(o.max, '--max') ?? 100;
  const key = keyOf(o);
  if (o.source === 'both') {
    const dir = stateDirOf(o);
    const url = postgresOf(o);
    const local = await verifySpool(dir, { ...(key ? { key } : {}), ...(from !== undefined ? { from } : {}), maxMismatches });
    const chainId = o.chain ?? local.chainId ?? undefined;
    const remote = await pgCall(() => verifyPostgres(url, { ...(chainId ? { chainId } : {}), ...(key ? { key } : {}), ...(from !== undefined ? { from } : {}), maxMismatches }));
    const copies = await pgCall(() => compareCopies(dir, url));
    return [local, ...remote, copiesAsReport(copies)];
  }
  if (o.source === 'postgres') {
    const url = postgresOf(o);
    const reports = await pgCall(() => verifyPostgres(url, { ...(o.chain ? { chainId: o.chain } : {}), ...(key ? { key } : {}), ...(from !== undefined ? { from } : {}), maxMismatches }));
    if (reports.length === 0) throw new CliError('PostgreSQL holds no audit chain', EXIT.FAILED);
    return reports;
  }
  return [await verifySpool(stateDirOf(o), { ...(key ? { key } : {}), ...(from !== undefined ? { from } : {}), maxMismatches })];
}

/** The spool-vs-PostgreSQL comparison, shaped like a verify result so it prints and exits alike. */
function copiesAsReport(c: CopiesReport): VerifyReport & { copies: true; compared: number; checkpointsCompared: number } {
  return {
    copies: true, compared: c.compared, checkpointsCompared: c.checkpointsCompared,
    ok: c.ok, chainId: c.chainId, records: c.compared, firstSeq: null, lastSeq: null, lastHash: null,
    checkpoints: { total: c.checkpointsCompared, signatureChecked: 0, matched: 0, lastSeq: null, notCovered: 0 },
    signaturesChecked: false, merkleChecked: false, mismatches: c.mismatches, first: c.mismatches[0] ?? null, mismatchesDropped: 0,
    source: 'postgres', keyOrigin: null,
  };
}

function printVerify(r: VerifyReport): void {
  if ('copies' in r) {
    const c = r as ReturnType<typeof copiesAsReport>;
    process.stdout.write(`chain ${c.chainId ?? '?'} spool vs PostgreSQL: ${c.ok ? 'SAME' : 'DIFFERENT'} (${c.compared} records and ${c.checkpointsCompared} checkpoints compared byte for byte)\n`);
    for (const m of c.mismatches.slice(0, 20)) process.stdout.write(`  ${describeMismatch(m)}\n`);
    return;
  }
  const sig = !r.signaturesChecked ? 'signatures NOT checked (no key)' : r.keyOrigin === 'pinned' ? 'signatures checked with the pinned key' : `signatures checked with the key from ${r.keyOrigin} (pin one with --pubkey for independent assurance)`;
  process.stdout.write(
    `chain ${r.chainId ?? '?'} (${r.source}): ${r.ok ? 'INTACT' : 'BROKEN'}\n` +
      `  records   ${r.records} (seq ${r.firstSeq ?? '-'}..${r.lastSeq ?? '-'}), head ${r.lastHash ?? '-'}\n` +
      `  checkpoints ${r.checkpoints.total} (${r.checkpoints.matched} matched a record, ${r.checkpoints.notCovered} before the first record here, last at seq ${r.checkpoints.lastSeq ?? '-'}); ${sig}\n` +
      `  merkle    ${r.merkleChecked ? 'roots recomputed from genesis' : 'not recomputed (did not start at genesis)'}\n`,
  );
  if (r.incompleteTail) process.stdout.write(`  note      ${r.incompleteTail.bytes} unterminated bytes at ${r.incompleteTail.where}: a write in progress, or a torn tail the next start recovers (never acknowledged, not a break)\n`);
  if (!r.ok) {
    process.stdout.write(`  first break: ${describeMismatch(r.first!)}\n`);
    for (const m of r.mismatches.slice(1, 20)) process.stdout.write(`  also: ${describeMismatch(m)}\n`);
    const more = r.mismatches.length - 20 + r.mismatchesDropped;
    if (more > 0) process.stdout.write(`  … ${more} more\n`);
  }
}

function recordLine(r: AuditRecord): string {
  const tier = r.classification?.tier ?? '-';
  return `${r.time}  ${String(r.seq).padStart(8)}  ${(r.kind === 'decision' ? (r.decision ?? '-') : r.kind).padEnd(14)} ${(r.user ?? (r.uid !== undefined ? `uid:${r.uid}` : '-')).padEnd(10)} ${tier.padEnd(11)} ${(r.action ?? '-').padEnd(8)} ${(r.paths ?? []).join(' -> ')}${r.policy_id ? `  [${r.policy_id}]` : ''}`;
}

export function register(program: Command): void {
  const audit = program
    .command('audit')
    .summary('verify, search and report on the tamper-evident audit trail')
    .description(
      'The audit trail is a hash chain of canonical (RFC 8785) records with Ed25519-signed checkpoints, ' +
        'kept in a local spool under <stateDir>/audit/ and streamed to PostgreSQL. These commands read ' +
        'either copy directly; no daemon is needed. See docs/AUDIT.md.',
    );

  sourceOptions(audit.command('verify'), true)
    .summary('recompute every hash, link, Merkle root and checkpoint signature')
    .description(
      'Recompute every record hash and link, check every signed checkpoint (so a truncated tail is ' +
        'found), and name the first broken record and the kind of break (hash_mismatch, link_broken, ' +
        'gap, reordered, duplicate, truncated_tail, checkpoint_mismatch, bad_signature, …).\n\n' +
        'Exit status: 0 intact, 1 a break was found (or the evidence cannot be read), 2 bad usage.',
    )
    .option('--from <seq>', 'start at this seq (its link to the previous record is not checked)')
    .option('--pubkey <file>', 'verify signatures with this PEM public key (from `lacuna-fs audit pubkey`) instead of the stored one')
    .option('--max <n>', 'report at most this many breaks per chain', '100')
    .option('--json', 'print the full result as JSON')
    .action(async (o: SourceOpts & { from?: string; max?: string }) => {
      const reports = await runVerify(o);
      if (o.json) process.stdout.write(JSON.stringify(reports.length === 1 && o.source === 'spool' ? reports[0] : reports, null, 2) + '\n');
      else reports.forEach(printVerify);
      const broken = reports.filter((r) => !r.ok);
      if (broken.length) throw new CliError(`audit chain broken: ${broken.map((r) => `${r.chainId}: ${describeMismatch(r.first!)}`).join('; ')}`, EXIT.FAILED);
    });

  sourceOptions(audit.command('query'))
    .summary('find audit records by user, path, decision, tier, kind, policy and time')
    .option('--user <name>', 'records of this user')
    .option('--path <glob>', 'records touching a path matching this glob (* and ? within a segment, ** across)')
    .addOption(new Option('--decision <d>', 'decision').choices(['allow', 'deny', 'allow_monitor']))
    .addOption(new Option('--tier <tier>', 'classification tier').choices(['PUBLIC', 'INTERNAL', 'PROPRIETARY']))
    .option('--kind <kind>', 'record kind (decision, policy_loaded, exception_approved, …)')
    .option('--policy <id>', 'records decided by this policy')
    .option('--since <time>', 'at or after this time (ISO 8601)')
    .option('--until <time>', 'before this time (ISO 8601)')
    .option('--limit <n>', 'stop after this many records')
    .option('--json', 'one canonical record per line')
    .action(async (o: SourceOpts & RecordFilter & { limit?: string }) => {
      const limit = intArg(o.limit, '--limit') ?? Infinity;
      const f: RecordFilter = { ...(o.user ? { user: o.user } : {}), ...(o.path ? { path: o.path } : {}), ...(o.decision ? { decision: o.decision } : {}), ...(o.tier ? { tier: o.tier } : {}), ...(o.kind ? { kind: o.kind } : {}), ...(o.policy ? { policy: o.policy } : {}), ...(o.since ? { since: o.since } : {}), ...(o.until ? { until: o.until } : {}), ...(o.chain ? { chainId: o.chain } : {}) };
      try {
        compileFilter(f);
      } catch (err) {
        throw new CliError((err as Error).message, EXIT.USAGE);
      }
      const it = o.source === 'postgres' ? queryPostgres(postgresOf(o), f) : querySpool(stateDirOf(o), f);
      let n = 0;
      await pgCall(async () => {
        for await (const r of it) {
          process.stdout.write(o.json ? JSON.stringify(r) + '\n' : recordLine(r) + '\n');
          if (++n >= limit) break;
        }
      });
      if (!o.json) process.stderr.write(`${n} record(s)\n`);
    });

  sourceOptions(audit.command('report'))
    .summary('compliance report: decisions by tier, zone, user, policy; denials; exceptions; chain verification')
    .description(
      'A report an auditor can read as it is: chain verification and checkpoints first, then decisions ' +
        'by tier, zone, user and policy, every denial with its reason, monitor-mode would-have-denied, ' +
        'exceptions with approver and expiry, policy/mount/daemon events and crash recoveries. ' +
        'The chain is always verified in full; --since/--until select the records summarised.',
    )
    .option('--since <time>', 'window start (ISO 8601, inclusive)')
    .option('--until <time>', 'window end (ISO 8601, exclusive)')
    .addOption(new Option('--format <fmt>', 'output format').choices(['md', 'json', 'csv']).default('md'))
    .option('--pubkey <file>', 'verify checkpoint signatures with this pinned public key')
    .option('--max-list <n>', 'list at most this many denials', '1000')
    .action(async (o: SourceOpts & { since?: string; until?: string; format: 'md' | 'json' | 'csv'; maxList: string }) => {
      const f: RecordFilter = { ...(o.since ? { since: o.since } : {}), ...(o.until ? { until: o.until } : {}), ...(o.chain ? { chainId: o.chain } : {}) };
      try {
        compileFilter(f);
      } catch (err) {
        throw new CliError((err as Error).message, EXIT.USAGE);
      }
      const b = new ReportBuilder({ ...f, source: o.source === 'postgres' ? 'postgres' : 'spool', maxList: intArg(o.maxList, '--max-list') ?? 1000 });
      const reports = await pgCall(() => runVerify({ ...o }));
      for (const r of reports) b.verification(summarizeVerification(r));
      const it = o.source === 'postgres' ? queryPostgres(postgresOf(o), f) : querySpool(stateDirOf(o), f);
      await pgCall(async () => {
        for await (const r of it) b.add(r);
      });
      const m = b.build();
      process.stdout.write(o.format === 'json' ? JSON.stringify(m, null, 2) + '\n' : o.format === 'csv' ? renderCsv(m) : renderMarkdown(m));
    });

  sourceOptions(audit.command('prove'))
    .summary('RFC 9162 Merkle proofs: a record is in a signed checkpoint, or an old checkpoint is a prefix of a new one')
    .description(
      'Print a self-contained proof (JSON) that record --seq is included in the tree a signed checkpoint ' +
        'vouches for (the first checkpoint at or after it, or --checkpoint SEQ), or with --consistency OLD:NEW ' +
        'that the tree of checkpoint OLD is a prefix of the tree of checkpoint NEW. Needs the records from ' +
        'genesis (use --source postgres once the spool is trimmed). Check one with `audit check-proof`.',
    )
    .option('--seq <n>', 'the record to prove')
    .option('--checkpoint <seq>', 'prove against this checkpoint')
    .option('--consistency <old:new>', 'prove consistency between two checkpoint seqs')
    .option('--pubkey <file>', 'check checkpoint signatures with this pinned public key')
    .action(async (o: SourceOpts & { seq?: string; checkpoint?: string; consistency?: string }) => {
      const key = keyOf(o);
      const m = await pgCall(async () => {
        try {
          return await proofMaterial(o.source === 'postgres' ? { connectionString: postgresOf(o), ...(o.chain ? { chainId: o.chain } : {}) } : { stateDir: stateDirOf(o) });
        } catch (err) {
          if (err instanceof CliError || (err as NodeJS.ErrnoException).code) throw err;
          throw new CliError((err as Error).message, EXIT.FAILED);
        }
      });
      const k = key ?? m.key ?? undefined;
      try {
        let doc;
        if (o.consistency) {
          const [a, b] = o.consistency.split(':').map((x) => intArg(x, '--consistency'));
          if (a === undefined || b === undefined) throw new CliError('--consistency wants OLD:NEW checkpoint seqs', EXIT.USAGE);
          doc = proveConsistency(m.hashes, m.checkpoints, a, b, k);
        } else {
          const seq = intArg(o.seq, '--seq');
          if (seq === undefined) throw new CliError('give --seq N (or --consistency OLD:NEW)', EXIT.USAGE);
          doc = proveInclusion(m.hashes, m.checkpoints, seq, k, intArg(o.checkpoint, '--checkpoint'));
        }
        process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
      } catch (err) {
        if (err instanceof ProofError) throw new CliError(`cannot prove: ${err.message}`, EXIT.FAILED);
        throw err;
      }
    });

  configOption(audit.command('check-proof'))
    .summary('check a proof printed by `audit prove` with a public key, without any records')
    .argument('<file>', 'proof JSON ("-" for stdin)')
    .option('--pubkey <file>', 'public key (PEM) that signed the checkpoints')
    .option('--state-dir <dir>', 'take the public key from this state dir instead')
    .action(async (file: string, o: { config?: string; pubkey?: string; stateDir?: string }) => {
      let doc: InclusionProofDoc | ConsistencyProofDoc;
      try {
        doc = JSON.parse(file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8'));
      } catch (err) {
        throw new CliError(`cannot read proof ${file}: ${(err as Error).message}`, EXIT.USAGE);
      }
      const key = o.pubkey ? keyOf({ pubkey: o.pubkey } as SourceOpts)! : (() => {
        try {
          return readPublicKey(join(o.stateDir ?? loadCliConfig(o.config).stateDir, 'audit'));
        } catch (err) {
          throw new CliError(`no public key: pass --pubkey FILE (${(err as Error).message})`, EXIT.USAGE);
        }
      })();
      const r = checkProof(doc, key);
      process.stdout.write(`${r.ok ? 'VALID' : 'INVALID'}: ${r.detail}\n`);
      if (!r.ok) throw new CliError('proof does not verify', EXIT.FAILED);
    });

  configOption(audit.command('pubkey'))
    .summary('print the public key that verifies this host\'s checkpoints')
    .description('Print the Ed25519 public key (PEM) of the audit signing key in <stateDir>/audit/. Keep a copy somewhere the host cannot write and pass it to `audit verify --pubkey`.')
    .option('--state-dir <dir>', 'daemon state directory (default: stateDir from the config)')
    .option('--json', 'print {key_id, public_key}')
    .action((o: { config?: string; stateDir?: string; json?: boolean }) => {
      const dir = join(o.stateDir ?? loadCliConfig(o.config).stateDir, 'audit');
      let k: ReturnType<typeof readPublicKey>;
      try {
        k = readPublicKey(dir);
      } catch (err) {
        throw new CliError(`no audit signing key in ${dir}: ${(err as Error).message}`, EXIT.USAGE);
      }
      process.stdout.write(o.json ? JSON.stringify({ key_id: k.keyId, public_key: k.pem }) + '\n' : k.pem);
    });
}
