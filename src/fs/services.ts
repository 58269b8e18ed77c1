// What the file-system layer needs from the other areas: narrow views (Pick) of their
// public interfaces, so the data path stays one-directional and each op can be read
// against exactly the calls it may make. The types themselves are owned by the areas.
import type { AuditEvent, AuditLog } from '../audit/index.js';
import type { Classifier } from '../classify/index.js';
import type { FileRef, LineageNode, LineageStore, Taint } from '../lineage/index.js';
import type { Decision, PolicyBundle } from '../policy/index.js';

export type { Decision, FileRef };

export type ClassifierPort = Pick<Classifier, 'classifyFile' | 'classifyBuffer' | 'invalidate' | 'stats'>;

export type PolicyPort = Pick<PolicyBundle, 'hash' | 'source' | 'loadedAt' | 'engine' | 'decide'>;

export type TaintPort = Pick<Taint, 'tier' | 'tags' | 'files'>;

export type LineagePort = Pick<
  LineageStore,
  'recordRead' | 'taintOf' | 'recordWrite' | 'recordRename' | 'recordUnlink' | 'observeContent' | 'copyOf' | 'inherited' | 'stats'
> & {
  /** The lineage node of a path (used for its aggregate mark). */
  node?(path: string): Pick<LineageNode, 'aggregate'> | undefined;
};

export type AuditEventPort = AuditEvent;

export type AuditPort = Pick<AuditLog, 'append' | 'stats'>;

/** Active, approved, unexpired exceptions that match an operation. */
export interface ExceptionsPort {
  matching(src: string[], dest: string, uid: number, nowNs: bigint): Array<Record<string, unknown>>;
}
