// The background PostgreSQL sink: reads durable records from the spool (never from memory, so a
// backlog survives restarts and costs no RAM), inserts them in batches idempotently by
// (chain_id, seq), checks that any row already present is byte-identical, ships checkpoints that
// cover confirmed records, and retries with capped exponential backoff while PostgreSQL is down.
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { deriveColumns } from './columns.js';
import { migrate } from './schema.js';
import type { SpoolCursor, CursorLine } from './spool.js';
import type { StoredCheckpoint } from './checkpoint.js';
import { checkpointLine } from './checkpoint.js';

export interface SinkOptions {
  connectionString: string;
  chainId: string;
  host: string;
  publicKeyPem: string;
  keyId: string;
  /** Highest seq PostgreSQL is known to hold (from sink.json), -1 if unknown. */
  confirmedSeq: number;
  /** Read access to the spool (the writer's Spool, or a directory view inside the sink worker). */
  spool: { cursor(from: number): SpoolCursor; firstSeq(): number };
  checkpointsFile: string;
  batch: number;
  durableSeq: () => number;
  /** Seq of the newest local checkpoint: stop() waits for it to be shipped too. */
  lastCheckpointSeq: () => number;
  onConfirmed: (seq: number) => void;
  /** Every change of state, confirmed seq or error (the worker forwards these to the main thread). */
  onStatus?: (s: SinkStatus) => void;
  log: { info(o: object, m: string): void; warn(o: object, m: string): void; error(o: object, m: string): void };
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export interface SinkStatus {
  state: 'connected' | 'down';
  confirmedSeq: number;
  lastError?: string;
}

/** A row PostgreSQL already holds differs from the spool: forged, or a chain id reused. Never overwritten. */
export class SinkConflictError extends Error {
  readonly code = 'sink_conflict';
  constructor(readonly seq: number, what: string) {
    super(`PostgreSQL already holds a different ${what} at seq ${seq} of this chain; refusing to continue shipping`);
  }
}

// A batch travels by COPY (no per-row parameters to serialise, and PostgreSQL parses COPY text
// much faster than 19 array parameters). Normally straight into audit_records: nothing past the
// confirmed seq is there yet, and the primary key refuses the batch if anything is. When it does
// (a replay after a crash, or a confirmation lost with the connection), the batch goes the
// idempotent way instead: COPY into a per-connection temporary table, then INSERT … ON CONFLICT
// DO NOTHING, and rows that were already there are compared byte for byte.
// The same columns as the direct COPY, chain_id first, so both take the same text.
const STAGING_COLUMNS = `chain_id text, seq bigint, hash text, prev_hash text, record text, kind text, t text, host text, usr text, uid bigint,
  pid bigint, program text, action text, decision text, tier text, tags text[], policy_id text, bundle_hash text,
  paths text[], zones text[]`;
const CREATE_STAGING = `CREATE TEMPORARY TABLE IF NOT EXISTS audit_ingest (${STAGING_COLUMNS}) ON COMMIT DELETE ROWS`;
const COPY_STAGING = 'COPY audit_ingest FROM STDIN';
const COPY_DIRECT = `COPY audit_records (chain_id, seq, hash, prev_hash, record, kind, "time", host, "user", uid, pid,
  program, action, decision, tier, tags, policy_id, bundle_hash, paths, zones) FROM STDIN`;
/** SQLSTATE unique_violation: the direct COPY met a row that is already stored. */
const UNIQUE_VIOLATION = '23505';
const INSERT_RECORDS = `
INSERT INTO audit_records (chain_id, seq, hash, prev_hash, record, kind, "time", host, "user", uid, pid,
  program, action, decision, tier, tags, policy_id, bundle_hash, paths, zones)
SELECT $1, u.seq, u.hash, u.prev_hash, u.record, u.kind, u.t, u.host, u.usr, u.uid, u.pid,
  u.program, u.action, u.decision, u.tier, u.tags, u.policy_id, u.bundle_hash, u.paths, u.zones
FROM audit_ingest u
ORDER BY u.seq
ON CONFLICT (chain_id, seq) DO NOTHING
RETURNING seq`;

/** One value in COPY text format: \N for NULL; backslash, tab, newline and CR escaped. */
export function copyField(v: string | number | null): string {
  if (v === null) return '\\N';
  if (typeof v === 'number') return String(v);
  return /[\\\t\n\r]/.test(v) ? v.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r')) : v;
}

async function copyText(c: pg.Client, sql: string, text: string): Promise<void> {
  await pipeline(Readable.from([Buffer.from(text, 'utf8')]), c.query(copyFrom(sql)));
}

/**
 * A PostgreSQL array literal of strings. Ragged per-row arrays cannot travel as one 2-D array
 * parameter, so each row's array goes as text and is cast with ::text[] (every element quoted,
 * backslash and quote escaped, so no element can read as NULL or split).
 */
export function arrayLiteral(a: string[]): string {
  return `{${a.map((x) => `"${x.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(',')}}`;
}

/** One connection to PostgreSQL, and whether it has created its audit_ingest temporary table. */
interface Connection {
  client: pg.Client;
  staged: boolean;
}

/** A batch read from the spool with its rows as COPY text. */
interface PreparedBatch {
  lines: CursorLine[];
  text: string;
}

export class PostgresSink {
  /**
   * Two connections, so that one batch's COPY (and the WAL flush of its commit) overlaps the
   * next one's: the first also migrates, registers the chain and ships checkpoints. Batches are
   * confirmed strictly in seq order, whichever commits first.
   */
  private conns: Connection[] = [];
  private state: 'connected' | 'down' = 'down';
  private lastError: string | undefined;
  private confirmedSeq: number;
  private cursor: SpoolCursor | null = null;
  /** The next batch, read while the previous INSERT runs; dropped with the cursor on errors. */
  private prefetch: Promise<PreparedBatch> | null = null;
  private shippedCheckpointSeq = -1;
  private cpOffset = 0;
  private unshipped: StoredCheckpoint[] = [];
  private wake: (() => void) | null = null;
  private stopping = false;
  private loop: Promise<void> | null = null;
  private backoff: number;
  private lastPersist = 0;

