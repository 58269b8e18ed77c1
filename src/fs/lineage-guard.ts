// Lineage is bookkeeping beside the data path: a fault in it (a store error, a key it
// cannot encode) must not turn a file operation into EIO. This wrapper logs such faults
// (at most once a minute per call) and degrades to "no lineage information" for that call;
// the content classification and the process taint still decide.
import type { LineagePort } from './services.js';

export function guardLineage(inner: LineagePort, onError: (call: string, err: unknown) => void): LineagePort {
  const lastLogged = new Map<string, number>();
  const report = (call: string, err: unknown) => {
    const now = Date.now();
    if ((lastLogged.get(call) ?? 0) > now - 60_000) return;
    lastLogged.set(call, now);
    onError(call, err);
  };
  function guard<A extends unknown[], R>(call: string, fn: (...a: A) => R, fallback: () => R): (...a: A) => R {
    return (...a: A) => {
      try {
        return fn(...a);
      } catch (e) {
        report(call, e);
        return fallback();
      }
    };
  }
  return {
    recordRead: guard('recordRead', inner.recordRead.bind(inner), () => undefined),
    // taintOf is keyed by process, not path; if it fails the writer is treated as untainted
    // only for lineage, while content inspection still applies.
    taintOf: guard('taintOf', inner.taintOf.bind(inner), () => ({ tier: 'PUBLIC' as const, tags: [], files: [] })),
    recordWrite: guard('recordWrite', inner.recordWrite.bind(inner), () => undefined),
    recordRename: guard('recordRename', inner.recordRename.bind(inner), () => undefined),
    recordUnlink: guard('recordUnlink', inner.recordUnlink.bind(inner), () => undefined),
    observeContent: guard('observeContent', inner.observeContent.bind(inner), () => undefined),
    copyOf: guard('copyOf', inner.copyOf.bind(inner), () => undefined),
    inherited: guard('inherited', inner.inherited.bind(inner), () => undefined),
    stats: guard('stats', inner.stats.bind(inner), (): ReturnType<LineagePort['stats']> => ({ processes: 0, nodes: 0, edges: 0, pendingWrites: 0, dbBytes: 0, healthy: false, lastError: 'lineage stats unavailable', failedCommits: 0, droppedWrites: 0 })),
    ...(inner.node ? { node: guard('node', inner.node.bind(inner), () => undefined) } : {}),
  };
}
