// LMDB behind a write-back overlay. Hot-path mutations land in an in-memory map and
// are committed in one transaction per batch, off the hot path; reads consult the
// overlay first, so callers see their own writes before the commit. One batch = one
// LMDB transaction, so a kill -9 leaves the store at a batch boundary, never inside one.
// A failed commit (a full disk) keeps its batch in the overlay and is retried with
// backoff; while commits fail the overlay is bounded, the oldest writes dropped and counted.

import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import { DB_NAMES, keyId, inRange, type DbName, type Key, type Range } from './keys.js';

/** The environment file inside the lineage directory (lmdb-js adds `-lock` beside it). */
export const DATA_FILE = 'lineage.mdb';
const DELETE = Symbol('delete');
const STRUCTURES = Symbol.for('structures');
const OBJECT_DBS = new Set<DbName>(['nodes', 'edgesIn', 'events', 'runs', 'procs', 'fpNodes']);
type Entry = { key: Key; value: unknown };

/**
 * What goes first when the overlay outgrows its bound while commits fail: the event
 * log and run records (history), fingerprints (rebuilt by the next scan), persisted
 * taint, then the graph itself. `meta` (id counters) is never dropped: reusing a node
 * id would merge two files' lineage.
 */
const DROP_ORDER: readonly DbName[] = ['events', 'runEnds', 'runs', 'fp', 'fpNodes', 'procs', 'edgesOut', 'edgesIn', 'inodes', 'paths', 'nodes'];
/** Default bound on unsaved writes while commits fail (about 100 MiB of overlay at worst). */
export const MAX_PENDING_WRITES = 250_000;
/** Retry delays after a failed commit: doubling from the first to the last. */
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 5_000;

/** Commit health, for stats(): a failing disk shows here instead of killing the daemon. */
export interface KvHealth {
  healthy: boolean;
  lastError?: string;
  lastErrorAt?: number;
  /** Commits that failed since the store was opened. */
  failedCommits: number;
  /** Writes dropped (never to be committed) to keep the overlay bounded while commits fail. */
  droppedWrites: number;
}

/**
 * Unsaved writes of one database, also indexed by the first element of array keys so a
 * prefix range (a node's edges) touches only its own entries, not the whole batch.
 */
class Pending {
  readonly all = new Map<string, Entry>();
  readonly byFirst = new Map<string | number, Map<string, Entry>>();

  get size(): number {
    return this.all.size;
  }

  get(id: string): Entry | undefined {
    return this.all.get(id);
  }

  delete(id: string): void {
    const e = this.all.get(id);
    if (e === undefined) return;
    this.all.delete(id);
    if (Array.isArray(e.key)) {
      const m = this.byFirst.get(e.key[0]!);
      m?.delete(id);
      if (m?.size === 0) this.byFirst.delete(e.key[0]!);
    }
  }

  set(id: string, e: Entry): void {
    this.all.set(id, e);
    if (Array.isArray(e.key)) {
      const first = e.key[0]!;
      let m = this.byFirst.get(first);
      if (m === undefined) this.byFirst.set(first, (m = new Map()));
      m.set(id, e);
    }
  }

  /** Entries that may fall in the range (a superset; callers still check bounds). */
  candidates(range: Range): Iterable<[string, Entry]> {
    if (range.prefix !== undefined) return this.byFirst.get(range.prefix) ?? [];
    return this.all;
  }
}

export interface KvOptions {
  readOnly?: boolean;
  /** Called once the environment is closed (releases the writer lock). */
  onClose?: () => void;
  /** Bound on unsaved writes kept while commits fail (default MAX_PENDING_WRITES). */
  maxPendingWrites?: number;
}

export class Kv {
  private readonly root: RootDatabase;
  private readonly dbs: Record<DbName, Database>;
  /** Writes not yet handed to LMDB, per database. Owned by the event loop thread. */
  private pending = newPending();
  /** Writes handed to the transaction in progress; still visible until it commits. */
  private inflight: Record<DbName, Pending> | undefined;
  private commitChain: Promise<void> = Promise.resolve();
  private pendingCount = 0;
  private readonly maxPending: number;
  private readonly health: KvHealth = { healthy: true, failedCommits: 0, droppedWrites: 0 };
  /** Consecutive failed commits, and when the next background attempt is due. */
  private failures = 0;
  private retryAt = 0;
  readonly dir: string;
  readonly readOnly: boolean;
  private readonly onClose: (() => void) | undefined;

