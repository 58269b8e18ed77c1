// Process taint: which governed files each live process has read. A process is
// pid + start time; a process also carries the taint of its ancestors (walked through
// /proc), so a child of a reader inherits. Everything here is in memory and cheap: a
// pid's identity is cached for a short TTL, and a taint answer is cached until any
// taint changes. Dead processes are dropped by prune().

import { maxTier, type Tier } from '../classify/types.js';
import { runKeyOf } from './keys.js';
import { procStat, type ProcStat } from './proc.js';
import type { ProcessIdentity, Taint, TaintFile } from './types.js';

export interface SourceTaint {
  node: number;
  tier: Tier;
  tags: string[];
  conf: number;
}

export interface ProcTaint {
  run: string;
  pid: number;
  startTime: string;
  ppid: number;
  sources: Map<number, SourceTaint>;
}

/** A taint answer plus the node ids behind it (for edges). */
export interface TaintResult extends Taint {
  nodes: number[];
  /** Per source node, what the process holds of it. */
  sources: SourceTaint[];
  /** Changes whenever the answer may differ; used to skip duplicate edge writes. */
  version: number;
}

/** Identity of the process `pid` belongs to; `isProcess` says pid is known to be a process, not a thread. */
export type Identify = (pid: number, isProcess?: boolean) => Pick<ProcessIdentity, 'pid' | 'startTime' | 'ppid' | 'comm'> | undefined;
export type Describe = (node: number) => Omit<TaintFile, 'tier' | 'tags'> | undefined;

const EMPTY: TaintResult = Object.freeze({ tier: 'PUBLIC', tags: [], files: [], nodes: [], sources: [], version: 0 }) as TaintResult;
/** Parent chains deeper than this are cut (a loop in a broken /proc view must not hang us). */
const MAX_CHAIN = 128;

export class TaintTracker {
  /** Live taint by run key (pid:starttime). */
  readonly procs = new Map<string, ProcTaint>();
  /** Runs whose taint changed since the last persist. */
  readonly dirty = new Set<string>();
  private readonly ids = new Map<number, { st: ProcStat; at: number }>();
  /** pid → run of the tainted process holding it, to notice reuse or exit on sight. */
  private readonly byPid = new Map<number, string>();
  /** Runs found dead since the last drain (by prune or on sight). */
  private ended: ProcTaint[] = [];
  private readonly answers = new Map<string, { version: number; at: number; taint: TaintResult }>();
  private version = 1;

