// The governed FUSE operations of one mount. Plain passthrough (getattr, readdir, read,
// chmod, …) never reaches JavaScript: native/fuse serves it. What arrives here are the
// questions (may this open/create/write/rename/link/truncate/symlink proceed?) and the
// notices that keep taint, lineage and the handle table current. Each question returns
// 0 / handle bits or a negative errno; the table at the end is the index.
import fs from 'node:fs';
import path from 'node:path';
import { constants as C } from 'node:os';
import type { Classification } from '../classify/types.js';
import { maxTier, tierRank } from '../classify/types.js';
import { processFacts, userName } from './callers.js';
import type { Caller, Governor } from './governor.js';
import { HandleTable, type Handle } from './handles.js';
import { HandleBits } from './native.js';
import type { ClassifierPort, FileRef, LineagePort } from './services.js';
import type { FileLocation, MountView } from './zones.js';
import type { BackgroundClassifier } from './background-classify.js';

const EACCES = -C.errno.EACCES;
const ENOENT = -C.errno.ENOENT;
const O_ACCMODE = 3;
const TAIL_BYTES = 512;

export interface OpAnswer {
  result: number;
  bits?: number;
}

export interface OpsDeps {
  view: MountView;
  /** Layers 2/3 in the background (absent when embeddings are disabled). */
  background?: BackgroundClassifier;
  /** How long a write-class decision waits for pending escalations of what its writer read. */
  settleMs?: number;
  governor: Governor;
  classifier: ClassifierPort;
  lineage: LineagePort;
  log: { warn(obj: object, msg: string): void; debug(obj: object, msg: string): void };
}

export interface OpCounters {
  [op: string]: number;
}

export class GovernedOps {
  readonly handles = new HandleTable();
  readonly counts: OpCounters = {};
  /** Classifications served on open, by "layer/tier", for metrics. */
  readonly classified = new Map<string, number>();

  constructor(private readonly d: OpsDeps) {}

  private count(op: string): void {
    this.counts[op] = (this.counts[op] ?? 0) + 1;
  }

  private ref(loc: FileLocation, st?: { dev: number; ino: number }): FileRef {
    return { path: loc.userPath, sourcePath: loc.sourcePath, mount: loc.mount, zone: loc.zone.name, dev: st?.dev ?? 0, ino: st?.ino ?? 0 };
  }

  /** Content classification joined with what lineage says the file inherited. */
  async classificationOf(loc: FileLocation, st?: fs.Stats): Promise<Classification> {
    const stat = st ?? fs.lstatSync(loc.sourcePath);
    return this.withInherited(loc, stat, await this.contentOf(loc, stat));
  }

  /**
   * What the bytes themselves are (layer 1, or a finished layer-2/3 verdict). Lineage gets
   * this, not the merged view: it applies inheritance itself (so an aggregate can drop).
   * `onUpgrade` hears a later, higher background verdict.
   */
  private async contentOf(loc: FileLocation, stat: fs.Stats, onUpgrade?: (cls: Classification) => void): Promise<Classification | undefined> {
    const content = stat.isFile() ? await this.d.classifier.classifyFile(loc.sourcePath, { stat }) : undefined;
    // An anonymised or aggregated derivative was checked identifier-free when it was made;
    // its header words still read like the records it came from, so layer 2 is not asked
    // and the aggregate rule in lineage decides its tier.
    if (content && this.d.background && !this.d.lineage.node?.(loc.userPath)?.aggregate) {
      return this.d.background.refine(loc.userPath, stat, content, (cls) => onUpgrade?.(cls));
    }
    return content;
  }

  /** Content classification joined with what lineage says the file inherited. */
  private withInherited(loc: FileLocation, stat: fs.Stats, content: Classification | undefined): Classification {
    const inherited = this.d.lineage.inherited(this.ref(loc, stat));
    if (!content) return inherited ?? { tier: 'PUBLIC', tags: [], confidence: 1, layer: 0, reasoning: 'not a regular file', findings: [] };
    if (!inherited || tierRank(inherited.tier) < tierRank(content.tier) || (inherited.tier === content.tier && inherited.tags.every((t) => content.tags.includes(t)))) {
      return content;
    }
    const tags = [...new Set([...content.tags, ...inherited.tags])].sort();
    return {
      ...content,
      tier: maxTier(content.tier, inherited.tier),
      tags,
      reasoning: `${content.reasoning}; inherited ${inherited.tier} from ${inherited.sources.join(', ')}`,
    };
  }

  // --- questions -------------------------------------------------------------------

