// The one place that encodes LMDB keys for lineage. Every database the store opens and
// the shape of every key in it is defined here; nothing else builds a key by hand.
// Keys are lmdb-js ordered-binary arrays, so prefix ranges ([a] .. [a, MAX]) are cheap.
// LMDB refuses keys over 1978 bytes, and a path may be 4095: long paths are keyed by
// their SHA-256 (see pathKey), the only key here whose size the caller controls.

import { createHash } from 'node:crypto';
import { bootId } from './proc.js';

/** Bumped when a key or value layout changes incompatibly; checked on open. */
export const SCHEMA_VERSION = 1;

export const DB_NAMES = [
  'meta', // string → value: schema version, next node id, next event sequence
  'nodes', // nodeId → NodeRec
  'paths', // pathKey(path) → pathValue: user-visible and source paths both point at the node
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

/**
 * Paths up to this many UTF-8 bytes are their own key (so a directory's paths form one
 * key range); longer ones are keyed by HASHED_PREFIX + SHA-256. Well under LMDB's
 * 1978-byte key limit, leaving room for ordered-binary's framing.
 */
export const PATH_KEY_MAX_BYTES = 1024;
/** Sorts before '/', so hashed keys never fall inside a directory's range of plain paths. */
export const HASHED_PREFIX = '#sha256:';

const isLong = (path: string): boolean => Buffer.byteLength(path, 'utf8') > PATH_KEY_MAX_BYTES;

export function pathKey(path: string): Key {
  return isLong(path) ? HASHED_PREFIX + createHash('sha256').update(path, 'utf8').digest('hex') : path;
}

/** A hashed path's value also holds the path, so a lookup can check it is the one asked for. */
export type PathValue = number | [number, string];

export function pathValue(path: string, node: number): PathValue {
  return isLong(path) ? [node, path] : node;
}

/** The node a `paths` value names for `path` (undefined when absent or another path's). */
export function pathTarget(path: string, value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (Array.isArray(value) && value[1] === path && typeof value[0] === 'number') return value[0];
  return undefined;
}

/** Path and node of a `paths` entry read from a range (hashed keys carry the path in the value). */
export function pathEntry(key: Key, value: unknown): { path: string; node: number } | undefined {
  if (typeof key === 'string' && !key.startsWith(HASHED_PREFIX) && typeof value === 'number') return { path: key, node: value };
  if (Array.isArray(value) && typeof value[0] === 'number' && typeof value[1] === 'string') return { path: value[1], node: value[0] };
  return undefined;
}
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
 * Ranges of `paths` keys that hold every path strictly below a directory: plain keys
 * `dir/` … `dir0` ('0' is the byte after '/', and ordered-binary compares strings by
 * their UTF-8 bytes), then every hashed key, which callers filter by the path in the
 * value (pathEntry, isBelow). So a directory rename stays a range read for normal paths
 * and costs one pass over the (rare) long ones. A directory whose own name is too long
 * for a plain key has only hashed paths below it.
 */
export function pathsBelow(dir: string): Range[] {
  const d = dir.endsWith('/') ? dir.slice(0, -1) : dir;
  const hashed: Range = { start: HASHED_PREFIX, end: HASHED_PREFIX.slice(0, -1) + ';' }; // ';' follows ':'
  return isLong(`${d}/`) ? [hashed] : [{ start: `${d}/`, end: `${d}0` }, hashed];
}

/** True when `path` names something strictly below `dir`. */
export function isBelow(path: string, dir: string): boolean {
  const d = dir.endsWith('/') ? dir.slice(0, -1) : dir;
  return path.startsWith(`${d}/`) && path.length > d.length + 1;
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
