// Consistency check of a lineage store as committed: every reference between
// databases resolves (paths, inodes, edges both ways, sources, events, fingerprints).
// Used by tests after kill -9 and by `lacuna-fs lineage check`.

import * as K from './keys.js';
import type { Kv } from './kv.js';
import type { EventRec, FpRec, NodeRec } from './records.js';

export interface CheckResult {
  nodes: number;
  edges: number;
  events: number;
  problems: string[];
}

/** Reads the whole store; O(size). Problems are capped at 100 messages. */
export function checkStore(kv: Kv): CheckResult {
  const problems: string[] = [];
  const report = (m: string): void => {
    if (problems.length < 100) problems.push(m);
  };
  const nextNode = (kv.get('meta', K.metaKey.nextNode) as number | undefined) ?? 1;
  const nextEvent = (kv.get('meta', K.metaKey.nextEvent) as number | undefined) ?? 1;
  const nodes = new Map<number, NodeRec>();
  for (const { key, value } of kv.range('nodes', K.fullRange())) {
    const id = key as number;
    const n = value as NodeRec;
    if (n.id !== id) report(`node key ${id} holds id ${n.id}`);
    if (id >= nextNode) report(`node ${id} not below nextNode ${nextNode}`);
    nodes.set(id, n);
  }
  const exists = (id: number, what: string): void => {
    if (!nodes.has(id)) report(`${what} refers to missing node ${id}`);
  };
  for (const { key, value } of kv.range('paths', K.fullRange())) {
    const e = K.pathEntry(key, value);
    if (e === undefined) report(`path key ${String(key).slice(0, 80)} holds ${JSON.stringify(value)?.slice(0, 80)}`);
    else if (K.keyId(K.pathKey(e.path)) !== K.keyId(key)) report(`path ${e.path.slice(0, 80)}… is stored under another key`);
    else exists(e.node, `path ${e.path.slice(0, 200)}`);
  }
  for (const { key, value } of kv.range('inodes', K.fullRange())) {
    const [dev, ino] = key as number[];
    const n = nodes.get(value as number);
    if (n === undefined) report(`inode ${dev}:${ino} refers to missing node ${String(value)}`);
    else if (n.dev !== dev || n.ino !== ino) report(`inode ${dev}:${ino} maps to node ${n.id} which has ${n.dev}:${n.ino}`);
  }
  let edges = 0;
  for (const { key } of kv.range('edgesIn', K.fullRange())) {
    const [dst, src] = key as number[];
    edges++;
    exists(dst!, `edge ${src}→${dst}`);
    exists(src!, `edge ${src}→${dst}`);
    if (kv.get('edgesOut', K.edgeOutKey(src!, dst!)) === undefined) report(`edge ${src}→${dst} has no out-index entry`);
  }
  for (const { key } of kv.range('edgesOut', K.fullRange())) {
    const [src, dst] = key as number[];
    if (kv.get('edgesIn', K.edgeInKey(dst!, src!)) === undefined) report(`out-index ${src}→${dst} has no edge`);
  }
  for (const n of nodes.values()) {
    for (const s of n.inh?.srcs ?? []) exists(s, `node ${n.id} source`);
    if (n.copy !== undefined) exists(n.copy.src, `node ${n.id} copy`);
  }
  let events = 0;
  for (const { key, value } of kv.range('events', K.fullRange())) {
    events++;
    const seq = (key as number[])[1]!;
    if (seq >= nextEvent) report(`event ${seq} not below nextEvent ${nextEvent}`);
    const e = value as EventRec;
    if (e.kind === 'write') {
      exists(e.dst, `event ${seq}`);
      for (const s of e.srcs) exists(s, `event ${seq}`);
    } else exists(e.node, `event ${seq}`);
  }
  const fps = new Map<number, Set<number>>();
  for (const { key, value } of kv.range('fpNodes', K.fullRange())) {
    const id = key as number;
    exists(id, 'fingerprint');
    const rec = value as FpRec;
    fps.set(id, new Set(rec.hashes));
    if (rec.hashes.length !== rec.sizes.length) report(`fingerprint of ${id}: ${rec.hashes.length} hashes, ${rec.sizes.length} sizes`);
  }
  for (const { key } of kv.range('fp', K.fullRange())) {
    const [h, id] = key as number[];
    if (!fps.get(id!)?.has(h!)) report(`fingerprint index ${h} → ${id} not in the node's chunk list`);
  }
  for (const [id, hashes] of fps) {
    for (const h of hashes) if (kv.get('fp', K.fpKey(h, id)) === undefined) report(`chunk ${h} of node ${id} not indexed`);
  }
  return { nodes: nodes.size, edges, events, problems };
}
