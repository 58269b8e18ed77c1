// Classification cache keyed by file identity (dev, ino) and validated by content version
// (size, mtime in ns): a changed file misses, and `invalidate` drops an entry on write.
// Least recently used entries go first once `capacity` is reached.
import type { Classification } from './types.js';

interface Entry {
  version: string;
  value: Classification;
}

export class ClassificationCache {
  private readonly map = new Map<string, Entry>();
  hits = 0;
  misses = 0;

  constructor(private readonly capacity: number) {}

  static key(dev: number | bigint, ino: number | bigint): string {
    return `${dev}:${ino}`;
  }

  get(key: string, version: string): Classification | undefined {
    const e = this.map.get(key);
    if (e && e.version === version) {
      // Map iteration order is insertion order: re-inserting marks the entry most recent.
      this.map.delete(key);
      this.map.set(key, e);
      this.hits++;
      return e.value;
    }
    this.misses++;
    return undefined;
  }

  set(key: string, version: string, value: Classification): void {
    if (this.capacity <= 0) return;
    this.map.delete(key);
    this.map.set(key, { version, value });
    while (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value as string);
  }

  delete(key: string): void {
    this.map.delete(key);
  }

  get size(): number {
    return this.map.size;
  }
}
