// Graph queries: upstream and downstream walks (breadth first, depth-limited, capped)
// and impact, everything downstream of a file with the tier each has now. Callers
// settle pending propagation first, so tiers are current.

import type { Graph } from './graph.js';
import type { EdgeRec, NodeRec } from './records.js';
import type { ImpactEntry, LineageEdge, LineageGraph, LineageNode } from './types.js';

/** A walk returns at most this many nodes and says `truncated` when it stopped there. */
export const MAX_GRAPH_NODES = 10_000;

export function toPublicNode(graph: Graph, n: NodeRec): LineageNode {
  const e = graph.eff(n);
  const out: LineageNode = {
    id: n.id,
    path: n.path,
    sourcePath: n.sourcePath,
    mount: n.mount,
    zone: n.zone,
    tier: e?.tier ?? 'PUBLIC',
    tags: e?.tags ?? [],
  };
  if (n.content !== undefined) out.content = { tier: n.content.tier, tags: n.content.tags };
  if (n.aggregate) out.aggregate = true;
  if (n.deleted !== undefined) out.deleted = new Date(n.deleted).toISOString();
  if (n.links !== undefined && n.links.length > 0) out.links = n.links;
  return out;
}

function toPublicEdge(from: number, to: number, e: EdgeRec): LineageEdge {
  const out: LineageEdge = {
    from,
    to,
    op: e.op,
    ops: e.ops,
    program: e.program,
    user: e.user,
    uid: e.uid,
    pid: e.pid,
    time: new Date(e.time).toISOString(),
    last: new Date(e.last).toISOString(),
    count: e.count,
  };
  if (e.similarity !== undefined) out.similarity = e.similarity;
  return out;
}

function walk(graph: Graph, root: NodeRec, depth: number, direction: 'upstream' | 'downstream'): LineageGraph {
  const dist = new Map<number, number>([[root.id, 0]]);
  const nodes: LineageNode[] = [toPublicNode(graph, root)];
  const edges: LineageEdge[] = [];
  let truncated = false;
  let frontier = [root.id];
  for (let d = 0; frontier.length > 0; d++) {
    const next: number[] = [];
    for (const id of frontier) {
      const hops =
        direction === 'upstream'
          ? [...graph.inEdges(id)].map((x) => ({ other: x.src, from: x.src, to: id, edge: x.edge }))
          : [...graph.outEdges(id)].map((x) => ({ other: x.dst, from: id, to: x.dst, edge: x.edge }));
      for (const h of hops) {
        if (d >= depth) {
          truncated = true; // there is more beyond the requested depth
          break;
        }
        const known = dist.has(h.other);
        if (!known && nodes.length >= MAX_GRAPH_NODES) {
          truncated = true;
          continue;
        }
        edges.push(toPublicEdge(h.from, h.to, h.edge));
        if (known) continue;
        const n = graph.node(h.other);
        if (n === undefined) continue;
        dist.set(h.other, d + 1);
        nodes.push(toPublicNode(graph, n));
        next.push(h.other);
      }
    }
    frontier = next;
  }
  return { root: root.id, direction, nodes, edges, truncated };
}

export function upstreamGraph(graph: Graph, root: NodeRec, depth: number): LineageGraph {
  return walk(graph, root, depth, 'upstream');
}

export function downstreamGraph(graph: Graph, root: NodeRec, depth: number): LineageGraph {
  return walk(graph, root, depth, 'downstream');
}

/** Everything downstream, nearest first: who is affected if this file is reclassified or leaked. */
export function impactOf(graph: Graph, root: NodeRec): ImpactEntry[] {
  const dist = new Map<number, number>([[root.id, 0]]);
  const out: ImpactEntry[] = [];
  let frontier = [root.id];
  for (let d = 1; frontier.length > 0; d++) {
    const next: number[] = [];
    for (const id of frontier) {
      for (const dst of graph.outIds(id)) {
        if (dist.has(dst)) continue;
        dist.set(dst, d);
        const n = graph.node(dst);
        if (n === undefined) continue;
        const e = graph.eff(n);
        out.push({ path: n.path, tier: e?.tier ?? 'PUBLIC', tags: e?.tags ?? [], distance: d });
        next.push(dst);
      }
    }
    frontier = next;
  }
  return out.sort((a, b) => a.distance - b.distance || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
