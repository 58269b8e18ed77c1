// Content-addressed cache of expensive layer results (layer 2 embeddings verdicts, layer 3
// answers) in LMDB, so a given content is classified by an expensive layer once, across
// restarts. Keys name the layer, the model fingerprint and the sha256 of the bytes the layer
// saw; failures and fallbacks are never stored, so a recovered endpoint gets asked again.

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

/** LMDB-backed when `dir` is given; otherwise a bounded in-memory map (tests, one-shot CLI runs). */
export function openResultCache(dir?: string, memoryEntries = 10_000): ResultCache {
  if (!dir) {
    const m = new Map<string, unknown>();
    return {
      persistent: false,
      get: <T>(k: string) => m.get(k) as T | undefined,
      async put(k, v) {
        if (m.size >= memoryEntries) m.delete(m.keys().next().value as string);
        m.set(k, v);
      },
      async close() {
        m.clear();
      },
    };
  }
  mkdirSync(dir, { recursive: true });
  const db: RootDatabase = open({ path: dir, compression: false });
  return {
    persistent: true,
    get: <T>(k: string) => db.get(k) as T | undefined,
    async put(k, v) {
      await db.put(k, v);
    },
    close: () => db.close(),
  };
}
