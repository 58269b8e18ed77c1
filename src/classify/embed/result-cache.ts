// Content-addressed cache of expensive layer results (layer 2 embeddings verdicts, layer 3
// answers) in LMDB, so a given content is classified by an expensive layer once, across
// restarts. Keys name the layer, the model fingerprint and the sha256 of the bytes the layer
// saw; failures and fallbacks are never stored, so a recovered endpoint gets asked again.
// Bounded: beyond maxEntries the oldest entries are pruned when the cache is opened.

import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { open, type RootDatabase } from 'lmdb';

export interface ResultCache {
  get<T>(key: string): T | undefined;
  put(key: string, value: unknown): Promise<void>;
  readonly persistent: boolean;
  close(): Promise<void>;
}

export function contentKey(...parts: (string | Buffer)[]): string {
  const h = createHash('sha256');
  for (const p of parts) {
    h.update(typeof p === 'string' ? p : p);
    // Separator so ("ab","c") and ("a","bc") hash differently.
    h.update('\u0000');
  }
  return h.digest('hex');
}

interface Stored {
  v: unknown;
  /** Insertion time (ms): pruning drops the oldest first. */
  at: number;
}

/** LMDB-backed when `dir` is given; otherwise a bounded in-memory map (tests, one-shot CLI runs). */
export function openResultCache(dir?: string, maxEntries = 10_000): ResultCache {
  if (!dir) {
    const m = new Map<string, unknown>();
    return {
      persistent: false,
      get: <T>(k: string) => m.get(k) as T | undefined,
      async put(k, v) {
        if (m.size >= maxEntries) m.delete(m.keys().next().value as string);
        m.set(k, v);
      },
      async close() {
        m.clear();
      },
    };
  }
  mkdirSync(dir, { recursive: true });
  const db: RootDatabase<Stored, string> = open<Stored, string>({ path: dir, compression: false });
  const pruning = prune(db, maxEntries);
  return {
    persistent: true,
    get: <T>(k: string) => db.get(k)?.v as T | undefined,
    async put(k, v) {
      await db.put(k, { v, at: Date.now() });
    },
    async close() {
      await pruning;
      await db.close();
    },
  };
}

/** Drops the oldest entries down to 90 % of maxEntries; runs once per open, off the hot path. */
async function prune(db: RootDatabase<Stored, string>, maxEntries: number): Promise<number> {
  const count = db.getCount();
  if (count <= maxEntries) return 0;
  await new Promise((r) => setImmediate(r));
  const entries: { key: string; at: number }[] = [];
  for (const { key, value } of db.getRange()) entries.push({ key, at: value?.at ?? 0 });
  entries.sort((a, b) => a.at - b.at);
  const drop = entries.slice(0, count - Math.floor(maxEntries * 0.9));
  await db.transaction(() => {
    for (const e of drop) db.remove(e.key);
  });
  return drop.length;
}
