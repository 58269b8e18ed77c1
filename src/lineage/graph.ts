// The lineage graph over the write-back store: file nodes (found by inode or by any
// of their paths), edges source → destination, the materialised inherited
// classification of each node and its propagation downstream. Inheritance is
// monotone (a node's inherited tier and tags only grow), so propagation is a
// worklist that stops wherever a node already covers what reaches it.

import { statSync } from 'node:fs';
import type { Kv } from './kv.js';
import * as K from './keys.js';
import { combine, covers, effective, inheritedOf, sortedUnion } from './inherit.js';
import type { ClsRec, EdgeRec, NodeRec } from './records.js';
import type { FileRef } from './types.js';

/** Bound on cached node records; the cache is dropped whole when it grows past it. */
const NODE_CACHE_MAX = 200_000;
/** Copies of copies are followed this deep when computing what a copy inherits. */
const COPY_CHAIN_MAX = 32;

export class Graph {
  private readonly cache = new Map<number, NodeRec>();
  /** Nodes whose effective classification grew and whose downstream must be raised. */
  private readonly raised = new Set<number>();
  private nextId: number;

  constructor(
    private readonly kv: Kv,
    private readonly now: () => number,
  ) {
    this.nextId = (kv.get('meta', K.metaKey.nextNode) as number | undefined) ?? 1;
  }

  // Ownership: the cache holds the working copy of a node, which this class mutates;
  // the write-back overlay holds snapshots (shallow copies made by save()). A batch may
  // be serialised a little after it is handed to LMDB, so what it holds must not change
  // under it: nested values (inh, content, copy, links) are only ever replaced, never
  // mutated, which makes a shallow copy a true snapshot.

  node(id: number): NodeRec | undefined {
    let n = this.cache.get(id);
    if (n === undefined) {
      const stored = this.kv.get('nodes', K.nodeKey(id)) as NodeRec | undefined;
      if (stored === undefined) return undefined;
      n = { ...stored }; // never mutate what the overlay holds
      if (this.cache.size >= NODE_CACHE_MAX) this.cache.clear();
      this.cache.set(id, n);
    }
    return n;
  }

  save(n: NodeRec): void {
    n.updated = this.now();
    this.cache.set(n.id, n);
    this.kv.put('nodes', K.nodeKey(n.id), { ...n });
  }

  /** The node a path names (user-visible or source path), deleted ones included. */
  byPath(path: string): NodeRec | undefined {
    const id = this.pathNode(path);
    return id === undefined ? undefined : this.node(id);
  }

  // Every `paths` read and write goes through these two: a long path's key is a hash,
  // and its value carries the path so a lookup checks it got the path it asked for.
  private pathNode(path: string): number | undefined {
    return K.pathTarget(path, this.kv.get('paths', K.pathKey(path)));
  }

  private setPath(path: string, id: number): void {
    this.kv.put('paths', K.pathKey(path), K.pathValue(path, id));
  }

  /** The live node of a file without creating one: by inode, else by path. */
  find(file: Pick<FileRef, 'path' | 'dev' | 'ino'>): NodeRec | undefined {
    const n = this.byInode(file.dev, file.ino);
    if (n !== undefined && (n.path === file.path || (n.links ?? []).includes(file.path))) return n;
    return this.byPath(file.path) ?? n;
  }

  get nodeCount(): number {
    return this.nextId - 1;
  }

  // Inode 0 means "not known" (a caller without a stat): such files are found by path only.
  private setInode(dev: number, ino: number, id: number): void {
    if (ino !== 0) this.kv.put('inodes', K.inodeKey(dev, ino), id);
  }

  private dropInode(dev: number, ino: number): void {
    if (ino !== 0) this.kv.del('inodes', K.inodeKey(dev, ino));
  }

  private byInode(dev: number, ino: number): NodeRec | undefined {
    if (ino === 0) return undefined;
    const id = this.kv.get('inodes', K.inodeKey(dev, ino)) as number | undefined;
    const n = id === undefined ? undefined : this.node(id);
    return n && n.deleted === undefined ? n : undefined;
  }

  /**
   * The live node of a file, created when unknown. `fresh` (a create) means the inode is
   * new, so a node still holding that inode is a stale one whose unlink we never saw.
   */
  resolve(file: FileRef, fresh = false): NodeRec {
    let n = this.byInode(file.dev, file.ino);
    if (n !== undefined && n.path !== file.path && !(n.links ?? []).includes(file.path)) {
      if (fresh) {
        this.retire(n);
        n = undefined;
      } else if (this.stillNamesInode(n, file)) {
        this.addLink(n, file.path);
      } else {
        this.move(n, file); // renamed behind our back (e.g. directly in the source dir)
      }
    }
    if (n === undefined) {
      const byPath = this.byPath(file.path);
      if (byPath !== undefined && byPath.deleted === undefined && !fresh) {
        // Same path, new inode: the file was replaced outside our view; the dataset
        // keeps its identity (and lineage) under its path. (Inode 0 is "unknown".)
        if (file.ino !== 0 && (byPath.dev !== file.dev || byPath.ino !== file.ino)) {
          this.dropInode(byPath.dev, byPath.ino);
          byPath.dev = file.dev;
          byPath.ino = file.ino;
          this.setInode(file.dev, file.ino, byPath.id);
          this.save(byPath);
        }
        n = byPath;
      } else {
        // A create at a path whose file we still believed alive: it was deleted unseen.
        if (byPath !== undefined && byPath.deleted === undefined) this.retire(byPath);
        n = this.create(file);
      }
    }
    return n;
  }

