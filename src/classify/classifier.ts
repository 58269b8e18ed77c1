// createClassifier: the layer-1 pipeline the daemon calls. classifyBuffer is synchronous for
// the hot path; classifyFile streams a file through the native scanner within a byte budget
// (head and tail of huge files), caches by (dev, ino, size, mtime) and only then, off the
// synchronous path, lets the escalation hook (layers 2/3) revise a non-decisive result.
import { open, stat as statFile } from 'node:fs/promises';
import type { BigIntStats, Stats } from 'node:fs';
import { detectBinary, type BinaryInfo } from './binary.js';
import { ClassificationCache } from './cache.js';
import { columnEvidence } from './columns.js';
import { ClassifyError } from './errors.js';
import { globToRegExp } from './glob.js';
import { compileRules, createStream, scanSync, syncMaxBytes, type RawFinding, type RuleSet } from './native.js';
import { buildRuleTable, loadBuiltin, toNative, type Rule, type RuleSpec } from './rules.js';
import { applyPathRules, DECISIVE, score } from './scoring.js';
import { maxTier, tierRank, type Classification, type Tier } from './types.js';

export interface PathRule {
  glob: string;
  minTier: Tier;
  tags?: string[];
}

export interface ClassifierOptions {
  /** User rules from config, compiled by RE2 with the built-ins (throws ClassifyError rule_invalid naming the rule). */
  extraRules?: RuleSpec[];
  /** Floors by source path, e.g. { glob: '/srv/data/finance/**', minTier: 'INTERNAL' }. */
  pathRules?: PathRule[];
  /** Per-file byte budget: larger files are scanned as head + tail halves and marked partial. Default 4 MiB; 0 = no limit. */
  maxScanBytes?: number;
  /** Cached file classifications (entries). Default 10000. */
  cacheSize?: number;
  /**
   * Count every match (slower on dense data). By default a rule stops being located in a
   * 1 MiB window after CANDIDATE_CAP candidates there, and its count reads "at least N".
   */
  exactCounts?: boolean;
  /**
   * Layers 2/3. Called only when layer 1 is not decisive (confidence < DECISIVE), never on the
   * synchronous path. `text` is the scanned head of the content (at most 1 MiB).
   */
  escalate?: (l1: Classification, text: Buffer, ctx: { path?: string }) => Promise<Classification | undefined>;
}

export interface Classifier {
  classifyBuffer(buf: Buffer, ctx?: { path?: string }): Classification;
  classifyFile(path: string, ctx?: { stat?: Stats | BigIntStats }): Promise<Classification>;
  invalidate(dev: number | bigint, ino: number | bigint): void;
  stats(): { cacheSize: number; hits: number; misses: number; inflight: number; rules: number };
  /** The compiled rule table (ids, types, categories), for `lacuna-fs classify --rules` and docs. */
  rules(): readonly Rule[];
}

export const DEFAULT_MAX_SCAN_BYTES = 4 * 1024 * 1024;
/** Candidates per rule per 1 MiB window before the scanner stops locating that rule there. */
export const CANDIDATE_CAP = 64;
const CHUNK = 1024 * 1024;
const ESCALATION_TEXT = 1024 * 1024;

function version(st: Stats | BigIntStats): string {
  const ns = (st as BigIntStats).mtimeNs;
  return `${st.size}:${ns !== undefined ? ns : `ms${st.mtimeMs}`}`;
}

/**
 * A scanner failure (out of memory, inconsistent state) must not read as "nothing found":
 * the content is treated as PROPRIETARY, with the reason, and the result is not cached.
 */
export function failClosed(err: ClassifyError): Classification {
  return {
    tier: 'PROPRIETARY',
    tags: ['UNCLASSIFIED'],
    confidence: 0,
    layer: 1,
    reasoning: `Classification failed (${err.code}: ${err.message}); treated as PROPRIETARY until it can be classified.`,
    findings: [],
    partial: true,
  };
}

const isScannerFailure = (e: unknown): e is ClassifyError => e instanceof ClassifyError && e.code.startsWith('scanner_') && e.code !== 'scanner_unavailable';

/**
 * Layer 1's result revised by an escalated one (layers 2/3): the escalated answer replaces it
 * when at least as restrictive (tags and findings united, layer 1's reasoning kept); it never
 * lowers the tier. `up` undefined keeps layer 1.
 */