  constructor(private readonly o: SinkOptions) {
    this.confirmedSeq = o.confirmedSeq;
    this.backoff = o.minBackoffMs ?? 100;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** New durable records or a new checkpoint: wake the loop. */
  notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  status(): SinkStatus {
    return { state: this.state, confirmedSeq: this.confirmedSeq, ...(this.lastError !== undefined ? { lastError: this.lastError } : {}) };
  }

  /** Let the sink catch up for at most drainMs, then stop it; whatever is left stays in the spool. */
  async stop(drainMs: number): Promise<void> {
    const until = Date.now() + drainMs;
    while (
      (this.confirmedSeq < this.o.durableSeq() || this.shippedCheckpointSeq < this.o.lastCheckpointSeq()) &&
      Date.now() < until
    ) {
      await new Promise((r) => setTimeout(r, 10));
    }
    this.stopping = true;
    this.notify();
    await this.loop;
    await this.prefetch?.catch(() => {});
    await this.cursor?.close();
    const conns = this.conns;
    this.conns = [];
    await Promise.all(conns.map((c) => c.client.end().catch(() => {})));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.connect();
        if (this.confirmedSeq < this.o.durableSeq()) {
          const cursor = (this.cursor ??= this.o.spool.cursor(this.confirmedSeq + 1));
          const first = this.prefetch ? await this.prefetch : await this.prepare(cursor);
          this.prefetch = null;
          if (first.lines.length > 0) {
            // Up to one batch per connection in flight; the next one is read, parsed and encoded
            // while PostgreSQL stores them.
            const flight = [{ batch: first, done: this.insert(first, this.conns[0]!) }];
            const more = () => flight[flight.length - 1]!.batch.lines.at(-1)!.seq < this.o.durableSeq();
            let readError: unknown;
            if (this.conns.length > 1 && more()) {
              try {
                const second = await this.prepare(cursor);
                if (second.lines.length > 0) flight.push({ batch: second, done: this.insert(second, this.conns[1]!) });
              } catch (err) {
                readError = err;
              }
            }
            if (readError === undefined && more()) {
              this.prefetch = this.prepare(cursor);
              this.prefetch.catch(() => {}); // its error, if any, surfaces when awaited
            }
            // Every batch settles before anything is thrown, so a failed one never leaves another
            // running on a connection about to be dropped; one that committed after a failed
            // one is simply found again, and compared, on the replay.
            const settled = await Promise.allSettled(flight.map((f) => f.done));
            for (const [i, r] of settled.entries()) {
              if (r.status === 'rejected') throw r.reason;
              this.confirm(flight[i]!.batch.lines.at(-1)!.seq);
            }
            if (readError !== undefined) throw readError;
          }
        }
        await this.shipCheckpoints();
        this.backoff = this.o.minBackoffMs ?? 100;
        if (this.confirmedSeq >= this.o.durableSeq() && this.shippedCheckpointSeq >= this.o.lastCheckpointSeq() && !this.stopping) await this.sleep(1000);
      } catch (err) {
        const msg = `${(err as NodeJS.ErrnoException).code ?? (err as Error).name}: ${(err as Error).message}`;
        if (this.state === 'connected' || msg !== this.lastError) this.o.log.warn({ err: msg, confirmedSeq: this.confirmedSeq }, 'audit sink: PostgreSQL unavailable, records stay in the spool');
        this.state = 'down';
        this.lastError = msg;
        this.o.onStatus?.(this.status());
        await this.dropConnection();
        if (this.stopping) break;
        // A conflict will not heal by retrying quickly; keep probing slowly so status shows it.
        const wait = err instanceof SinkConflictError ? 30000 : this.backoff;
        this.backoff = Math.min(this.backoff * 2, this.o.maxBackoffMs ?? 2000);
        await this.sleep(wait);
      }
    }
  }

