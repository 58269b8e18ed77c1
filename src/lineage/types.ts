// Public types of the lineage area: what the file-system layer hands in (FileRef,
// ProcessMeta), what it gets back (Taint, inherited classification), and the graph
// shapes that queries, the CLI and the OpenLineage export share.

import type { Classification, Tier } from '../classify/types.js';

/** A file as the daemon sees it: the user-visible mount path and the real file behind it. */
export interface FileRef {
  /** User-visible path through the mount, e.g. /governed/crm/a.csv. */
  path: string;
  /** Real path under the source directory, e.g. /srv/data/crm/a.csv. */
  sourcePath: string;
  mount: string;
  zone: string;
  dev: number;
  ino: number;
}

/** Who wrote: recorded on every lineage edge. */
export interface ProcessMeta {
  /** Executable path or comm. */
  program: string;
  uid: number;
  user: string;
}

export interface TaintFile {
  path: string;
  mount: string;
  zone: string;
  tier: Tier;
  tags: string[];
}

/** What a process (and its ancestors) has read: the max tier, the union of tags, and the files. */
export interface Taint {
  tier: Tier;
  tags: string[];
  files: TaintFile[];
}

/** Transforms lacuna-fs runs itself (recordDerivation); edges carry them as their op. */
export type DerivationOp = 'anonymize' | 'aggregate';

export type WriteOp = 'create' | 'write' | 'truncate' | 'rename' | 'link' | 'copy' | DerivationOp;

export interface DerivationOptions {
  /** Apply the aggregate rule to the output (tier at most INTERNAL, tags as DERIVED_FROM_<TAG>). Always on for 'anonymize'. */
  aggregate?: boolean;
}

export interface ProcessIdentity {
  /** Thread-group id: taint belongs to the process, not to the thread FUSE reports. */
  pid: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot): with pid, names one process. */
  startTime: string;
  ppid: number;
  comm: string;
  exe?: string;
  uid?: number;
}

export interface LineageNode {
  id: number;
  path: string;
  sourcePath: string;
  mount: string;
  zone: string;
  /** Effective tier: max(content classification, inherited). */
  tier: Tier;
  tags: string[];
  /** The content classification last reported by classify (absent if never read through a mount). */
  content?: { tier: Tier; tags: string[] };
  aggregate?: boolean;
  /** ISO time the node was unlinked; lineage is kept for history. */
  deleted?: string;
  /** Other paths that name the same inode (hard links). */
  links?: string[];
}

export interface LineageEdge {
  from: number;
  to: number;
  /** First operation that created the edge, then every distinct operation seen. */
  op: WriteOp;
  ops: WriteOp[];
  program: string;
  user: string;
  uid: number;
  pid: number;
  /** ISO times of first and last observation. */
  time: string;
  last: string;
  count: number;
  /** Copy edges found by content fingerprints carry the measured similarity. */
  similarity?: number;
}

export interface LineageGraph {
  /** The node the query started from. */
  root: number;
  direction: 'upstream' | 'downstream';
  nodes: LineageNode[];
  edges: LineageEdge[];
  /** True when the depth limit (or the node cap) cut the walk short. */
  truncated: boolean;
}

export interface ImpactEntry {
  path: string;
  tier: Tier;
  tags: string[];
  distance: number;
}

export interface CopyMatch {
  path: string;
  /** Fraction of the queried file's bytes found in `path` (1 = everything came from it). */
  similarity: number;
  /** Fraction of `path`'s bytes present in the queried file (1 = it holds all of it). */
  coverage: number;
}

export type InheritedClassification = Classification & { sources: string[] };

export interface LineageStats {
  processes: number;
  nodes: number;
  edges: number;
  pendingWrites: number;
  dbBytes: number;
  /** False while batch commits fail (a full disk); lineage is kept in memory and retried. */
  healthy: boolean;
  /** The last commit failure or refused write, and when (ISO time). */
  lastError?: string;
  lastErrorAt?: string;
  /** Batch commits that failed since the store was opened. */
  failedCommits: number;
  /** Writes lost for good: dropped to bound memory while commits failed, or refused by LMDB. */
  droppedWrites: number;
}

export interface ExportOptions {
  since?: Date;
  /** OpenLineage dataset namespace; default file://<hostname>. */
  namespace?: string;
  /** OpenLineage job namespace; default lacuna-fs://<hostname>. */
  jobNamespace?: string;
}

export interface LineageStore {
  recordRead(pid: number, file: FileRef, cls: Classification): void;
  taintOf(pid: number): Taint;
  recordWrite(pid: number, dest: FileRef, op: WriteOp, meta: ProcessMeta): void;
  recordRename(from: FileRef, to: FileRef, meta: ProcessMeta): void;
  /**
   * An output lacuna-fs made itself from named sources (no tainted process wrote it):
   * edges source → dest with `op`, and dest inherits the sources' classification,
   * through the aggregate rule when `opts.aggregate` or `op` is 'anonymize'.
   */
  recordDerivation(sources: FileRef[], dest: FileRef, op: DerivationOp, meta: ProcessMeta, opts?: DerivationOptions): void;
  recordUnlink(file: FileRef): void;
  /** Precondition: `chunk` is handed over (not reused by the caller afterwards). */
  observeContent(file: FileRef, offset: number, chunk: Buffer, kind?: 'read' | 'write'): void;
  copyOf(file: FileRef): CopyMatch | undefined;
  inherited(file: FileRef): InheritedClassification | undefined;
  markAggregate(file: FileRef): void;
  node(path: string): LineageNode | undefined;
  upstream(path: string, depth?: number): LineageGraph;
  downstream(path: string, depth?: number): LineageGraph;
  impact(path: string): ImpactEntry[];
  exportOpenLineage(opts?: ExportOptions): AsyncIterable<object>;
  stats(): LineageStats;
  /** Deletes events (and ended runs) older than `before`; returns how many events went. */
  expireEvents(before?: Date, max?: number): number;
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Milliseconds between batched LMDB commits (default 50). */
  batchMs?: number;
  /** Open for queries only (CLI while the daemon runs): every record* call throws. */
  readOnly?: boolean;
  /** How long a pid → process identity answer is trusted (default 250 ms; 0 = always re-read /proc). */
  identityTtlMs?: number;
  /** Milliseconds between sweeps that drop the taint of dead processes (default 5000). */
  pruneMs?: number;
  /** Bytes of each file fingerprinted for copy detection (default 64 MiB). */
  fingerprintBytes?: number;
  /**
   * Fingerprint the source file of every file read through a mount, in the background
   * (default true), so copies are recognised even when the reader's bytes never pass
   * through observeContent.
   */
  scanReads?: boolean;
  /**
   * Days the event log (what the OpenLineage export reads) is kept; 0 keeps it forever.
   * Default 365. Nodes and edges — the lineage itself — are never expired.
   */
  eventRetentionDays?: number;
  /**
   * Bound on unsaved writes held in memory while commits fail (default 250 000); past
   * it the oldest are dropped and counted in stats().droppedWrites.
   */
  maxPendingWrites?: number;
  /** Replaces /proc lookups (tests of pid reuse without root). */
  identify?: (pid: number) => ProcessIdentity | undefined;
}