export function combineEscalated(l1: Classification, up: Classification | undefined): Classification {
  if (!up) return l1;
  if (tierRank(up.tier) < tierRank(l1.tier)) {
    return { ...l1, tags: [...new Set([...l1.tags, ...up.tags])].sort(), reasoning: `${l1.reasoning} Layer ${up.layer} suggested ${up.tier}; kept the more restrictive layer-1 tier.` };
  }
  return {
    ...up,
    tier: maxTier(up.tier, l1.tier),
    tags: [...new Set([...l1.tags, ...up.tags])].sort(),
    findings: [...l1.findings, ...up.findings.filter((f) => !l1.findings.some((g) => g.type === f.type && g.category === f.category))],
    reasoning: `${up.reasoning} (Layer 1: ${l1.reasoning})`,
    ...(l1.partial || up.partial ? { partial: true } : {}),
  };
}

export function createClassifier(opts: ClassifierOptions = {}): Classifier {
  const table = buildRuleTable(opts.extraRules);
  const set: RuleSet = compileRules(table.map(toNative));
  const dict = loadBuiltin().columns;
  const budget = opts.maxScanBytes === undefined ? DEFAULT_MAX_SCAN_BYTES : opts.maxScanBytes <= 0 ? Infinity : opts.maxScanBytes;
  const syncMax = syncMaxBytes();
  const candidateCap = opts.exactCounts ? 0 : CANDIDATE_CAP;
  const paths = (opts.pathRules ?? []).map((p) => {
    let re: RegExp;
    try {
      re = globToRegExp(p.glob);
    } catch (err) {
      throw new ClassifyError('path_rule_invalid', `path rule ${p.glob}: ${(err as Error).message}`);
    }
    return { re, glob: p.glob, minTier: p.minTier, tags: p.tags ?? [] };
  });
  const cache = new ClassificationCache(opts.cacheSize ?? 10000);
  const inflight = new Map<string, { promise: Promise<Classification>; stale: boolean }>();

  const withPath = (c: Classification, path: string | undefined): Classification =>
    path === undefined ? c : applyPathRules(c, paths.filter((p) => p.re.test(path)));

  const merge = (raw: RawFinding[][]): RawFinding[] => {
    const byRule = new Map<number, RawFinding>();
    for (const list of raw)
      for (const f of list) {
        const m = byRule.get(f.rule);
        if (!m) byRule.set(f.rule, { ...f, lines: [...f.lines] });
        else {
          m.count += f.count;
          m.distinct += f.distinct;
          m.rejected += f.rejected;
          m.lines.push(...f.lines);
          m.saturated = m.saturated || f.saturated;
        }
      }
    return [...byRule.values()];
  };

  function classifyBuffer(buf: Buffer, ctx: { path?: string } = {}): Classification {
    try {
      return classifyBufferL1(buf, ctx);
    } catch (err) {
      if (isScannerFailure(err)) return withPath(failClosed(err), ctx.path);
      throw err;
    }
  }

  function classifyBufferL1(buf: Buffer, ctx: { path?: string }): Classification {
    const bin: BinaryInfo = detectBinary(buf);
    const partial = buf.length > budget;
    const half = partial ? Math.floor(budget / 2) : buf.length;
    const parts = partial ? [buf.subarray(0, half), buf.subarray(buf.length - half)] : [buf];
    const raws: RawFinding[][] = [];
    for (const [i, p] of parts.entries()) {
      // Slices above the sync limit are scanned in sync-sized pieces; a piece boundary can split
      // a match, so classifyFile (streaming, overlap-aware) is the path for big content.
      for (let off = 0; off < p.length || off === 0; off += syncMax) {
        const r = scanSync(set, p.subarray(off, off + syncMax), { binary: bin.binary, candidateCap });
        // Lines after the first piece (or in the tail) are not file lines: mark them unknown.
        raws.push(i === 0 && off === 0 ? r : r.map((f) => ({ ...f, lines: f.lines.map(() => 0) })));
        if (p.length === 0) break;
      }
    }
    const c = score({
      raw: merge(raws),
      rules: table,
      columns: bin.binary ? undefined : columnEvidence(buf, dict, ctx.path),
      binary: bin,
      bytesScanned: partial ? 2 * half : buf.length,
      totalBytes: buf.length,
      partial,
    });
    return withPath(c, ctx.path);
  }

  async function scanFile(path: string, size: number): Promise<{ l1: Classification; head: Buffer }> {
    const fh = await open(path, 'r');
    try {
      const partial = size > budget;
      const headBytes = partial ? Math.floor(budget / 2) : Infinity;
      let pos = 0;
      let first: Buffer | undefined;
      let stream: ReturnType<typeof createStream> | undefined;
      let bin: BinaryInfo = { binary: false };
      const headKeep: Buffer[] = [];
      let kept = 0;
      const feed = async (chunk: Buffer) => {
        if (!stream) {
          first = chunk;
          bin = detectBinary(chunk);
          stream = createStream(set, { binary: bin.binary, candidateCap });
        }
        if (kept < ESCALATION_TEXT) {
          headKeep.push(chunk.subarray(0, ESCALATION_TEXT - kept));
          kept += Math.min(chunk.length, ESCALATION_TEXT - kept);
        }
        await stream.write(chunk);
      };
      // Head: up to headBytes (or to EOF for files within budget; the file may have grown).
      while (pos < headBytes) {
        const want = Math.min(CHUNK, headBytes - pos);
        const buf = Buffer.allocUnsafe(want);
        const { bytesRead } = await fh.read(buf, 0, want, pos);
        if (bytesRead === 0) break;
        pos += bytesRead;
        await feed(bytesRead === want ? buf : buf.subarray(0, bytesRead));
      }
      let scanned = pos;
      if (partial && stream) {
        const tailStart = Math.max(pos, size - Math.floor(budget / 2));
        await stream.skip(tailStart - pos);
        let tpos = tailStart;
        while (tpos < size) {
          const want = Math.min(CHUNK, size - tpos);
          const buf = Buffer.allocUnsafe(want);
          const { bytesRead } = await fh.read(buf, 0, want, tpos);
          if (bytesRead === 0) break;
          tpos += bytesRead;
          await stream.write(bytesRead === want ? buf : buf.subarray(0, bytesRead));
        }
        scanned += tpos - tailStart;
      }
      const out = stream ? await stream.finish() : { findings: [], bytesScanned: 0 };
      const head = Buffer.concat(headKeep);
      const l1 = score({
        raw: out.findings,
        rules: table,
        columns: first && !bin.binary ? columnEvidence(head, dict, path) : undefined,
        binary: bin,
        bytesScanned: scanned,
        totalBytes: Math.max(size, pos),
        partial,
      });
      return { l1, head };
    } finally {
      await fh.close();
    }
  }

  async function escalateIfNeeded(l1: Classification, head: Buffer, path: string): Promise<Classification> {
    if (!opts.escalate || l1.confidence >= DECISIVE) return l1;
    let up: Classification | undefined;
    try {
      up = await opts.escalate(l1, head, { path });
    } catch (err) {
      return { ...l1, reasoning: `${l1.reasoning} Escalation failed (${(err as Error).message}); layer-1 result kept.` };
    }
    return combineEscalated(l1, up);
  }

  async function classifyFile(path: string, ctx: { stat?: Stats | BigIntStats } = {}): Promise<Classification> {
    const st = ctx.stat ?? (await statFile(path, { bigint: true }));
    if (!st.isFile()) throw new ClassifyError('not_regular_file', `${path} is not a regular file; only regular files are classified`);
    const key = ClassificationCache.key(st.dev, st.ino);
    const ver = version(st);
    const hit = cache.get(key, ver);
    if (hit) return withPath(hit, path);
    const running = inflight.get(key);
    if (running && !running.stale) return withPath(await running.promise, path);
    const entry = { promise: undefined as unknown as Promise<Classification>, stale: false };
    entry.promise = (async () => {
      try {
        let scanned: { l1: Classification; head: Buffer };
        try {
          scanned = await scanFile(path, Number(st.size));
        } catch (err) {
          if (isScannerFailure(err)) return failClosed(err);
          throw err;
        }
        const c = await escalateIfNeeded(scanned.l1, scanned.head, path);
        if (!entry.stale) cache.set(key, ver, c);
        return c;
      } finally {
        if (inflight.get(key) === entry) inflight.delete(key);
      }
    })();
    inflight.set(key, entry);
    return withPath(await entry.promise, path);
  }

  return {
    classifyBuffer,
    classifyFile,
    invalidate(dev, ino) {
      const key = ClassificationCache.key(dev, ino);
      cache.delete(key);
      const r = inflight.get(key);
      if (r) {
        r.stale = true;
        inflight.delete(key);
      }
    },
    stats: () => ({ cacheSize: cache.size, hits: cache.hits, misses: cache.misses, inflight: inflight.size, rules: table.length }),
    rules: () => table,
  };
}