  private async dropConnection(): Promise<void> {
    const conns = this.conns;
    this.conns = [];
    await this.prefetch?.catch(() => {});
    this.prefetch = null;
    await this.cursor?.close().catch(() => {});
    this.cursor = null; // re-read from confirmedSeq + 1 after reconnecting
    await Promise.all(conns.map((c) => c.client.end().catch(() => {})));
  }

  private newClient(): pg.Client {
    const c = new pg.Client({ connectionString: this.o.connectionString, connectionTimeoutMillis: 3000, query_timeout: 30000, application_name: 'lacuna-fs audit sink' });
    c.on('error', () => {
      // The next query fails and run() reconnects; without a listener the error would crash the daemon.
      this.state = 'down';
    });
    return c;
  }

  private async connect(): Promise<void> {
    if (this.conns.length > 0) return;
    const c = this.newClient();
    const extra = this.newClient();
    try {
      await c.connect();
      await migrate(c);
      await c.query(
        `INSERT INTO audit_chains (chain_id, host, key_id, public_key) VALUES ($1, $2, $3, $4) ON CONFLICT (chain_id) DO NOTHING`,
        [this.o.chainId, this.o.host, this.o.keyId, this.o.publicKeyPem],
      );
      const { rows } = await c.query<{ max: string | null }>('SELECT max(seq)::text AS max FROM audit_records WHERE chain_id = $1', [this.o.chainId]);
      // Rows past our confirmed seq (a crash before sink.json was written) are re-sent and compared, not skipped.
      if (rows[0]?.max === null && this.confirmedSeq >= 0) {
        this.o.log.warn({ confirmedSeq: this.confirmedSeq }, 'audit sink: PostgreSQL holds none of this chain; re-sending from the spool');
        this.confirmedSeq = Math.min(this.confirmedSeq, this.o.spool.firstSeq() - 1);
      }
      await extra.connect();
    } catch (err) {
      await c.end().catch(() => {});
      await extra.end().catch(() => {});
      throw err;
    }
    this.conns = [
      { client: c, staged: false },
      { client: extra, staged: false },
    ];
    this.state = 'connected';
    this.lastError = undefined;
    this.o.onStatus?.(this.status());
  }

  /** The next batch from the spool and its COPY text. */
  private async prepare(cursor: SpoolCursor): Promise<PreparedBatch> {
    const lines = await cursor.next(this.o.batch, this.o.durableSeq());
    const chainField = copyField(this.o.chainId);
    let text = '';
    for (let n = 0; n < lines.length; n++) {
      const l = lines[n]!;
      if (n % 512 === 511) await new Promise((r) => setImmediate(r)); // keep the event loop responsive
      const d = deriveColumns(l.record);
      const row = [l.seq, l.record.hash, l.record.prev_hash, l.line, d.kind, d.time, d.host, d.user, d.uid, d.pid, d.program, d.action,
        d.decision, d.tier, d.tags && arrayLiteral(d.tags), d.policy_id, d.bundle_hash, d.paths && arrayLiteral(d.paths), d.zones && arrayLiteral(d.zones)];
      text += chainField;
      for (let i = 0; i < row.length; i++) text += '\t' + copyField(row[i] as string | number | null);
      text += '\n';
    }
    return { lines, text };
  }

