// The AuditLog the daemon holds: synchronous append() that assigns seq and hash and queues the
// record, a group-commit loop that writes and fsyncs batches to the spool, signed checkpoints every
// N records or T seconds, and (optionally) the PostgreSQL sink fed from the durable spool.
// Invariant: headSeq >= durableSeq >= confirmedSeq; only durable records are checkpointed or shipped.
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, write, fdatasync } from 'node:fs';
import { promisify } from 'node:util';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { signCheckpoint, checkpointLine, type StoredCheckpoint } from './checkpoint.js';
import { loadCheckpointFile } from './checkpoints-file.js';
import { CHAIN_FILE, CHECKPOINTS_FILE, SINK_FILE, auditDirOf, readJsonIfExists, writeFileAtomic, writeFileAtomicAsync } from './files.js';
import { ZERO_HASH } from './hash.js';
import { loadOrCreateKey, type SigningKey } from './keys.js';
import { acquireWriterLock } from './lock.js';
import { MerkleFrontier } from './merkle.js';
import { encodeRecord, type UnsealedRecord } from './record.js';
import { PendingQueue } from './pending.js';
import { Spool, type Recovery } from './spool.js';
import { SinkProxy } from './sink-proxy.js';
import { AuditUnavailableError, type AuditEvent, type AuditKind, type AuditReceipt, type AuditStats } from './types.js';

export interface AuditLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface OpenAuditOptions {
  stateDir: string;
  host?: string;
  /** Defaults to the id stored in <stateDir>/audit/chain.json, or `<host>-<random>` on first start. */
  chainId?: string;
  /** PostgreSQL connection string; null/undefined = the local chain alone is the audit log. */
  postgres?: string | null;
  /** Sign a checkpoint after this many durable records (default 1000). */
  checkpointEvery?: number;
  /** … or after this many seconds with new records (default 60). */
  checkpointSeconds?: number;
  /** Longest a queued record waits before its batch is written (default 2 ms). */
  groupCommitMs?: number;
  /** Segment file size before rotation (default 16 MiB). */
  segmentBytes?: number;
  /** Retry delay after the spool failed to write (default 1000 ms). */
  retryMs?: number;
  /** Records per PostgreSQL INSERT (default 2000). */
  sinkBatch?: number;
  /** Delete spool segments PostgreSQL has confirmed and a checkpoint covers (default true). */
  trim?: boolean;
  logger?: AuditLogger;
}

export interface AuditLog {
  /** Synchronous: assigns seq and hash and queues the record for group commit. Throws AuditUnavailableError if the spool is unwritable. */
  append(e: AuditEvent): AuditReceipt;
  /** Resolves when everything appended so far is durable in the spool; rejects with AuditUnavailableError if it cannot be. */
  flush(): Promise<void>;
  /** Resolves when record `seq` is durable (for callers that must not answer before the record is on disk). */
  durable(seq: number): Promise<void>;
  head(): { seq: number; hash: string };
  stats(): AuditStats;
  /** Write a checkpoint now for the durable head (if it moved since the last one). */
  checkpoint(): Promise<void>;
  /** Flush, checkpoint, give the sink up to `drainMs` (default 2000) to catch up, release files. */
  close(opts?: { drainMs?: number }): Promise<void>;
  readonly chainId: string;
  readonly keyId: string;
  readonly publicKeyPem: string;
}

interface ChainFile {
  chain_id: string;
  host: string;
  created: string;
  format: string;
}

const writeAsync = promisify(write) as (fd: number, s: string) => Promise<unknown>;
const fdatasyncAsync = promisify(fdatasync);

const noopLogger: AuditLogger = { info() {}, warn() {}, error() {} };

/**
 * Open (or create) the chain in opts.stateDir. Any failure to get a writable, consistent spool is an
 * AuditUnavailableError (the daemon fails closed on it); an invalid option is a TypeError.
 */
export async function openAudit(opts: OpenAuditOptions): Promise<AuditLog> {
  const log = new ChainLog(opts);
  try {
    await log.start();
  } catch (err) {
    await log.abort();
    if (err instanceof AuditUnavailableError) throw err;
    throw new AuditUnavailableError(`cannot open the audit log in ${opts.stateDir}: ${(err as Error).message}`, err);
  }
  return log;
}

class ChainLog implements AuditLog {
  chainId = '';
  keyId = '';
  publicKeyPem = '';
  private readonly auditDir: string;
  private readonly host: string;
  private readonly every: number;
  private readonly seconds: number;
  private readonly groupMs: number;
  private readonly retryMs: number;
  private readonly log: AuditLogger;
  private key!: SigningKey;
  private spool!: Spool;
  private cpFd = -1;

