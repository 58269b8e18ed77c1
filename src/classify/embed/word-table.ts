// Exact lookup of a whole word (as UTF-16 code units) in the vocabulary, keyed by a hash the
// encoder folds in while it reads the word. Most words of real text are vocab entries, and a
// trie walk costs a chain of dependent memory reads per character; the hash costs one multiply
// per character and one probe per word. The trie (vocab-trie.ts) handles the rest.

/** FNV-1a over code units: the encoder starts every word at WORD_HASH_SEED and folds each unit in. */
export const WORD_HASH_SEED = 0x811c9dc5 | 0;

export function foldUnit(hash: number, unit: number): number {
  return Math.imul(hash ^ unit, 0x01000193);
}

// One slot = [hash, id, offset of the key's units in `units`, key length]; one cache line per probe.
const STRIDE = 4;

export class WordTable {
  private readonly slots: Int32Array;
  private readonly units: Uint16Array;
  private readonly mask: number;
  private readonly shift: number;

  constructor(vocab: ReadonlyMap<string, number>) {
    let total = 0;
    for (const key of vocab.keys()) total += key.length;
    let bits = 4;
    // At most half full, so a miss ends after a probe or two.
    while (1 << bits < vocab.size * 2) bits++;
    const size = 1 << bits;
    this.mask = size - 1;
    this.shift = 32 - bits;
    this.slots = new Int32Array(size * STRIDE);
    for (let s = 0; s < size; s++) this.slots[s * STRIDE + 3] = -1;
    this.units = new Uint16Array(total);
    let offset = 0;
    for (const [key, id] of vocab) {
      let hash = WORD_HASH_SEED;
      for (let i = 0; i < key.length; i++) {
        const u = key.charCodeAt(i);
        this.units[offset + i] = u;
        hash = foldUnit(hash, u);
      }
      let s = this.home(hash);
      while (this.slots[s * STRIDE + 3] !== -1) s = (s + 1) & this.mask;
      const at = s * STRIDE;
      this.slots[at] = hash;
      this.slots[at + 1] = id;
      this.slots[at + 2] = offset;
      this.slots[at + 3] = key.length;
      offset += key.length;
    }
  }

  private home(hash: number): number {
    return Math.imul(hash, 0x9e3779b1) >>> this.shift;
  }

  /** Vocab id of word[0..len) whose folded hash is `hash`, or -1. */
  lookup(word: Uint16Array, len: number, hash: number): number {
    const slots = this.slots;
    for (let s = this.home(hash); ; s = (s + 1) & this.mask) {
      const at = s * STRIDE;
      const keyLen = slots[at + 3]!;
      if (keyLen === -1) return -1;
      if (slots[at] !== hash || keyLen !== len) continue;
      const off = slots[at + 2]!;
      let same = true;
      for (let i = 0; i < len; i++) {
        if (this.units[off + i] !== word[i]) {
          same = false;
          break;
        }
      }
      if (same) return slots[at + 1]!;
    }
  }
}