  private stillNamesInode(n: NodeRec, file: FileRef): boolean {
    try {
      const st = statSync(n.sourcePath);
      return st.ino === file.ino;
    } catch {
      return false;
    }
  }

  private create(file: FileRef): NodeRec {
    const t = this.now();
    const n: NodeRec = {
      id: this.nextId++,
      path: file.path,
      sourcePath: file.sourcePath,
      mount: file.mount,
      zone: file.zone,
      dev: file.dev,
      ino: file.ino,
      created: t,
      updated: t,
    };
    this.kv.put('meta', K.metaKey.nextNode, this.nextId);
    this.setInode(file.dev, file.ino, n.id);
    this.setPath(file.path, n.id);
    if (file.sourcePath !== file.path) this.setPath(file.sourcePath, n.id);
    this.save(n);
    return n;
  }

  private addLink(n: NodeRec, path: string): void {
    n.links = sortedUnion(n.links ?? [], [path]);
    this.setPath(path, n.id);
    this.save(n);
  }

  /** Points a node at a new name (rename): lineage follows the file. */
  move(n: NodeRec, to: FileRef): void {
    const old = this.byPath(to.path);
    if (old !== undefined && old.id !== n.id && old.deleted === undefined) this.retire(old); // replaced by the rename
    this.dropPath(n, n.path);
    this.dropPath(n, n.sourcePath);
    n.path = to.path;
    n.sourcePath = to.sourcePath;
    n.mount = to.mount;
    n.zone = to.zone;
    if (n.dev !== to.dev || n.ino !== to.ino) {
      this.dropInode(n.dev, n.ino);
      n.dev = to.dev;
      n.ino = to.ino;
    }
    this.setInode(n.dev, n.ino, n.id);
    this.setPath(n.path, n.id);
    this.setPath(n.sourcePath, n.id);
    this.save(n);
  }

  /**
   * A directory was renamed: every node named below it (by user or source path, hard
   * links included) moves along. Children take the directory's new mount and zone.
   * Returns how many nodes moved.
   */
  moveTree(from: FileRef, to: FileRef): number {
    const ids = new Set<number>();
    for (const dir of new Set([from.path, from.sourcePath])) {
      for (const range of K.pathsBelow(dir)) {
        for (const { key, value } of this.kv.range('paths', range)) {
          const e = K.pathEntry(key, value);
          if (e !== undefined && K.isBelow(e.path, dir)) ids.add(e.node);
        }
      }
    }
    const swap = (p: string): string => {
      for (const [a, b] of [
        [from.path, to.path],
        [from.sourcePath, to.sourcePath],
      ] as const) {
        if (p.startsWith(`${a}/`)) return b + p.slice(a.length);
      }
      return p;
    };
    let moved = 0;
    for (const id of ids) {
      const n = this.node(id);
      if (n === undefined) continue;
      for (const p of [n.path, n.sourcePath, ...(n.links ?? [])]) this.dropPath(n, p);
      n.path = swap(n.path);
      n.sourcePath = swap(n.sourcePath);
      if (n.links) n.links = n.links.map(swap).sort();
      n.mount = to.mount;
      n.zone = to.zone;
      for (const p of [n.path, n.sourcePath, ...(n.links ?? [])]) this.setPath(p, n.id);
      this.save(n);
      moved++;
    }
    return moved;
  }

  private dropPath(n: NodeRec, path: string): void {
    if (this.pathNode(path) === n.id) this.kv.del('paths', K.pathKey(path));
  }

  /**
   * One name of a file is gone. With other hard links left the node lives on under
   * one of them; otherwise it is marked deleted, keeping its lineage and its paths
   * (so `lineage /gone/file` still answers) until a new file takes the path.
   */
  unlink(n: NodeRec, path: string): void {
    const links = (n.links ?? []).filter((p) => p !== path);
    if (path === n.path && links.length > 0) {
      this.dropPath(n, path);
      n.path = links.shift()!;
      n.links = links;
      this.save(n);
      return;
    }
    if (path !== n.path) {
      this.dropPath(n, path);
      n.links = links;
      this.save(n);
      return;
    }
    this.retire(n);
  }

  private retire(n: NodeRec): void {
    n.deleted = this.now();
    this.dropInode(n.dev, n.ino);
    this.save(n);
  }

  /** Current effective classification: max(content, inherited). */
  eff(n: NodeRec): ClsRec | undefined {
    return effective(n.content, this.inheritedRec(n));
  }