  constructor(dir: string, opts: KvOptions = {}) {
    this.dir = dir;
    this.onClose = opts.onClose;
    this.readOnly = opts.readOnly === true;
    this.maxPending = opts.maxPendingWrites ?? MAX_PENDING_WRITES;
    if (!this.readOnly) mkdirSync(dir, { recursive: true });
    this.root = open({
      path: join(dir, DATA_FILE),
      maxDbs: DB_NAMES.length + 2,
      readOnly: this.readOnly,
      // 64 GiB of address space, not of disk: LMDB grows the file as needed.
      mapSize: 64 * 1024 ** 3,
      // Every write here goes through transaction(). With event-turn batching on,
      // lmdb-js also opens a batch of its own per event turn whose promise nobody can
      // observe: when that commit fails (a full disk) it is an unhandled rejection,
      // which kills the daemon.
      eventTurnBatching: false,
    });
    const dbs = {} as Record<DbName, Database>;
    for (const name of DB_NAMES) {
      // Records of one database share their shape: storing the property names once
      // (msgpack shared structures) makes values smaller and decoding several times faster.
      dbs[name] = this.root.openDB(OBJECT_DBS.has(name) ? { name, sharedStructuresKey: STRUCTURES } : { name });
    }
    this.dbs = dbs;
  }

  get(db: DbName, key: Key): unknown {
    const id = keyId(key);
    const p = this.pending[db].get(id) ?? this.inflight?.[db].get(id);
    if (p !== undefined) return p.value === DELETE ? undefined : p.value;
    return this.dbs[db].get(key);
  }

  /**
   * Queues a write. Precondition: `value` is not mutated afterwards (it may be serialised
   * any time until its batch commits); write a new object to change it.
   */
  put(db: DbName, key: Key, value: unknown): void {
    if (this.readOnly) throw new Error('lineage store is open read-only');
    const map = this.pending[db];
    const id = keyId(key);
    if (map.get(id) === undefined) this.pendingCount++;
    map.set(id, { key, value });
    if (this.pendingCount > this.maxPending && !this.health.healthy) this.trim();
  }

  /**
   * Drops unsaved writes down to 90% of the bound (so the cost is paid once per many
   * puts): least important databases first (DROP_ORDER), oldest first within each.
   * Only while commits fail; a healthy overlay drains every batch.
   */
  private trim(): void {
    const target = Math.floor(this.maxPending * 0.9);
    for (const name of DROP_ORDER) {
      const p = this.pending[name];
      for (const id of p.all.keys()) {
        if (this.pendingCount <= target) return;
        p.delete(id);
        this.pendingCount--;
        this.health.droppedWrites++;
      }
    }
  }

  /** Whether commits succeed, the last failure, and what was dropped while they did not. */
  get status(): KvHealth {
    return { ...this.health };
  }

  del(db: DbName, key: Key): void {
    this.put(db, key, DELETE);
  }

  /** Entries in a range, the overlay winning over LMDB; LMDB order, then unsaved keys. */
  *range(db: DbName, range: Range): Iterable<{ key: Key; value: unknown }> {
    const overlay = new Map<string, Entry>();
    for (const layer of [this.inflight?.[db], this.pending[db]]) {
      if (layer === undefined || layer.size === 0) continue;
      for (const [id, e] of layer.candidates(range)) if (inRange(e.key, range)) overlay.set(id, e);
    }
    const opts: { start?: Key; end?: Key } = {};
    if (range.start !== undefined) opts.start = range.start;
    if (range.end !== undefined) opts.end = range.end;
    for (const { key, value } of this.dbs[db].getRange(opts)) {
      if (typeof key === 'symbol') continue; // the shared-structures entry
      const k = key as Key;
      if (overlay.size > 0) {
        const id = keyId(k);
        const o = overlay.get(id);
        if (o !== undefined) {
          overlay.delete(id);
          if (o.value !== DELETE) yield o;
          continue;
        }
      }
      yield { key: k, value };
    }
    for (const o of overlay.values()) if (o.value !== DELETE) yield o;
  }

  /** Keys only (no value decoding) of a range, the overlay applied. */
  keys(db: DbName, range: Range): Key[] {
    const out: Key[] = [];
    const hasOverlay = (this.inflight?.[db].size ?? 0) > 0 || this.pending[db].size > 0;
    if (hasOverlay) {
      for (const { key } of this.range(db, range)) out.push(key);
      return out;
    }
    const opts: { start?: Key; end?: Key } = {};
    if (range.start !== undefined) opts.start = range.start;
    if (range.end !== undefined) opts.end = range.end;
    for (const key of this.dbs[db].getKeys(opts)) if (typeof key !== 'symbol') out.push(key as Key);
    return out;
  }

  /** Count of entries in a database as committed (used for stats; ignores the overlay). */
  count(db: DbName): number {
    const n = (this.dbs[db].getStats() as { entryCount?: number }).entryCount ?? 0;
    // The shared-structures entry lives in the same database; it is not a record.
    const structures = OBJECT_DBS.has(db) && this.dbs[db].doesExist(STRUCTURES as unknown as Key) ? 1 : 0;
    return Math.max(0, n - structures);
  }