  private headSeq = -1;
  private headHash = ZERO_HASH;
  private durableSeq = -1;
  private durableHash = ZERO_HASH;
  private pending = new PendingQueue();
  private committing = false;
  private scheduled: NodeJS.Timeout | NodeJS.Immediate | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private cpTimer: NodeJS.Timeout | null = null;
  private waiters: { seq: number; resolve: () => void; reject: (e: Error) => void }[] = [];
  private healthy = true;
  private lastError: string | undefined;
  private closed = false;
  private frontier = new MerkleFrontier();
  private checkpointCount = 0;
  private lastCheckpointSeq = -1;
  private lastCheckpointAt = Date.now();
  /** (last seq of a batch, when it became durable) for lag; dropped as PostgreSQL confirms. */
  private durableTimes: { seq: number; at: number }[] = [];
  private sink: SinkProxy | null = null;
  private releaseLock: () => void = () => {};

  constructor(private readonly opts: OpenAuditOptions) {
    this.auditDir = auditDirOf(opts.stateDir);
    this.host = opts.host ?? hostname();
    this.every = opts.checkpointEvery ?? 1000;
    this.seconds = opts.checkpointSeconds ?? 60;
    this.groupMs = opts.groupCommitMs ?? 2;
    this.retryMs = opts.retryMs ?? 1000;
    this.log = opts.logger ?? noopLogger;
  }

  async start(): Promise<void> {
    try {
      mkdirSync(this.auditDir, { recursive: true, mode: 0o750 });
    } catch (err) {
      throw new AuditUnavailableError(`cannot create ${this.auditDir}: ${(err as Error).message}`, err);
    }
    this.releaseLock = acquireWriterLock(this.auditDir);
    const opened = Spool.open(this.auditDir, this.opts.segmentBytes ?? 16 << 20);
    this.spool = opened.spool;
    try {
      this.key = loadOrCreateKey(this.auditDir);
    } catch (err) {
      throw new AuditUnavailableError(`cannot load or create the audit signing key: ${(err as Error).message}`, err);
    }
    this.keyId = this.key.keyId;
    this.publicKeyPem = this.key.publicKeyPem;
    this.resolveChainId(opened.head === null);
    if (opened.head) {
      this.headSeq = this.durableSeq = opened.head.seq;
      this.headHash = this.durableHash = opened.head.hash;
    }
    const cpFile = join(this.auditDir, CHECKPOINTS_FILE);
    const cps = loadCheckpointFile(cpFile, true);
    this.checkpointCount = cps.checkpoints.length;
    const last = cps.checkpoints[cps.checkpoints.length - 1];
    if (last) {
      if (last.chain_id !== this.chainId) throw new AuditUnavailableError(`checkpoints file belongs to chain ${last.chain_id}, not ${this.chainId}`);
      if (last.seq > this.durableSeq) {
        throw new AuditUnavailableError(
          `audit spool ends at seq ${this.durableSeq} but a signed checkpoint covers seq ${last.seq}: records were removed (truncated_tail); refusing to append`,
        );
      }
      this.lastCheckpointSeq = last.seq;
    }
    await this.rebuildFrontier(last);
    this.cpFd = openSync(cpFile, 'a', 0o640);
    if (hasPostgres(this.opts)) {
      const sinkState = readJsonIfExists<{ chain_id: string; confirmedSeq: number }>(join(this.auditDir, SINK_FILE));
      this.sink = new SinkProxy({
        data: {
          connectionString: this.opts.postgres!,
          chainId: this.chainId,
          host: this.host,
          publicKeyPem: this.publicKeyPem,
          keyId: this.keyId,
          confirmedSeq: sinkState?.chain_id === this.chainId ? sinkState.confirmedSeq : -1,
          auditDir: this.auditDir,
          checkpointsFile: cpFile,
          batch: this.opts.sinkBatch ?? 2000,
        },
        durableSeq: () => this.durableSeq,
        lastCheckpointSeq: () => this.lastCheckpointSeq,
        onConfirmed: (seq) => this.confirmed(seq),
        log: this.log,
      });
    }
    if (this.sink) {
      // Lag after a restart counts from the oldest record PostgreSQL has not confirmed, not from now.
      const confirmed = this.sink.status().confirmedSeq;
      if (confirmed < this.durableSeq) {
        const cur = this.spool.cursor(confirmed + 1);
        try {
          const [oldest] = await cur.next(1, this.durableSeq);
          const at = oldest ? Date.parse(oldest.record.time) : NaN;
          this.durableTimes.push({ seq: this.durableSeq, at: Number.isNaN(at) ? Date.now() : at });
        } finally {
          await cur.close();
        }
      }
    }
    if (this.headSeq < 0) this.appendKind('genesis', { details: { format: 'lacuna-fs/audit/v1', key_id: this.keyId, public_key: this.publicKeyPem } });
    if (opened.recovery || cps.tornBytes) this.appendRecovery(opened.recovery, cps.tornBytes);
    await this.flush();
    this.sink?.start();
    this.cpTimer = setInterval(() => this.kick(), Math.max(50, (this.seconds * 1000) / 4));
    this.cpTimer.unref();
  }

