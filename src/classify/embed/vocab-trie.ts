// The WordPiece vocabulary as a trie over UTF-16 code units, so greedy longest-match-first is
// one walk per piece instead of a Map lookup per candidate substring (each a fresh string).
// The longest vocab key that prefixes word[start..] is exactly the piece BERT's
// longest-match-first loop settles on. Continuation pieces ("##xyz") are the keys below the
// node reached by "#", "#", so one trie serves both kinds.
//
// Layout: a double-array trie. Code units are renumbered into a dense alphabet (most frequent
// first); the child of node s along symbol c is t = base[s] + c, valid when check[t] = s.
// base and check sit side by side, so a step reads one cell it just came from and one other:
// tokenising 64 KiB walks ~50k steps, and a hash table with scattered probes missed the cache.

const EMPTY = -1;
const NO_PARENT = -2;

export class VocabTrie {
  /** The node of the empty prefix. */
  readonly root = 0;
  /** The node of "##" (where continuation pieces start), or -1 if the vocab has none. */
  readonly continuation: number;
  /** Dense symbol of each code unit, 0 for units that occur in no key. */
  private readonly symbols = new Int32Array(65536);
  /** [base, check] per node slot. */
  private cells: Int32Array;
  /** Vocab id of the key ending at each node slot, -1 where none does. */
  private ids: Int32Array;
  private alphabet = 0;

  constructor(vocab: ReadonlyMap<string, number>) {
    const keys = [...vocab.keys()].sort();
    this.renumber(keys);
    this.cells = new Int32Array(2 * 1024).fill(EMPTY);
    this.ids = new Int32Array(1024).fill(-1);
    this.cells[1] = NO_PARENT;
    this.build(keys, vocab);
    const hash = this.child(this.root, 0x23);
    this.continuation = hash < 0 ? -1 : this.child(hash, 0x23);
  }

  /** The node below `node` along code unit `code`, or -1. */
  child(node: number, code: number): number {
    const sym = this.symbols[code]!;
    if (sym === 0) return -1;
    const t = this.cells[2 * node]! + sym;
    return this.cells[2 * t + 1] === node ? t : -1;
  }

  /** Vocab id of the key spelled by the path to `node`, or -1. */
  idAt(node: number): number {
    return this.ids[node]!;
  }

  /** Vocab id of `key`, or -1. */
  get(key: string): number {
    let node = this.root;
    for (let i = 0; i < key.length && node >= 0; i++) node = this.child(node, key.charCodeAt(i));
    return node < 0 ? -1 : this.ids[node]!;
  }

  private renumber(keys: string[]): void {
    const freq = new Map<number, number>();
    for (const k of keys) for (let i = 0; i < k.length; i++) freq.set(k.charCodeAt(i), (freq.get(k.charCodeAt(i)) ?? 0) + 1);
    // Frequent units get small symbols, so most nodes' children cluster in a narrow window.
    [...freq.entries()]
      .sort((a, b) => b[1] - a[1] || a[0] - b[0])
      .forEach(([code], i) => (this.symbols[code] = i + 1));
    this.alphabet = freq.size;
  }

  /** Places every node: keys are sorted, so each node's keys form a run sharing its prefix. */
  private build(keys: string[], vocab: ReadonlyMap<string, number>): void {
    // Work items: node slot, key run [lo, hi), depth.
    const stack: number[] = [this.root, 0, keys.length, 0];
    // Children land at base + symbol ≥ 2: slot 1 is never used, so the search starts past it.
    let firstFree = 2;
    let maxBase = 0;
    const syms: number[] = [];
    const starts: number[] = [];
    while (stack.length > 0) {
      const depth = stack.pop()!;
      const hi = stack.pop()!;
      let lo = stack.pop()!;
      const slot = stack.pop()!;
      if (lo < hi && keys[lo]!.length === depth) {
        this.ids[slot] = vocab.get(keys[lo]!)!;
        lo++;
      }
      if (lo === hi) continue;
      syms.length = 0;
      starts.length = 0;
      for (let i = lo; i < hi; i++) {
        const sym = this.symbols[keys[i]!.charCodeAt(depth)]!;
        if (i === lo || sym !== syms[syms.length - 1]) {
          syms.push(sym);
          starts.push(i);
        }
      }
      starts.push(hi);
      while (firstFree < this.slots() && this.cells[2 * firstFree + 1] !== EMPTY) firstFree++;
      const base = this.findBase(syms, Math.max(1, firstFree - Math.min(...syms)));
      maxBase = Math.max(maxBase, base);
      this.cells[2 * slot] = base;
      for (let k = 0; k < syms.length; k++) {
        const t = base + syms[k]!;
        this.cells[2 * t + 1] = slot;
        stack.push(t, starts[k]!, starts[k + 1]!, depth + 1);
      }
    }
    // Room for base + any symbol, so a lookup never reads past the end.
    this.reserve(maxBase + this.alphabet + 1);
  }

  private slots(): number {
    return this.ids.length;
  }

  /** Smallest base ≥ `from` whose slots for all of `syms` are free (growing the arrays as needed). */
  private findBase(syms: number[], from: number): number {
    const top = Math.max(...syms);
    for (let base = from; ; base++) {
      this.reserve(base + top + 1);
      let free = true;
      for (const s of syms) {
        if (this.cells[2 * (base + s) + 1] !== EMPTY) {
          free = false;
          break;
        }
      }
      if (free) return base;
    }
  }

  private reserve(slots: number): void {
    if (slots <= this.slots()) return;
    let n = this.slots();
    while (n < slots) n *= 2;
    const cells = new Int32Array(2 * n).fill(EMPTY);
    cells.set(this.cells);
    const ids = new Int32Array(n).fill(-1);
    ids.set(this.ids);
    this.cells = cells;
    this.ids = ids;
  }
}