  constructor(
    private readonly describe: Describe,
    private readonly ttlMs: number,
    private readonly identifyImpl: Identify = procStat,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /** Identity of the process a task belongs to, trusted for ttlMs. */
  identify(pid: number, isProcess = false): ProcStat | undefined {
    const t = this.clock();
    const hit = this.ids.get(pid);
    if (hit !== undefined && t - hit.at < this.ttlMs) return hit.st;
    const id = this.identifyImpl(pid, isProcess);
    // A fresh look at /proc: if a tainted process held this pid and it is gone (or the
    // pid now names another process), its taint expires now rather than at the sweep.
    const held = this.byPid.get(id?.pid ?? pid);
    if (held !== undefined && (id === undefined || held !== runKeyOf(id.pid, id.startTime))) this.expire(held);
    if (id === undefined) {
      this.ids.delete(pid);
      return undefined;
    }
    const st: ProcStat = { pid: id.pid, startTime: id.startTime, ppid: id.ppid, comm: id.comm, threads: 1 };
    if (this.ids.size > 65_536) this.ids.clear();
    this.ids.set(pid, { st, at: t });
    return st;
  }

  /** Records that process `st` holds data of `src`; true when its taint grew. */
  add(st: ProcStat, src: SourceTaint): boolean {
    const run = runKeyOf(st.pid, st.startTime);
    let p = this.procs.get(run);
    if (p === undefined) {
      p = { run, pid: st.pid, startTime: st.startTime, ppid: st.ppid, sources: new Map() };
      this.procs.set(run, p);
      this.byPid.set(st.pid, run);
    }
    const old = p.sources.get(src.node);
    if (old !== undefined && old.tier === src.tier && sameTags(old.tags, src.tags)) return false;
    p.sources.set(src.node, src);
    this.dirty.add(run);
    this.version++;
    return true;
  }

  /** Restores a persisted process (after a daemon restart); caller checked it is alive. */
  restore(p: ProcTaint): void {
    this.procs.set(p.run, p);
    this.byPid.set(p.pid, p.run);
    this.version++;
  }

  private expire(run: string): void {
    const p = this.procs.get(run);
    if (p === undefined) return;
    this.procs.delete(run);
    this.answers.delete(run);
    if (this.byPid.get(p.pid) === run) this.byPid.delete(p.pid);
    this.dirty.add(run);
    this.ended.push(p);
    this.version++;
  }

  /** Runs that ended since the last call (the store closes them). */
  drainEnded(): ProcTaint[] {
    const out = this.ended;
    this.ended = [];
    return out;
  }

  /** Own taint ∪ ancestors'. A pid that no longer exists has no taint. */
  taintOf(pid: number): TaintResult {
    if (this.procs.size === 0) return EMPTY;
    const st = this.identify(pid);
    if (st === undefined) return EMPTY;
    const run = runKeyOf(st.pid, st.startTime);
    const t = this.clock();
    const cached = this.answers.get(run);
    if (cached !== undefined && cached.version === this.version && t - cached.at < this.ttlMs) return cached.taint;

    const merged = new Map<number, SourceTaint>();
    let inheritedFromAncestor = false;
    let cur: ProcStat | undefined = st;
    for (let depth = 0; cur !== undefined && depth < MAX_CHAIN; depth++) {
      const p = this.procs.get(runKeyOf(cur.pid, cur.startTime));
      if (p !== undefined) {
        for (const s of p.sources.values()) {
          const have = merged.get(s.node);
          if (have === undefined || have.tier !== s.tier || !sameTags(have.tags, s.tags)) {
            merged.set(s.node, have === undefined ? s : { node: s.node, tier: maxTier(have.tier, s.tier), tags: union(have.tags, s.tags), conf: Math.min(have.conf, s.conf) });
          }
        }
        if (depth > 0 && p.sources.size > 0) inheritedFromAncestor = true;
      }
      if (cur.ppid <= 0 || cur.ppid === cur.pid) break;
      cur = this.identify(cur.ppid, true);
    }
    if (inheritedFromAncestor) {
      // Copy the ancestors' taint into the process itself: if the ancestor exits and the
      // child is re-parented to init, the walk would no longer find it.
      for (const s of merged.values()) this.add(st, s);
    }
    const taint = this.build(merged);
    this.answers.set(run, { version: this.version, at: t, taint });
    if (this.answers.size > 65_536) this.answers.clear();
    return taint;
  }

  private build(sources: Map<number, SourceTaint>): TaintResult {
    if (sources.size === 0) return EMPTY;
    const files: TaintFile[] = [];
    const nodes: number[] = [];
    let tier: Tier = 'PUBLIC';
    const tags = new Set<string>();
    for (const s of sources.values()) {
      nodes.push(s.node);
      tier = maxTier(tier, s.tier);
      for (const g of s.tags) tags.add(g);
      const d = this.describe(s.node);
      if (d !== undefined) files.push({ ...d, tier: s.tier, tags: s.tags.slice() });
    }
    // Answers are cached and shared between callers: frozen, so none can change another's.
    for (const f of files) {
      Object.freeze(f.tags);
      Object.freeze(f);
    }
    return Object.freeze({
      tier,
      tags: Object.freeze([...tags].sort()) as string[],
      files: Object.freeze(files) as TaintFile[],
      nodes: Object.freeze(nodes) as number[],
      sources: Object.freeze([...sources.values()]) as SourceTaint[],
      version: this.version,
    });
  }

  /**
   * Drops the taint of processes that exited or whose pid now names another process
   * (checked against /proc without the cache). Returns every run that ended since the
   * last drain, those found on sight included.
   */
  prune(): ProcTaint[] {
    const dead: string[] = [];
    for (const p of this.procs.values()) {
      const now = this.identifyImpl(p.pid, true);
      if (now === undefined || now.startTime !== p.startTime || now.pid !== p.pid) dead.push(p.run);
    }
    for (const run of dead) this.expire(run);
    if (dead.length > 0) this.ids.clear();
    return this.drainEnded();
  }
}

function sameTags(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}

function union(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])].sort();
}
