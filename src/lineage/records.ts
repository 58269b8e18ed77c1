// Shapes of the values persisted in LMDB (msgpack). Times are epoch milliseconds; node
// references are numeric ids so a rename rewrites one record, not every edge.

import type { Tier } from '../classify/types.js';
import type { WriteOp } from './types.js';

export interface ClsRec {
  tier: Tier;
  tags: string[];
  /** Confidence of the classification this came from (0..1). */
  conf: number;
}

export interface NodeRec {
  id: number;
  path: string;
  sourcePath: string;
  mount: string;
  zone: string;
  dev: number;
  ino: number;
  /** Other user-visible paths of the same inode (hard links), each also in `paths`. */
  links?: string[];
  /** Content classification last reported when the file was read through a mount. */
  content?: ClsRec;
  /**
   * Derived classification: max tier and union of tags over every direct source's
   * effective classification, kept current by propagation. `srcs` are the sources.
   */
  inh?: ClsRec & { srcs: number[] };
  /** Recognised copy of another node by content fingerprints. */
  copy?: { src: number; similarity: number; coverage: number };
  aggregate?: boolean;
  created: number;
  updated: number;
  deleted?: number;
}

export interface EdgeRec {
  op: WriteOp;
  ops: WriteOp[];
  program: string;
  user: string;
  uid: number;
  pid: number;
  run: string;
  time: number;
  last: number;
  count: number;
  similarity?: number;
}

export type EventRec =
  | {
      kind: 'write';
      time: number;
      op: WriteOp;
      run: string;
      pid: number;
      program: string;
      user: string;
      uid: number;
      dst: number;
      srcs: number[];
      similarity?: number;
    }
  | { kind: 'rename'; time: number; run: string; program: string; user: string; uid: number; node: number; from: string; to: string }
  | { kind: 'unlink'; time: number; node: number; path: string };

export interface RunRec {
  run: string;
  pid: number;
  startTime: string;
  program: string;
  user: string;
  uid: number;
  first: number;
  end?: number;
}

/** Persisted taint of a live process, so a daemon restart does not launder it. */
export interface ProcRec {
  run: string;
  boot: string;
  pid: number;
  startTime: string;
  ppid: number;
  sources: Array<{ node: number; tier: Tier; tags: string[] }>;
}

export interface FpRec {
  hashes: number[];
  sizes: number[];
  bytes: number;
  /** Size and mtime of the source file when it was scanned whole (absent for observed writes). */
  size?: number;
  mtimeMs?: number;
}
