// Typed loader for the native scanner addon (build/Release/lacuna_scanner.node, built from
// native/scanner by node-gyp). Resolved from the repository root so it works from src/ under
// tap and from dist/src/ after tsc. A missing addon is an error that says how to build it.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClassifyError, fromNative } from './errors.js';

/** What the native layer needs of a rule; the TS rule table adds type/category/tier on top. */
export interface NativeRuleSpec {
  id: string;
  pattern: string;
  validator?: string;
  group?: number;
  minEntropy?: number;
  rejectBefore?: string[];
  rejectAfter?: string[];
  /** Labels carried to located matches (type defaults to the id); the scanner does not read them. */
  type?: string;
  category?: string;
}

/** One validated match of locate(): the value the validator confirmed, as byte offsets [start, end). */
export interface LocatedMatch {
  /** Index of the rule in the compiled set. */
  rule: number;
  id: string;
  type: string;
  category: string;
  start: number;
  end: number;
}

/** Per-rule hits of one scan (only rules with validated or rejected candidates appear). */
export interface RawFinding {
  rule: number;
  id: string;
  /** Validated matches. */
  count: number;
  /** Distinct validated values (capped at 1024). */
  distinct: number;
  /** Candidates the validator refused (look-alikes). */
  rejected: number;
  /** 1-based lines of the first five matches; 0 where unknown (binary, after a skipped gap). */
  lines: number[];
  /** The candidate cap was reached in some window: count is a lower bound. */
  saturated: boolean;
}

export interface RuleSet {
  readonly size: number;
  ids(): string[];
}

export interface ScanStream {
  write(buf: Buffer): Promise<void>;
  /** A gap of n unscanned bytes: no match spans it; later line numbers are unknown. */
  skip(n: number): Promise<void>;
  finish(): Promise<{ findings: RawFinding[]; bytesScanned: number }>;
  readonly bytesScanned: number;
}

export interface ScanOptions {
  /** Treat bytes outside printable ASCII as line breaks (scan printable runs only). */
  binary?: boolean;
  /** Stop locating a rule in a 1 MiB window after this many candidates (0 = exact counts). */
  candidateCap?: number;
  /**
   * Search each rule only around the literal factors its pattern requires (default true). The
   * results are the same either way; false runs every rule over all bytes, the reference the
   * tests compare with.
   */
  prefilter?: boolean;
}

/**
 * Per-rule hits as the addon returns them (native/scanner/bindings.h): for each rule with hits,
 * rule, count, distinct, rejected, saturated (0/1), the number of lines, then the lines.
 */
type PackedHits = Float64Array;
const PACKED_HEAD = 6;

interface NativeStream {
  write(buf: Buffer): Promise<void>;
  skip(n: number): Promise<void>;
  finish(): Promise<{ findings: PackedHits; bytesScanned: number }>;
  readonly bytesScanned: number;
}

interface Addon {
  compileRules(specs: NativeRuleSpec[]): RuleSet;
  scanSync(set: RuleSet, buf: Buffer, opts?: ScanOptions): PackedHits;
  scan(set: RuleSet, buf: Buffer, opts?: ScanOptions): Promise<PackedHits>;
  locateSync(set: RuleSet, buf: Buffer, opts?: { binary?: boolean; prefilter?: boolean }): LocatedMatch[];
  createStream(set: RuleSet, opts?: ScanOptions): NativeStream;
  syncMaxBytes: number;
}

/** Rule ids of each compiled set, asked of the addon once per set. */
const idsOfSet = new WeakMap<RuleSet, string[]>();

function ruleIds(set: RuleSet): string[] {
  let ids = idsOfSet.get(set);
  if (!ids) idsOfSet.set(set, (ids = set.ids()));
  return ids;
}