  async open(c: Caller, rel: string, flags: number, pathFd = -1): Promise<OpAnswer> {
    this.count('open');
    const loc = this.d.view.locate(rel);
    const found = statThrough(loc, pathFd);
    if (!found) return { result: ENOENT };
    const st = found.st;
    const mode = flags & O_ACCMODE;
    const reads = mode === fs.constants.O_RDONLY || mode === fs.constants.O_RDWR;
    const writes = mode === fs.constants.O_WRONLY || mode === fs.constants.O_RDWR || (flags & fs.constants.O_TRUNC) !== 0;
    if (reads && st.isFile()) {
      const ref = this.ref(loc, st);
      // If layer 2 later finds more, the reader's taint is raised after the fact.
      const content = await this.contentOf(found.readable, st, (up) => this.d.lineage.recordRead(c.pid, ref, up));
      const cls = this.withInherited(found.readable, st, content);
      const key = `${cls.layer}/${cls.tier}`;
      this.classified.set(key, (this.classified.get(key) ?? 0) + 1);
      if (content) this.d.lineage.recordRead(c.pid, ref, content);
      const v = this.d.governor.decide({ action: 'read', caller: c, dest: loc, destExists: true, content: null, file: { loc, cls } });
      if (!v.proceed) return { result: EACCES };
    }
    if (writes) {
      await this.settleTaint(c, loc);
      const v = this.d.governor.decide({ action: (flags & fs.constants.O_TRUNC) !== 0 ? 'truncate' : 'open_write', caller: c, dest: loc, destExists: true, content: null });
      if (!v.proceed) return { result: EACCES };
      return { result: 0, bits: this.writeBits(loc) };
    }
    // Read-only: the kernel may keep pages across opens (auto_cache drops them when mtime/size change).
    return { result: 0, bits: HandleBits.KEEP_CACHE };
  }

  async create(c: Caller, rel: string, _flags: number, _mode: number): Promise<OpAnswer> {
    this.count('create');
    const loc = this.d.view.locate(rel);
    const exists = fs.existsSync(loc.sourcePath);
    await this.settleTaint(c, loc);
    const v = this.d.governor.decide({ action: 'create', caller: c, dest: loc, destExists: exists, content: null });
    if (!v.proceed) return { result: EACCES };
    return { result: 0, bits: this.writeBits(loc) };
  }

  /** Lets background escalations of what this writer read finish first (bounded). */
  private async settleTaint(c: Caller, dest: FileLocation): Promise<void> {
    // Governed zones may hold every tier, so a later layer-2 verdict cannot make a write
    // there unsafe: do not make it wait (it is what keeps `cp -r` inside /governed fast).
    if (!this.d.background || dest.zone.kind === 'governed') return;
    const files = this.d.lineage.taintOf(c.pid).files.map((f) => f.path);
    await this.d.background.settle(files, this.d.settleMs ?? 1000);
  }

  /** Writes into zones that may not hold everything are inspected chunk by chunk. */
  private writeBits(loc: FileLocation): number {
    return loc.zone.kind === 'governed' ? 0 : HandleBits.INSPECT_WRITES;
  }

  write(c: Caller, fd: number, offset: number, buf: Buffer): number {
    this.count('write');
    const h = this.handles.get(fd);
    if (!h) return 0; // not ours to judge (opened before a reload); pass through
    if (h.denied) return EACCES;
    h.dirty = true;
    this.noteWriter(c, h);
    const chunk = h.tail.length ? Buffer.concat([h.tail, buf]) : buf;
    const cls = this.d.classifier.classifyBuffer(chunk, { path: h.loc.sourcePath });
    h.tail = Buffer.from(buf.subarray(Math.max(0, buf.length - TAIL_BYTES)));
    const ref = this.ref(h.loc, h);
    // buf is borrowed from the FUSE thread until we answer: lineage gets its own copy.
    this.d.lineage.observeContent(ref, offset, Buffer.from(buf));
    const before = h.written;
    h.written = mergeContent(h.written, cls);
    const copy = this.d.lineage.copyOf(ref);
    const changed = !before || tierRank(h.written.tier) > tierRank(before.tier) || h.written.findings.length > before.findings.length;
    if (!changed && !copy) return 0;
    if (tierRank(h.written.tier) === 0 && h.written.findings.length === 0 && !copy) return 0;
    const v = this.d.governor.decide({
      action: 'write',
      caller: c,
      dest: h.loc,
      destExists: true,
      content: h.written,
      copyOf: copy?.path ?? null,
    });
    if (v.proceed) return 0;
    h.denied = true;
    this.discard(h);
    return EACCES;
  }

