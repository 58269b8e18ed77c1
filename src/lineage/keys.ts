// The one place that encodes LMDB keys for lineage. Every database the store opens and
// the shape of every key in it is defined here; nothing else builds a key by hand.
// Keys are lmdb-js ordered-binary arrays, so prefix ranges ([a] .. [a, MAX]) are cheap.

import { bootId } from './proc.js';

/** Bumped when a key or value layout changes incompatibly; checked on open. */
export const SCHEMA_VERSION = 1;

export const DB_NAMES = [
  'meta', // string → value: schema version, next node id, next event sequence
  'nodes', // nodeId → NodeRec
  'paths', // path → nodeId; user-visible and source paths both point at the node
  'inodes', // [dev, ino] → nodeId for live files
  'edgesIn', // [dst, src] → EdgeRec (upstream walks)
  'edgesOut', // [src, dst] → 1 (downstream walks)
  'events', // [timeMs, seq] → EventRec, the log OpenLineage export reads
  'runs', // runKey → RunRec, one per process that wrote lineage
  'runEnds', // [endMs, runKey] → 1, so export can close runs in time order
  'procs', // runKey → ProcRec: live taint, kept across daemon restarts
  'fp', // [chunkHash, nodeId] → 1: content fingerprint index
  'fpNodes', // nodeId → FpRec: a node's own chunk list, to compute similarity
] as const;
export type DbName = (typeof DB_NAMES)[number];

export type Key = string | number | Array<string | number>;

/** Upper bound element for prefix ranges: ordered-binary sorts numbers before strings. */
const HIGH = '\uffff';

export const metaKey = {
  schema: 'schema',
  nextNode: 'nextNode',
  nextEvent: 'nextEvent',
} as const;

// Single-part keys are plain primitives: ordered-binary encodes [x] exactly like x and
// hands back x, so a one-element array would not survive a range read.
export const nodeKey = (id: number): Key => id;
export const pathKey = (path: string): Key => path;
export const inodeKey = (dev: number, ino: number): Key => [dev, ino];
export const edgeInKey = (dst: number, src: number): Key => [dst, src];
export const edgeOutKey = (src: number, dst: number): Key => [src, dst];
export const eventKey = (timeMs: number, seq: number): Key => [timeMs, seq];
/**
 * A run is one process: boot, pid and start time (start times restart at each boot,
 * so the boot id's first 8 hex digits keep runs of different boots apart).
 */
export const runKeyOf = (pid: number, startTime: string): string => `${bootId().slice(0, 8)}:${pid}:${startTime}`;
export const runKey = (run: string): Key => run;
export const runEndKey = (endMs: number, run: string): Key => [endMs, run];
export const procKey = (run: string): Key => run;
export const fpKey = (hash: number, node: number): Key => [hash, node];
export const fpNodeKey = (node: number): Key => node;

/** A key range; an absent bound is open (the start or end of the database). */
export interface Range {
  start?: Key;
  end?: Key;
  /** Set for prefix ranges: the first key element they all share. */
  prefix?: string | number;
}

/** All keys [first, …] of a two-part key. */
export function prefixRange(first: number | string): Range {
  return { start: [first], end: [first, HIGH], prefix: first };
}

/**
 * Path keys strictly below a directory: `dir/` … `dir0` ('0' is the byte after '/',
 * and ordered-binary compares strings by their UTF-8 bytes).
 */
export function pathsBelow(dir: string): Range {
  const d = dir.endsWith('/') ? dir.slice(0, -1) : dir;
  return { start: `${d}/`, end: `${d}0` };
}

/** Keys [t, …] with t >= fromMs (events and run ends are ordered by time). */
export function timeRange(fromMs: number): Range {
  return { start: [fromMs], end: [Number.MAX_SAFE_INTEGER, HIGH] };
}

/** Keys [t, …] with t < beforeMs. */
export function timeBefore(beforeMs: number): Range {
  return { end: [beforeMs] };
}

/** Everything in a database. */
export function fullRange(): Range {
  return {};
}

/** In-memory identity of a key for the write-back overlay (never persisted). */
export function keyId(key: Key): string {
  return typeof key === 'string' ? `s${key}` : JSON.stringify(key);
}

/** True when a two-part key lies inside a range built by the helpers above. */
export function inRange(key: Key, range: Range): boolean {
  return (range.start === undefined || compareKeys(key, range.start) >= 0) && (range.end === undefined || compareKeys(key, range.end) < 0);
}

function compareElem(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'string') return -1;
  if (typeof a === 'string' && typeof b === 'number') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Mirrors ordered-binary ordering of the keys this area uses (arrays compared element-wise). */
export function compareKeys(a: Key, b: Key): number {
  const x = Array.isArray(a) ? a : [a];
  const y = Array.isArray(b) ? b : [b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const c = compareElem(x[i]!, y[i]!);
    if (c !== 0) return c;
  }
  return x.length - y.length;
}