  private resolveChainId(fresh: boolean): void {
    const file = join(this.auditDir, CHAIN_FILE);
    const stored = readJsonIfExists<ChainFile>(file);
    if (stored) {
      if (this.opts.chainId && this.opts.chainId !== stored.chain_id) {
        throw new AuditUnavailableError(`state dir ${this.opts.stateDir} holds chain ${stored.chain_id}, not ${this.opts.chainId}`);
      }
      this.chainId = stored.chain_id;
      return;
    }
    if (!fresh) throw new AuditUnavailableError(`${file} is missing but the spool holds records: restore it rather than start a new chain over them`);
    // A random suffix keeps a wiped state dir from reusing a chain id PostgreSQL already holds.
    this.chainId = this.opts.chainId ?? `${this.host}-${randomBytes(4).toString('hex')}`;
    const cf: ChainFile = { chain_id: this.chainId, host: this.host, created: new Date().toISOString(), format: 'lacuna-fs/audit/v1' };
    writeFileAtomic(file, JSON.stringify(cf, null, 2) + '\n', this.auditDir);
  }

  /** Resume the Merkle frontier from the last checkpoint (or genesis) by replaying the spool after it. */
  private async rebuildFrontier(last: StoredCheckpoint | undefined): Promise<void> {
    let from = 0;
    if (last?.frontier) {
      this.frontier = MerkleFrontier.fromHex(last.tree_size, last.frontier);
      from = last.seq + 1;
    }
    if (this.durableSeq < 0) return;
    const cur = this.spool.cursor(Math.max(0, from - 1));
    try {
      for (;;) {
        const lines = await cur.next(10000, this.durableSeq);
        if (lines.length === 0) break;
        for (const l of lines) {
          if (last && l.seq === last.seq && l.record.hash !== last.hash) {
            throw new AuditUnavailableError(`record ${l.seq} in the spool does not match its signed checkpoint (hash_mismatch); refusing to append`);
          }
          if (l.seq < this.frontier.size) continue;
          if (l.seq !== this.frontier.size) throw new AuditUnavailableError(`spool is not contiguous at seq ${l.seq} (expected ${this.frontier.size}); run \`lacuna-fs audit verify\``);
          this.frontier.push(l.record.hash);
        }
      }
    } catch (err) {
      if (err instanceof AuditUnavailableError) throw err;
      throw new AuditUnavailableError(`cannot replay the spool to resume the Merkle tree: ${(err as Error).message}`, err);
    } finally {
      await cur.close();
    }
    if (this.frontier.size !== this.durableSeq + 1) {
      throw new AuditUnavailableError(`spool replay reached seq ${this.frontier.size - 1}, head is ${this.durableSeq}`);
    }
  }

  private appendRecovery(r: Recovery | undefined, checkpointTornBytes: number): void {
    this.appendKind('audit_recovered', {
      reasoning: 'the previous process stopped during a write; its torn, never-acknowledged tail was cut off and kept in quarantine',
      details: { spool: r ?? null, checkpoints_torn_bytes: checkpointTornBytes, resumed_after_seq: this.durableSeq },
    });
    this.log.warn({ recovery: r, checkpointTornBytes }, 'audit spool recovered a torn tail');
  }

  private appendKind(kind: AuditKind, rest: Omit<AuditEvent, 'kind'>): AuditReceipt {
    return this.push(encodeRecord({ ...rest, kind }, { chainId: this.chainId, host: this.host, seq: this.headSeq + 1, prevHash: this.headHash }));
  }

