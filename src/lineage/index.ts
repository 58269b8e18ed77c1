// Lineage: what each process read taints what it writes; copies are recognised by
// content; classification is inherited along the graph; everything persists in LMDB
// under <stateDir>/lineage. This file is the area's whole public surface.

import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as K from './keys.js';
import { DATA_FILE, Kv } from './kv.js';
import { checkStore, type CheckResult } from './check.js';
import { takeWriterLock } from './lock.js';
import { Lineage, LineageError } from './store.js';
import type { LineageStore, OpenOptions } from './types.js';

export type {
  CopyMatch,
  DerivationOp,
  DerivationOptions,
  ExportOptions,
  FileRef,
  ImpactEntry,
  InheritedClassification,
  LineageEdge,
  LineageGraph,
  LineageNode,
  LineageStats,
  LineageStore,
  OpenOptions,
  ProcessIdentity,
  ProcessMeta,
  Taint,
  TaintFile,
  WriteOp,
} from './types.js';
export { processIdentity, procStat, type ProcStat } from './proc.js';
export type { CheckResult } from './check.js';
export { LineageError, type LineageErrorCode } from './store.js';
export { MAX_GRAPH_NODES } from './query.js';
export { COPY_SIMILARITY, PARTIAL_SIMILARITY, MIN_SHARED_BYTES } from './copies.js';
export { DERIVED_PREFIX, AGGREGATE_CEILING } from './inherit.js';

/**
 * Opens (creating unless readOnly) the lineage store in `dir`. Several processes may
 * hold it open: one writer (the daemon) and any number of readOnly readers (the CLI).
 * Throws LineageError 'no_store' (readOnly and nothing there), 'locked' (another live
 * process is the writer) or 'schema_mismatch'.
 */
export async function openLineage(dir: string, opts: OpenOptions = {}): Promise<LineageStore> {
  if (opts.readOnly && !existsSync(join(dir, DATA_FILE))) {
    throw new LineageError('no_store', `no lineage store at ${dir}`);
  }
  let release: (() => void) | undefined;
  if (!opts.readOnly) {
    mkdirSync(dir, { recursive: true });
    const lock = takeWriterLock(dir);
    if ('heldBy' in lock) throw new LineageError('locked', `lineage store ${dir} is open for writing by process ${lock.heldBy}`);
    release = lock.release;
  }
  let kv: Kv;
  try {
    kv = new Kv(dir, { readOnly: opts.readOnly, onClose: release, maxPendingWrites: opts.maxPendingWrites });
  } catch (e) {
    release?.();
    throw e;
  }
  const schema = kv.get('meta', K.metaKey.schema) as number | undefined;
  if (schema === undefined && !kv.readOnly) {
    kv.put('meta', K.metaKey.schema, K.SCHEMA_VERSION);
    await kv.commit();
  } else if (schema !== undefined && schema !== K.SCHEMA_VERSION) {
    await kv.close();
    throw new LineageError('schema_mismatch', `lineage store ${dir} has schema ${schema}, this build reads ${K.SCHEMA_VERSION}`);
  }
  return new Lineage(kv, opts);
}

/**
 * Checks a store's cross-references as committed (safe while the daemon runs: it reads
 * one snapshot). An empty `problems` list means consistent.
 */
export async function checkLineage(dir: string): Promise<CheckResult> {
  if (!existsSync(join(dir, DATA_FILE))) throw new LineageError('no_store', `no lineage store at ${dir}`);
  const kv = new Kv(dir, { readOnly: true });
  try {
    return checkStore(kv);
  } finally {
    await kv.close();
  }
}