/** RawFinding objects from the packed hits of one scan of `set`. */
function unpack(set: RuleSet, packed: PackedHits): RawFinding[] {
  const ids = ruleIds(set);
  const out: RawFinding[] = [];
  for (let i = 0; i < packed.length; ) {
    const rule = packed[i]!;
    const nlines = packed[i + 5]!;
    const lines: number[] = new Array<number>(nlines);
    for (let k = 0; k < nlines; k++) lines[k] = packed[i + PACKED_HEAD + k]!;
    out.push({ rule, id: ids[rule]!, count: packed[i + 1]!, distinct: packed[i + 2]!, rejected: packed[i + 3]!, lines, saturated: packed[i + 4] !== 0 });
    i += PACKED_HEAD + nlines;
  }
  return out;
}

/** The repository root: the nearest ancestor of this module holding binding.gyp. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'binding.gyp'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new ClassifyError('scanner_unavailable', 'cannot find the lacuna-fs root (no binding.gyp above ' + fileURLToPath(import.meta.url) + ')');
    dir = up;
  }
}

let addon: Addon | undefined;

function load(): Addon {
  if (addon) return addon;
  const root = repoRoot();
  const file = join(root, 'build', 'Release', 'lacuna_scanner.node');
  if (!existsSync(file)) {
    throw new ClassifyError(
      'scanner_unavailable',
      `native scanner not built: ${file} is missing; run \`npm run build:native\` (node-gyp rebuild --nodedir=/usr) in ${root}`,
    );
  }
  try {
    addon = createRequire(import.meta.url)(file) as Addon;
  } catch (err) {
    throw new ClassifyError('scanner_unavailable', `native scanner failed to load from ${file}: ${(err as Error).message}; rebuild it with \`npm run build:native\``);
  }
  return addon;
}

/** Compiles rules into one immutable RE2::Set-backed rule set; throws ClassifyError(rule_invalid) naming the rule. */
export function compileRules(specs: NativeRuleSpec[]): RuleSet {
  const a = load();
  try {
    return a.compileRules(specs);
  } catch (err) {
    throw fromNative(err, 'rule_invalid');
  }
}

/** Synchronous scan for small buffers (at most syncMaxBytes()); larger input throws input_too_large. */
export function scanSync(set: RuleSet, buf: Buffer, opts?: ScanOptions): RawFinding[] {
  try {
    return unpack(set, load().scanSync(set, buf, opts));
  } catch (err) {
    throw fromNative(err);
  }
}

/** Scans on a libuv worker; the buffer is pinned until the promise settles. */
export async function scan(set: RuleSet, buf: Buffer, opts?: ScanOptions): Promise<RawFinding[]> {
  try {
    return unpack(set, await load().scan(set, buf, opts));
  } catch (err) {
    throw fromNative(err);
  }
}

/**
 * Every validated match in buf (at most syncMaxBytes(), else input_too_large), sorted by start:
 * after validators and reject-before/after context, with no candidate cap. Offsets cover the
 * value a rule's validator looks at (its capture group, or the whole match): the address of an
 * email, the password after `password=`, the first base64 line of a PEM body.
 */
export function locate(set: RuleSet, buf: Buffer, opts?: { binary?: boolean; prefilter?: boolean }): LocatedMatch[] {
  try {
    return load().locateSync(set, buf, opts);
  } catch (err) {
    throw fromNative(err);
  }
}

/** A streaming scanner in bounded memory; await each call before the next (else scanner_busy). */
export function createStream(set: RuleSet, opts?: ScanOptions): ScanStream {
  const s = load().createStream(set, opts);
  const wrap = async <T>(f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (err) {
      throw fromNative(err);
    }
  };
  return {
    write: (buf) => wrap(() => s.write(buf)),
    skip: (n) => wrap(() => s.skip(n)),
    finish: () =>
      wrap(async () => {
        const r = await s.finish();
        return { findings: unpack(set, r.findings), bytesScanned: r.bytesScanned };
      }),
    get bytesScanned() {
      return s.bytesScanned;
    },
  };
}

export function syncMaxBytes(): number {
  return load().syncMaxBytes;
}