  append(e: AuditEvent): AuditReceipt {
    if (this.closed) throw new AuditUnavailableError('audit log is closed');
    if (!this.healthy) throw new AuditUnavailableError(`audit spool unwritable: ${this.lastError}`);
    if ((e.kind as string) === 'genesis' || (e.kind as string) === 'audit_recovered') throw new AuditUnavailableError(`kind ${e.kind} is written by the chain itself`);
    return this.push(encodeRecord(e, { chainId: this.chainId, host: this.host, seq: this.headSeq + 1, prevHash: this.headHash }));
  }

  /** Queue the record (the batch buffer computes its hash from the bytes it stores). */
  private push(r: UnsealedRecord): AuditReceipt {
    const seq = this.headSeq + 1;
    const hash = this.pending.add(seq, r.head, r.tail);
    this.headSeq = seq;
    this.headHash = hash;
    this.schedule();
    return { seq, hash };
  }

  private schedule(): void {
    if (this.scheduled || this.committing || this.retryTimer) return;
    const run = () => {
      this.scheduled = null;
      void this.commitLoop();
    };
    this.scheduled = this.groupMs > 0 ? setTimeout(run, this.groupMs) : setImmediate(run);
  }

  /** Timer tick: a due time-based checkpoint runs through the commit loop so file writes never interleave. */
  private kick(): void {
    if (!this.closed && this.durableSeq > this.lastCheckpointSeq && Date.now() - this.lastCheckpointAt >= this.seconds * 1000) this.schedule();
  }

  private async commitLoop(): Promise<void> {
    if (this.committing) return;
    this.committing = true;
    try {
      while (this.pending.count > 0) {
        const batch = this.pending.take();
        try {
          await this.spool.write(batch.data(), batch.firstSeq);
        } catch (err) {
          this.pending.restore(batch);
          this.fail(err as Error);
          return;
        }
        this.frontier.pushAll(batch.hashes);
        this.durableSeq = batch.firstSeq + batch.count - 1;
        this.durableHash = batch.hashes[batch.count - 1]!;
        this.pending.recycle(batch);
        if (this.sink) this.durableTimes.push({ seq: this.durableSeq, at: Date.now() });
        if (!this.healthy) this.log.info({ seq: this.durableSeq }, 'audit spool writable again');
        this.healthy = true;
        this.lastError = undefined;
        this.settleWaiters();
        this.sink?.notify();
        if (this.durableSeq - this.lastCheckpointSeq >= this.every) await this.writeCheckpoint();
      }
      if (this.durableSeq > this.lastCheckpointSeq && Date.now() - this.lastCheckpointAt >= this.seconds * 1000) await this.writeCheckpoint();
    } catch (err) {
      this.fail(err as Error);
    } finally {
      this.committing = false;
    }
    if (this.pending.count > 0 && this.healthy) this.schedule();
  }