  /** A denied write leaves nothing behind: a file this handle created is removed. */
  private discard(h: Handle): void {
    try {
      if (h.created) fs.unlinkSync(h.loc.sourcePath);
      else fs.truncateSync(h.loc.sourcePath, 0);
    } catch (e) {
      this.d.log.warn({ err: String(e), path: h.loc.sourcePath }, 'could not discard a denied write');
    }
  }

  async truncate(c: Caller, rel: string, size: number, fd: number): Promise<OpAnswer> {
    this.count('truncate');
    // ftruncate arrives without a path (b = the handle's descriptor); truncate(2) with a
    // path (b = an O_PATH descriptor, not a handle).
    const h = rel === '' && fd >= 0 ? this.handles.get(fd) : undefined;
    if (rel === '' && !h) return { result: 0 }; // a handle opened before this daemon knew it
    const loc = h ? h.loc : this.d.view.locate(rel);
    if (h?.denied) return { result: EACCES };
    const v = this.d.governor.decide({ action: 'truncate', caller: c, dest: loc, destExists: true, content: null, ...(size === 0 ? {} : {}) });
    return { result: v.proceed ? 0 : EACCES };
  }

  async rename(c: Caller, from: string, to: string, pathFd = -1): Promise<OpAnswer> {
    this.count('rename');
    return this.moveOrLink('rename', c, from, to, pathFd);
  }

  async link(c: Caller, from: string, to: string, pathFd = -1): Promise<OpAnswer> {
    this.count('link');
    return this.moveOrLink('link', c, from, to, pathFd);
  }

  /** Rename and link carry the file's own data, so its classification is the source. */
  private async moveOrLink(action: 'rename' | 'link', c: Caller, from: string, to: string, pathFd: number): Promise<OpAnswer> {
    const src = this.d.view.locate(from);
    const dest = this.d.view.locate(to);
    const found = statThrough(src, pathFd);
    if (!found) return { result: ENOENT };
    const st = found.st;
    if (st.isFile() && this.d.background && dest.zone.kind !== 'governed') {
      await this.classificationOf(found.readable, st); // starts layer 2 if layer 1 is unsure …
      await this.d.background.settle([found.readable.userPath], this.d.settleMs ?? 1000); // … and waits for it
    }
    const cls = st.isFile() ? await this.classificationOf(found.readable, st) : await this.treeClassification(found.readable, st);
    const v = this.d.governor.decide({ action, caller: c, dest, destExists: fs.existsSync(dest.sourcePath), content: null, file: { loc: src, cls } });
    return { result: v.proceed ? 0 : EACCES };
  }