  get pendingWrites(): number {
    return this.pendingCount + (this.inflight ? sizeOf(this.inflight) : 0);
  }

  /**
   * Commits everything pending in one transaction. Commits are serialised; the promise
   * resolves once this batch (and every earlier one) is durable, and rejects when it
   * failed (the batch stays pending; see status). `ifDue` (the batch timer) skips the
   * attempt while the backoff after a failure runs; a flush forces it.
   */
  commit(opts: { ifDue?: boolean } = {}): Promise<void> {
    // A failed commit must not stop the ones after it (its batch was put back).
    const next = this.commitChain.catch(() => undefined).then(() => (opts.ifDue && Date.now() < this.retryAt ? undefined : this.commitOnce()));
    this.commitChain = next;
    return next;
  }

  private async commitOnce(): Promise<void> {
    if (this.pendingCount === 0) {
      if (this.failures > 0) this.recovered();
      return;
    }
    const batch = this.pending;
    this.pending = newPending();
    this.pendingCount = 0;
    this.inflight = batch;
    try {
      const refused: unknown[] = [];
      await this.root.transaction(() => {
        for (const name of DB_NAMES) {
          const db = this.dbs[name];
          for (const { key, value } of batch[name].all.values()) {
            // A write LMDB cannot encode (a key over its size limit) would fail every
            // retry of the batch and take the rest of the lineage with it: skip it, count it.
            try {
              if (value === DELETE) db.removeSync(key);
              else db.putSync(key, value);
            } catch (e) {
              refused.push(e);
            }
          }
        }
      });
      if (refused.length > 0) {
        this.health.droppedWrites += refused.length;
        this.health.lastError = `${refused.length} write(s) refused by LMDB: ${errorText(refused[0])}`;
        this.health.lastErrorAt = Date.now();
      }
      this.recovered();
    } catch (e) {
      // Nothing of the batch was written (a transaction is all or nothing): put it back
      // under whatever was written since, so the next commit retries it. The batch goes
      // first, so the overlay stays oldest-first for trim().
      const merged = newPending();
      for (const name of DB_NAMES) {
        const now = this.pending[name];
        for (const [id, entry] of batch[name].all) if (now.get(id) === undefined) merged[name].set(id, entry);
        for (const [id, entry] of now.all) merged[name].set(id, entry);
      }
      this.pending = merged;
      this.pendingCount = sizeOf(merged);
      this.failed(e);
      if (this.pendingCount > this.maxPending) this.trim();
      throw e;
    } finally {
      this.inflight = undefined;
    }
  }

  private failed(e: unknown): void {
    // Encoding the batch may have minted new msgpack shared structures, saved inside
    // the transaction that just failed: the encoder believes they are stored, so later
    // records would name structures no reader can find. Make it reload the stored ones.
    for (const name of OBJECT_DBS) {
      const structures = (this.dbs[name] as unknown as { encoder?: { structures?: { uninitialized?: boolean } } }).encoder?.structures;
      if (structures !== undefined) structures.uninitialized = true;
    }
    this.failures++;
    this.health.failedCommits++;
    this.health.healthy = false;
    this.health.lastErrorAt = Date.now();
    this.health.lastError = errorText(e);
    this.retryAt = Date.now() + Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** (this.failures - 1));
    // lmdb-js rejects the transaction with a generic "Commit failed" and the cause
    // (ENOSPC, EIO …) on a second promise, commitError, which nothing else handles:
    // observe it here, or it is an unhandled rejection.
    const cause = (e as { commitError?: unknown } | undefined)?.commitError;
    if (cause instanceof Promise) {
      const at = this.health.lastErrorAt;
      cause.catch((c: unknown) => {
        if (this.health.lastErrorAt === at) this.health.lastError = `${errorText(e)}: ${errorText(c)}`;
      });
    }
  }

  private recovered(): void {
    this.failures = 0;
    this.retryAt = 0;
    this.health.healthy = true;
  }

  /** Bytes of the data file on disk. */
  fileBytes(): number {
    try {
      return statSync(join(this.dir, DATA_FILE)).size;
    } catch {
      return 0;
    }
  }

  async close(): Promise<void> {
    try {
      if (!this.readOnly) await this.commit();
    } finally {
      try {
        await this.root.close();
      } finally {
        this.onClose?.();
      }
    }
  }
}

function newPending(): Record<DbName, Pending> {
  const p = {} as Record<DbName, Pending>;
  for (const name of DB_NAMES) p[name] = new Pending();
  return p;
}

function errorText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const code = (e as { code?: unknown }).code;
  return code === undefined ? e.message : `${e.message} (code ${String(code)})`;
}

function sizeOf(p: Record<DbName, Pending>): number {
  let n = 0;
  for (const name of DB_NAMES) n += p[name].size;
  return n;
}