  private fail(err: Error): void {
    const first = this.healthy;
    this.healthy = false;
    const code = (err as NodeJS.ErrnoException).code ?? err.name;
    this.lastError = err.message.startsWith(code) ? err.message : `${code}: ${err.message}`;
    if (first) this.log.error({ err: this.lastError, durableSeq: this.durableSeq }, 'audit spool cannot be written: failing closed');
    const failure = new AuditUnavailableError(`audit spool unwritable: ${this.lastError}`, err);
    for (const w of this.waiters.splice(0)) w.reject(failure);
    if (!this.retryTimer && !this.closed) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        void this.commitLoop();
      }, this.retryMs);
      this.retryTimer.unref();
    }
  }

  private settleWaiters(): void {
    if (this.waiters.length === 0) return;
    const keep: typeof this.waiters = [];
    for (const w of this.waiters) (w.seq <= this.durableSeq ? w.resolve() : keep.push(w));
    this.waiters = keep;
  }

  private async writeCheckpoint(): Promise<void> {
    if (this.durableSeq <= this.lastCheckpointSeq) return;
    const c = signCheckpoint(
      { chain_id: this.chainId, host: this.host, seq: this.durableSeq, hash: this.durableHash, time: new Date().toISOString(), tree_size: this.frontier.size, root: this.frontier.root() },
      this.key,
    );
    const stored: StoredCheckpoint = { ...c, frontier: this.frontier.toHex() };
    // Off the event loop (an fsync can take milliseconds the FUSE ops should not wait for); the
    // commit loop serialises checkpoint writes, and O_APPEND keeps each line whole.
    await writeAsync(this.cpFd, checkpointLine(stored) + '\n');
    await fdatasyncAsync(this.cpFd);
    this.lastCheckpointSeq = c.seq;
    this.lastCheckpointAt = Date.now();
    this.checkpointCount++;
    this.sink?.notify();
  }

  durable(seq: number): Promise<void> {
    if (seq <= this.durableSeq) return Promise.resolve();
    if (!this.healthy) return Promise.reject(new AuditUnavailableError(`audit spool unwritable: ${this.lastError}`));
    return new Promise((resolve, reject) => this.waiters.push({ seq, resolve, reject }));
  }

  flush(): Promise<void> {
    return this.durable(this.headSeq);
  }

  async checkpoint(): Promise<void> {
    await this.flush();
    while (this.committing) await new Promise((r) => setTimeout(r, 1));
    this.committing = true;
    try {
      await this.writeCheckpoint();
    } finally {
      this.committing = false;
    }
  }

  head(): { seq: number; hash: string } {
    return { seq: this.headSeq, hash: this.headHash };
  }

  private confirmed(seq: number): void {
    while (this.durableTimes.length && this.durableTimes[0]!.seq <= seq) this.durableTimes.shift();
    this.persistConfirmed(seq);
    if (this.opts.trim !== false) {
      const n = this.spool.trimThrough(Math.min(seq, this.lastCheckpointSeq));
      if (n) this.log.info({ segments: n, through: seq }, 'audit spool trimmed after PostgreSQL confirmed');
    }
  }

  private persisting = false;
  private persistNext: number | null = null;

  /** sink.json off the event loop; only the newest value matters, so writes coalesce. */
  private persistConfirmed(seq: number): void {
    if (this.persisting) {
      this.persistNext = seq;
      return;
    }
    this.persisting = true;
    void writeFileAtomicAsync(join(this.auditDir, SINK_FILE), JSON.stringify({ chain_id: this.chainId, confirmedSeq: seq }) + '\n', this.auditDir)
      .catch((err: Error) => this.log.warn({ err: err.message }, 'audit sink: cannot save sink.json (only costs a re-send after restart)'))
      .finally(() => {
        this.persisting = false;
        const next = this.persistNext;
        this.persistNext = null;
        if (next !== null && !this.closed) this.persistConfirmed(next);
      });
  }

  stats(): AuditStats {
    const s = this.sink?.status();
    const confirmed = s?.confirmedSeq ?? this.headSeq;
    const backlog = this.sink ? this.headSeq - confirmed : 0;
    const oldest = this.durableTimes[0];
    const lastError = this.lastError ?? s?.lastError;
    return {
      chainId: this.chainId,
      headSeq: this.headSeq,
      headHash: this.headHash,
      durableSeq: this.durableSeq,
      spoolBytes: this.spool.bytes(),
      backlog,
      postgres: s ? s.state : 'disabled',
      lagSeconds: backlog > 0 && oldest ? (Date.now() - oldest.at) / 1000 : 0,
      ...(lastError !== undefined ? { lastError } : {}),
      healthy: this.healthy,
      checkpoints: this.checkpointCount,
      lastCheckpointSeq: this.lastCheckpointSeq,
    };
  }

  /** Release whatever a failed start() acquired. */
  async abort(): Promise<void> {
    this.closed = true;
    if (this.cpTimer) clearInterval(this.cpTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.scheduled) clearTimeout(this.scheduled as NodeJS.Timeout);
    await this.sink?.stop(0).catch(() => {});
    if (this.cpFd >= 0) closeSync(this.cpFd);
    this.cpFd = -1;
    this.spool?.close();
    this.releaseLock();
  }

  async close(opts: { drainMs?: number } = {}): Promise<void> {
    if (this.closed) return;
    try {
      if (this.healthy) {
        await this.flush();
        await this.checkpoint();
      }
    } finally {
      this.closed = true;
      if (this.cpTimer) clearInterval(this.cpTimer);
      if (this.retryTimer) clearTimeout(this.retryTimer);
      if (this.sink) {
        await this.sink.stop(opts.drainMs ?? 2000);
        while (this.persisting) await new Promise((r) => setTimeout(r, 2));
        const confirmed = this.sink.status().confirmedSeq;
        if (confirmed >= 0) writeFileAtomic(join(this.auditDir, SINK_FILE), JSON.stringify({ chain_id: this.chainId, confirmedSeq: confirmed }) + '\n', this.auditDir);
      }
      if (this.cpFd >= 0) closeSync(this.cpFd);
      this.cpFd = -1;
      this.spool.close();
      this.releaseLock();
    }
  }
}

function hasPostgres(o: OpenAuditOptions): boolean {
  return typeof o.postgres === 'string' && o.postgres.length > 0;
}