  /** A directory moved into another zone carries every file below it. */
  private async treeClassification(loc: FileLocation, st: fs.Stats): Promise<Classification> {
    const none: Classification = { tier: 'PUBLIC', tags: [], confidence: 1, layer: 0, reasoning: 'no regular files', findings: [] };
    if (!st.isDirectory()) return none;
    let acc = none;
    const walk = async (dir: string, depth: number): Promise<void> => {
      if (depth > 32) return;
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) await walk(p, depth + 1);
        else if (e.isFile()) {
          const rel = path.join(loc.rel, path.relative(loc.sourcePath, p));
          acc = mergeContent(acc, await this.classificationOf(this.d.view.locate(rel)));
        }
      }
    };
    await walk(loc.sourcePath, 0);
    return acc;
  }

  async symlink(c: Caller, linkRel: string, _target: string): Promise<OpAnswer> {
    this.count('symlink');
    // A link holds no data; what is read through it is governed where it points.
    const loc = this.d.view.locate(linkRel);
    const v = this.d.governor.decide({ action: 'symlink', caller: c, dest: loc, destExists: false, content: null });
    return { result: v.proceed ? 0 : EACCES };
  }

  async xattr(_c: Caller, rel: string, name: string): Promise<{ result: number; data?: string }> {
    const loc = this.d.view.locate(rel);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(loc.sourcePath);
    } catch {
      return { result: ENOENT };
    }
    if (!st.isFile()) return { result: -C.errno.ENODATA };
    const cls = await this.classificationOf(loc, st);
    if (name === 'user.lacuna.tier') return { result: 0, data: cls.tier };
    if (name === 'user.lacuna.tags') return { result: 0, data: cls.tags.join(',') };
    return { result: -C.errno.ENODATA };
  }

  // --- notices ---------------------------------------------------------------------

  opened(c: Caller, rel: string, fd: number, flags: number, created: boolean, result: number): void {
    if (result < 0 || fd < 0) return;
    const loc = this.d.view.locate(rel);
    const mode = flags & O_ACCMODE;
    const writable = mode === fs.constants.O_WRONLY || mode === fs.constants.O_RDWR;
    let dev = 0;
    let ino = 0;
    try {
      const st = fs.lstatSync(loc.sourcePath);
      dev = st.dev;
      ino = st.ino;
    } catch {
      /* raced with unlink */
    }
    const proc = processFacts(c.pid);
    const h: Handle = { fd, loc, pid: c.pid, uid: c.uid, gid: c.gid, program: proc.exe, writable, created, dev, ino, written: null, tail: Buffer.alloc(0), dirty: false, denied: false, lastWriterKey: '' };
    this.handles.set(h);
    if (writable) {
      this.d.lineage.recordWrite(c.pid, this.ref(loc, h), created ? 'create' : 'write', { program: proc.exe, uid: c.uid, user: userName(c.uid) });
    }
  }

  /**
   * A write on a non-inspected handle. The writer may not be the process that opened it,
   * and its taint may have grown since its last write: lineage is recorded whenever the
   * (writer, taint size) pair changes, so `cat a b > c` links c to both a and b. The native
   * side sends this only when the writer or the read epoch changed since the handle's last
   * write (the opener's own writes are covered by opened()).
   */
  wrote(c: Caller, fd: number, _bytes: number): void {
    const h = this.handles.get(fd);
    if (!h) return;
    h.dirty = true;
    this.noteWriter(c, h);
  }

  private noteWriter(c: Caller, h: Handle): void {
    const taint = this.d.lineage.taintOf(c.pid);
    const key = `${c.pid}:${taint.files.length}`;
    if (h.lastWriterKey === key) return;
    h.lastWriterKey = key;
    if (taint.files.length === 0) return;
    const proc = processFacts(c.pid);
    this.d.lineage.recordWrite(c.pid, this.ref(h.loc, h), 'write', { program: proc.exe, uid: c.uid, user: userName(c.uid) });
  }

  released(fd: number, written = false): void {
    const h = this.handles.delete(fd);
    if (h && (h.dirty || written)) this.d.classifier.invalidate(h.dev, h.ino);
  }

  done(c: Caller, op: 'rename' | 'link' | 'symlink' | 'truncate', rel: string, rel2: string, result: number): void {
    if (result < 0) return;
    const proc = processFacts(c.pid);
    const meta = { program: proc.exe, uid: c.uid, user: userName(c.uid) };
    if (op === 'rename') {
      const to = this.d.view.locate(rel2);
      let st: fs.Stats | undefined;
      try {
        st = fs.lstatSync(to.sourcePath);
      } catch {
        /* gone already */
      }
      this.d.lineage.recordRename(this.ref(this.d.view.locate(rel), st), this.ref(to, st), meta);
    } else if (op === 'link') {
      const to = this.d.view.locate(rel2);
      try {
        const st = fs.lstatSync(to.sourcePath);
        this.d.lineage.recordWrite(c.pid, this.ref(to, st), 'link', meta);
      } catch {
        /* gone already */
      }
    }
  }

  unlinked(rel: string): void {
    this.d.lineage.recordUnlink(this.ref(this.d.view.locate(rel)));
  }
}

/**
 * lstat of a file for the governed ops. A path inside the mount may be up to PATH_MAX
 * long, so source root + path can exceed it; then the O_PATH descriptor the native layer
 * opened for this request gives a short way to the same file (/proc/self/fd/N).
 * `readable` is the location to classify through.
 */
function statThrough(loc: FileLocation, pathFd: number): { st: fs.Stats; readable: FileLocation } | undefined {
  try {
    return { st: fs.lstatSync(loc.sourcePath), readable: loc };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENAMETOOLONG' || pathFd < 0) return undefined;
  }
  const proc = `/proc/self/fd/${pathFd}`;
  try {
    // An O_PATH descriptor of a symlink stays the symlink; of a file, stat reaches the file.
    return { st: fs.statSync(proc), readable: { ...loc, sourcePath: proc } };
  } catch {
    return undefined;
  }
}

function mergeContent(a: Classification | null, b: Classification): Classification {
  if (!a) return b;
  const findings = new Map(a.findings.map((f) => [f.type, { ...f }]));
  for (const f of b.findings) {
    const have = findings.get(f.type);
    if (have) have.count += f.count;
    else findings.set(f.type, { ...f });
  }
  const stronger = tierRank(b.tier) > tierRank(a.tier) ? b : a;
  return {
    tier: maxTier(a.tier, b.tier),
    tags: [...new Set([...a.tags, ...b.tags])].sort(),
    confidence: Math.max(a.confidence, b.confidence),
    layer: stronger.layer,
    reasoning: stronger.reasoning,
    findings: [...findings.values()],
  };
}