  private async insert({ lines, text }: PreparedBatch, conn: Connection): Promise<void> {
    // One COPY is one statement, so it is atomic without a transaction around it: on a
    // conflict nothing of the batch was stored.
    try {
      await copyText(conn.client, COPY_DIRECT, text);
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== UNIQUE_VIOLATION) throw err;
    }
    await this.insertIdempotent(lines, text, conn);
  }

  /** The replay path, on the batch's own connection: staging table, INSERT … ON CONFLICT DO NOTHING, stored rows compared. */
  private async insertIdempotent(lines: CursorLine[], text: string, conn: Connection): Promise<void> {
    const c = conn.client;
    let rows: { seq: string }[];
    await c.query('BEGIN');
    try {
      if (!conn.staged) await c.query(CREATE_STAGING);
      await copyText(c, COPY_STAGING, text);
      ({ rows } = await c.query<{ seq: string }>(INSERT_RECORDS, [this.o.chainId]));
      await c.query('COMMIT');
      conn.staged = true; // created in a committed transaction: it lasts as long as the connection
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw err;
    }
    if (rows.length === lines.length) return;
    // Some rows were there already (a replay after a crash): they must be byte-identical.
    const inserted = new Set(rows.map((r) => Number(r.seq)));
    const existing = lines.filter((l) => !inserted.has(l.seq));
    const { rows: have } = await c.query<{ seq: string; record: string }>(
      'SELECT seq::text, record FROM audit_records WHERE chain_id = $1 AND seq = ANY($2::bigint[])',
      [this.o.chainId, existing.map((l) => l.seq)],
    );
    const bySeq = new Map(have.map((r) => [Number(r.seq), r.record]));
    for (const l of existing) {
      if (bySeq.get(l.seq) !== l.line) throw new SinkConflictError(l.seq, 'record');
    }
  }

  private async shipCheckpoints(): Promise<void> {
    // Only checkpoints whose records PostgreSQL holds: otherwise a PostgreSQL verify during a
    // backlog would see a checkpoint past its last row and report a truncated tail.
    this.readNewCheckpoints();
    const todo = this.unshipped.filter((c) => c.seq > this.shippedCheckpointSeq && c.seq <= this.confirmedSeq && c.chain_id === this.o.chainId);
    if (todo.length === 0) return;
    const c = this.conns[0]!.client;
    for (const k of todo) {
      const { frontier: _f, ...signed } = k as StoredCheckpoint;
      const text = checkpointLine(signed);
      const r = await c.query(
        `INSERT INTO audit_checkpoints (chain_id, seq, hash, "time", tree_size, root, key_id, sig, checkpoint)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (chain_id, seq) DO NOTHING`,
        [k.chain_id, k.seq, k.hash, k.time, k.tree_size, k.root, k.key_id, k.sig, text],
      );
      if (r.rowCount === 0) {
        const { rows } = await c.query<{ checkpoint: string }>('SELECT checkpoint FROM audit_checkpoints WHERE chain_id = $1 AND seq = $2', [k.chain_id, k.seq]);
        if (rows[0]?.checkpoint !== text) throw new SinkConflictError(k.seq, 'checkpoint');
      }
      this.shippedCheckpointSeq = k.seq;
    }
    this.unshipped = this.unshipped.filter((c) => c.seq > this.shippedCheckpointSeq);
  }

  /** Parse only what was appended to the checkpoints file since the last call (it grows for ever). */
  private readNewCheckpoints(): void {
    let fd: number;
    try {
      fd = openSync(this.o.checkpointsFile, 'r');
    } catch {
      return;
    }
    try {
      const size = fstatSync(fd).size;
      if (size <= this.cpOffset) return;
      const buf = Buffer.alloc(size - this.cpOffset);
      readSync(fd, buf, 0, buf.length, this.cpOffset);
      const end = buf.lastIndexOf(0x0a) + 1; // a line still being written is read next time
      for (const line of buf.subarray(0, end).toString('utf8').split('\n')) {
        if (!line) continue;
        try {
          const c = JSON.parse(line) as StoredCheckpoint;
          if (c?.type === 'checkpoint' && Number.isSafeInteger(c.seq)) this.unshipped.push(c);
        } catch {
          /* verify reports unreadable checkpoint lines; the sink ships what it can read */
        }
      }
      this.cpOffset += end;
    } finally {
      closeSync(fd);
    }
  }

  private confirm(seq: number): void {
    this.confirmedSeq = seq;
    this.o.onStatus?.(this.status());
    const now = Date.now();
    // sink.json only saves re-sending after a restart (inserts are idempotent): persist it at most 5×/s.
    if (now - this.lastPersist >= 200 || seq >= this.o.durableSeq()) {
      this.lastPersist = now;
      this.o.onConfirmed(seq);
    }
  }
}
