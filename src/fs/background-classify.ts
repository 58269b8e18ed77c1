// Layers 2 and 3 off the open path. An open is answered with the layer-1 result; when
// layer 1 is not decisive, the file's head is escalated in the background. The result
// replaces layer 1 for that file version and re-taints every process that read it
// meanwhile. A write-class decision first waits (bounded) for the escalations of the
// files its writer read, so nothing leaves on a stale layer-1 verdict, while reads (the
// common case: ls, cat, tar) never wait for a model.
import fs from 'node:fs';
import type { Classification } from '../classify/types.js';
import { tierRank } from '../classify/types.js';

export type EscalateHook = (l1: Classification, text: Buffer, ctx: { path?: string }) => Promise<Classification | undefined>;

interface Entry {
  key: string;
  promise: Promise<void>;
  readers: Array<(cls: Classification) => void>;
}

const MAX_RESULTS = 50_000;

/**
 * File kinds layer 2 is not asked about by default: source code and machine formats. The
 * shipped model was trained on office prose, and code is outside what it knows (it would
 * call a TypeScript declaration file "PROPRIETARY"); layer 1 still scans these files for
 * keys and identifiers. `classify.escalation.skipExtensions` replaces the list.
 */
export const DEFAULT_SKIP_EXTENSIONS = [
  '.c', '.cc', '.cpp', '.cs', '.css', '.cts', '.go', '.h', '.hpp', '.html', '.java', '.js', '.json', '.jsx', '.kt', '.lock', '.map',
  '.mjs', '.cjs', '.mts', '.php', '.pl', '.py', '.rb', '.rs', '.scss', '.sh', '.sql', '.swift', '.toml', '.ts', '.tsx', '.xml', '.yaml', '.yml', '.wasm',
];

export class BackgroundClassifier {
  /** dev:ino:size:mtimeNs → the escalated classification of that file version. */
  private readonly results = new Map<string, Classification>();
  /** source path → the escalation under way for it. */
  private readonly pending = new Map<string, Entry>();
  escalated = 0;
  upgraded = 0;
  failed = 0;

  private readonly skip: Set<string>;

  constructor(
    private readonly escalate: EscalateHook,
    private readonly headBytes: number,
    private readonly onError: (err: unknown) => void,
    skipExtensions: string[] = DEFAULT_SKIP_EXTENSIONS,
  ) {
    this.skip = new Set(skipExtensions.map((e) => (e.startsWith('.') ? e : `.${e}`).toLowerCase()));
  }

  private skipped(path: string): boolean {
    const base = path.slice(path.lastIndexOf('/') + 1).toLowerCase();
    const dot = base.lastIndexOf('.');
    return dot > 0 && this.skip.has(base.slice(dot));
  }

  private static key(st: fs.Stats): string {
    return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
  }

  /**
   * The best classification known now for this file version: an earlier escalation's
   * result, or layer 1 (starting an escalation when layer 1 is not decisive). `onUpgrade`
   * runs if a pending escalation later raises the tier.
   */
  refine(path: string, st: fs.Stats, l1: Classification, onUpgrade: (cls: Classification) => void): Classification {
    const key = BackgroundClassifier.key(st);
    const known = this.results.get(key);
    if (known) return known;
    if (l1.layer !== 1 || !st.isFile() || st.size === 0 || this.skipped(path)) return l1;
    const running = this.pending.get(path);
    if (running && running.key === key) {
      running.readers.push(onUpgrade);
      return l1;
    }
    const entry: Entry = { key, readers: [onUpgrade], promise: Promise.resolve() };
    entry.promise = this.run(path, key, l1, entry);
    this.pending.set(path, entry);
    return l1;
  }

  private async run(path: string, key: string, l1: Classification, entry: Entry): Promise<void> {
    try {
      const head = await readHead(path, this.headBytes);
      this.escalated++;
      const up = await this.escalate(l1, head, { path });
      const result = up ?? l1;
      if (this.results.size >= MAX_RESULTS) this.results.delete(this.results.keys().next().value!);
      this.results.set(key, result);
      if (tierRank(result.tier) > tierRank(l1.tier)) {
        this.upgraded++;
        for (const r of entry.readers) r(result);
      }
    } catch (e) {
      this.failed++;
      this.onError(e);
    } finally {
      if (this.pending.get(path) === entry) this.pending.delete(path);
    }
  }

  /** Waits up to `timeoutMs` for the escalations of these source paths. */
  async settle(paths: string[], timeoutMs: number): Promise<void> {
    const waits = paths.map((p) => this.pending.get(p)?.promise).filter((p): p is Promise<void> => Boolean(p));
    if (waits.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(waits), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    if (timer) clearTimeout(timer);
  }

  stats(): { escalated: number; upgraded: number; failed: number; pending: number; cached: number } {
    return { escalated: this.escalated, upgraded: this.upgraded, failed: this.failed, pending: this.pending.size, cached: this.results.size };
  }
}

async function readHead(path: string, bytes: number): Promise<Buffer> {
  const fh = await fs.promises.open(path, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}