  /** What a node inherits (derived sources, aggregate rule, copy source), or undefined. */
  inheritedRec(n: NodeRec, depth = 0): ClsRec | undefined {
    let copied: ClsRec | undefined;
    if (n.copy !== undefined && depth < COPY_CHAIN_MAX) {
      const src = this.node(n.copy.src);
      if (src !== undefined) copied = effective(src.content, this.inheritedRec(src, depth + 1));
    }
    return inheritedOf(n.inh, copied, n.aggregate === true);
  }

  /** Sets content classification; schedules propagation when the node's effective one grew. */
  setContent(n: NodeRec, c: ClsRec): void {
    const before = this.eff(n);
    n.content = c;
    this.save(n);
    if (!covers(before, this.eff(n))) this.raised.add(n.id);
  }

  /** Adds derived sources to a node's inherited classification (monotone). */
  inherit(n: NodeRec, c: ClsRec | undefined, srcs: number[]): void {
    const before = this.eff(n);
    const srcsNow = sortedNums(n.inh?.srcs ?? [], srcs);
    const next = combine(n.inh, c);
    if (next === undefined) return;
    const changed = !covers(n.inh, c) || srcsNow.length !== (n.inh?.srcs.length ?? 0);
    if (!changed) return;
    n.inh = { ...next, srcs: srcsNow };
    this.save(n);
    if (!covers(before, this.eff(n))) this.raised.add(n.id);
  }

  setCopy(n: NodeRec, copy: NodeRec['copy']): void {
    const before = this.eff(n);
    n.copy = copy;
    this.save(n);
    if (!covers(before, this.eff(n))) this.raised.add(n.id);
  }

  markAggregate(n: NodeRec): void {
    if (n.aggregate) return;
    n.aggregate = true;
    this.save(n);
    // Lowering does not propagate: what was derived from the file while it held
    // individual-level data keeps the tier it had (inheritance is monotone).
  }

  /** Upserts edge src → dst; returns true when the edge is new. */
  edge(src: number, dst: number, info: Omit<EdgeRec, 'ops' | 'last' | 'count'>): boolean {
    const key = K.edgeInKey(dst, src);
    const old = this.kv.get('edgesIn', key) as EdgeRec | undefined;
    if (old !== undefined) {
      // A new record, not a mutation: `old` may be in a batch being committed.
      const next: EdgeRec = { ...old, last: info.time, count: old.count + 1 };
      if (!old.ops.includes(info.op)) next.ops = [...old.ops, info.op];
      if (info.similarity !== undefined) next.similarity = Math.max(old.similarity ?? 0, info.similarity);
      this.kv.put('edgesIn', key, next);
      return false;
    }
    const rec: EdgeRec = { ...info, ops: [info.op], last: info.time, count: 1 };
    if (rec.similarity === undefined) delete rec.similarity;
    this.kv.put('edgesIn', key, rec);
    this.kv.put('edgesOut', K.edgeOutKey(src, dst), 1);
    return true;
  }

  *inEdges(dst: number): Iterable<{ src: number; edge: EdgeRec }> {
    for (const { key, value } of this.kv.range('edgesIn', K.prefixRange(dst))) {
      yield { src: (key as number[])[1]!, edge: value as EdgeRec };
    }
  }

  *outEdges(src: number): Iterable<{ dst: number; edge: EdgeRec }> {
    for (const { key } of this.kv.range('edgesOut', K.prefixRange(src))) {
      const dst = (key as number[])[1]!;
      const edge = this.kv.get('edgesIn', K.edgeInKey(dst, src)) as EdgeRec | undefined;
      if (edge !== undefined) yield { dst, edge };
    }
  }

  /** Destinations of a node's out-edges, without reading the edges. */
  outIds(src: number): number[] {
    return this.kv.keys('edgesOut', K.prefixRange(src)).map((k) => (k as number[])[1]!);
  }

  get hasRaised(): boolean {
    return this.raised.size > 0;
  }

  /**
   * Pushes grown classifications downstream until nothing changes. Monotone and over
   * a finite lattice (tiers × tags seen), so it terminates even on cycles.
   */
  settle(): number {
    let touched = 0;
    while (this.raised.size > 0) {
      const id = this.raised.values().next().value as number;
      this.raised.delete(id);
      const n = this.node(id);
      if (n === undefined) continue;
      const e = this.eff(n);
      for (const { dst, edge } of this.outEdges(id)) {
        const d = this.node(dst);
        if (d === undefined) continue;
        touched++;
        if (edge.op === 'copy' && d.copy?.src === id) {
          // A copy reads its source live; only its own downstream needs the news.
          this.raised.add(dst);
          continue;
        }
        this.inherit(d, e, [id]);
      }
    }
    return touched;
  }
}

function sortedNums(a: number[], b: number[]): number[] {
  if (b.every((x) => a.includes(x))) return a;
  return [...new Set([...a, ...b])].sort((x, y) => x - y);
}
