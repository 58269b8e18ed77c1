// What the file-system layer needs from the other areas, as narrow structural types.
// The daemon passes the real classifier, policy bundle, lineage store and audit log;
// keeping the fs layer's view this small is what keeps the data path one-directional.
import type { Classification, Tier } from '../classify/types.js';

export interface FileStatKey {
  dev: number;
  ino: number;
}

export interface ClassifierPort {
  classifyFile(path: string, ctx?: { stat?: import('node:fs').Stats }): Promise<Classification>;
  classifyBuffer(buf: Buffer, ctx?: { path?: string }): Classification;
  invalidate(dev: number, ino: number): void;
  stats(): { cacheSize: number; hits: number; misses: number };
}

export interface Decision {
  allow: boolean;
  policy_id: string;
  reasoning: string;
  alternatives: string[];
  obligations: string[];
}

export interface PolicyPort {
  readonly hash: string;
  readonly source: string;
  readonly loadedAt: string;
  readonly engine: string;
  decide(input: unknown, data?: Record<string, unknown>): Decision;
}

export interface FileRef {
  path: string;
  sourcePath: string;
  mount: string;
  zone: string;
  dev: number;
  ino: number;
}

export interface TaintPort {
  tier: Tier;
  tags: string[];
  files: Array<{ path: string; mount: string; zone: string; tier: Tier; tags: string[] }>;
}

export interface LineagePort {
  recordRead(pid: number, file: FileRef, cls: Classification): void;
  taintOf(pid: number): TaintPort;
  recordWrite(pid: number, dest: FileRef, op: 'create' | 'write' | 'truncate' | 'rename' | 'link' | 'copy', meta: { program: string; uid: number; user: string }): void;
  recordRename(from: FileRef, to: FileRef, meta: { program: string; uid: number; user: string }): void;
  recordUnlink(file: FileRef): void;
  observeContent(file: FileRef, offset: number, chunk: Buffer): void;
  copyOf(file: FileRef): { path: string; similarity: number } | undefined;
  inherited(file: FileRef): (Classification & { sources: string[] }) | undefined;
  /** The lineage node of a path (used here for its aggregate mark). */
  node?(path: string): { aggregate?: boolean } | undefined;
  stats(): Record<string, number>;
}

export interface AuditEventPort {
  kind: string;
  user?: string;
  uid?: number;
  pid?: number;
  program?: string;
  action?: string;
  paths?: string[];
  zones?: string[];
  classification?: { tier: string; tags: string[] };
  decision?: 'allow' | 'deny' | 'allow_monitor';
  policy_id?: string;
  bundle_hash?: string;
  reasoning?: string;
  details?: Record<string, unknown>;
}

export interface AuditPort {
  append(e: AuditEventPort): { seq: number; hash: string };
  stats(): Record<string, unknown> & { healthy: boolean; headSeq: number; headHash: string; backlog: number };
}

/** Active, approved, unexpired exceptions that match an operation (issue 8 fills these). */
export interface ExceptionsPort {
  matching(src: string[], dest: string, uid: number, nowNs: bigint): Array<Record<string, unknown>>;
}
