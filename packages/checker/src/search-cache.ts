/**
 * The memo table of the search (Lowe, "Testing for linearizability", 2017): the set of
 * configurations (linearized-operations set, model state) already explored. Reaching a
 * configuration twice means the second visit can add nothing, which is what turns Wing & Gong's
 * exponential search into something that finishes on real histories.
 *
 * Layout, chosen so that millions of entries cost a few flat arrays rather than millions of
 * objects: an open-addressing table of entry numbers, probed by a 32-bit key (Zobrist hash of
 * the set mixed with the model's state hash); per entry a key, a pool offset and a window; the
 * set's words back to back in one `Uint32Array` pool; states in one array. Keys only select
 * candidates; membership is decided by comparing the words and then `equal` on the states.
 *
 * Sets are stored compactly. Operations are numbered in call order, so a linearized set is
 * nearly a prefix: all-ones words up to some point (the operations long finished), a few mixed
 * words (the concurrent ones), then zeros. An entry keeps only the mixed window (`full` leading
 * all-ones words are implied, as are zeros after `top`), so an entry costs a few words even in a
 * partition of a million operations, and comparing two costs as little.
 *
 * Indeterminate operations (pending forever) are kept in a second set, outside the key, and
 * matched by dominance instead of equality: they may always be left out, so a configuration that
 * placed a superset of them, with the same other operations and state, can only have fewer
 * completions than one already explored. Without that, each of k pending-forever operations
 * would double the configurations from its call to the end of the history.
 */

const EMPTY = 0;
const ALL_ONES = 0xffffffff;

/**
 * The set of operations linearized so far, as bits, with the bookkeeping the cache needs:
 * `full` (leading all-ones words), `top` (one past the last nonzero word) and an incremental
 * Zobrist hash (XOR of a fixed random value per member).
 */
export class LinearizedSet {
  readonly words: Uint32Array;
  /** Invariant: words[0, full) are all ones and words[full] is not (or full = words.length). */
  full = 0;
  /** Invariant: words[top, length) are zero and words[top - 1] is not (or top = 0). */
  top = 0;
  hash = 0;
  private readonly zobrist: Int32Array;

  constructor(size: number) {
    this.words = new Uint32Array(Math.max(1, (size + 31) >>> 5));
    this.zobrist = new Int32Array(size);
    for (let i = 0; i < size; i++) this.zobrist[i] = zobrist(i);
  }

  /** Adds `i` if absent, removes it if present. */
  toggle(i: number): void {
    const w = i >>> 5;
    const words = this.words;
    const v = (words[w]! ^ (1 << (i & 31))) >>> 0;
    words[w] = v;
    this.hash ^= this.zobrist[i]!;
    if (v === ALL_ONES) {
      if (w === this.full) {
        let f = w + 1;
        while (f < words.length && words[f] === ALL_ONES) f++;
        this.full = f;
      }
    } else if (w < this.full) {
      this.full = w;
    }
    if (v !== 0) {
      if (w >= this.top) this.top = w + 1;
    } else if (w === this.top - 1) {
      let t = w;
      while (t > 0 && words[t - 1] === 0) t--;
      this.top = t;
    }
  }

  /** Whether `i` is in the set. */
  has(i: number): boolean {
    return (this.words[i >>> 5]! & (1 << (i & 31))) !== 0;
  }

  /** The hash the set would have with `i` toggled. */
  hashWith(i: number): number {
    return this.hash ^ this.zobrist[i]!;
  }
}

/** A fixed pseudo-random 32-bit value per operation. */
function zobrist(i: number): number {
  let z = Math.imul((i + 1) ^ 0x5bd1e995, 0x9e3779b1);
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) | 0;
}

/** Int32 fields per entry: set window (offset, full, length), then pending-set window (same). */
const FIELDS = 6;

export class ConfigurationCache<S> {
  private readonly equal: (a: S, b: S) => boolean;
  /** Open-addressing slots, one per distinct key: the newest entry number + 1 with that key, or EMPTY. Capacity is a power of two. */
  private slots: Int32Array;
  private shift: number;
  private keys: Int32Array;
  /** FIELDS per entry, see above. */
  private fields: Int32Array;
  private pool: Uint32Array;
  private poolUsed = 0;
  /** Per entry: the next (older) entry number + 1 with the same key, or EMPTY. */
  private nextSame: Int32Array;
  private readonly states: S[] = [];
  private count = 0;
  /** Distinct keys, i.e. occupied slots. */
  private keysUsed = 0;

  constructor(equal: (a: S, b: S) => boolean) {
    this.equal = equal;
    this.slots = new Int32Array(1024);
    this.shift = 32 - 10;
    this.keys = new Int32Array(512);
    this.fields = new Int32Array(512 * FIELDS);
    this.nextSame = new Int32Array(512);
    this.pool = new Uint32Array(2048);
  }

  /** Number of configurations stored. */
  get size(): number {
    return this.count;
  }

  /**
   * Inserts the configuration (set, pending, state) under `key` (a hash of set and state) unless
   * an entry with an equal set and state and a subset of `pending` is present. Returns true if it
   * was inserted (nothing explored dominates it), false otherwise.
   */
  addIfAbsent(key: number, set: LinearizedSet, pending: LinearizedSet, state: S): boolean {
    const mask = this.slots.length - 1;
    let slot = Math.imul(key, 0x9e3779b1) >>> this.shift;
    let head: number;
    for (;;) {
      head = this.slots[slot]!;
      if (head === EMPTY || this.keys[head - 1] === key) break;
      slot = (slot + 1) & mask;
    }
    // Entries with this key form a chain from the slot (several sets of pending operations can
    // share a set and state).
    for (let entry = head; entry !== EMPTY; entry = this.nextSame[entry - 1]!) {
      const e = entry - 1;
      if (this.sameSet(e, set) && this.pendingSubset(e, pending) && this.equal(this.states[e]!, state)) return false;
    }
    this.append(key, set, pending, state);
    this.nextSame[this.count - 1] = head;
    this.slots[slot] = this.count;
    if (head === EMPTY && ++this.keysUsed * 2 > this.slots.length) this.rehash();
    return true;
  }

  private sameSet(e: number, set: LinearizedSet): boolean {
    const f = e * FIELDS;
    const full = set.full;
    const len = set.top > full ? set.top - full : 0;
    if (this.fields[f + 1] !== full || this.fields[f + 2] !== len) return false;
    const base = this.fields[f]!;
    const pool = this.pool;
    const words = set.words;
    for (let i = 0; i < len; i++) if (pool[base + i] !== words[full + i]) return false;
    return true;
  }

  /** Whether the entry's pending set is a subset of `pending`. */
  private pendingSubset(e: number, pending: LinearizedSet): boolean {
    const f = e * FIELDS + 3;
    const base = this.fields[f]!;
    const full = this.fields[f + 1]!;
    const len = this.fields[f + 2]!;
    if (full > pending.full) return false;
    const words = pending.words;
    const pool = this.pool;
    for (let i = 0; i < len; i++) if ((pool[base + i]! & ~words[full + i]!) !== 0) return false;
    return true;
  }

  private store(set: LinearizedSet, f: number): void {
    const full = set.full;
    const len = set.top > full ? set.top - full : 0;
    if (this.poolUsed + len > this.pool.length) {
      const pool = new Uint32Array(Math.max(this.pool.length * 2, this.poolUsed + len));
      pool.set(this.pool.subarray(0, this.poolUsed));
      this.pool = pool;
    }
    const pool = this.pool;
    const words = set.words;
    const base = this.poolUsed;
    for (let i = 0; i < len; i++) pool[base + i] = words[full + i]!;
    this.fields[f] = base;
    this.fields[f + 1] = full;
    this.fields[f + 2] = len;
    this.poolUsed += len;
  }

  private append(key: number, set: LinearizedSet, pending: LinearizedSet, state: S): void {
    const n = this.count;
    if (n === this.keys.length) {
      const keys = new Int32Array(n * 2);
      keys.set(this.keys);
      this.keys = keys;
      const fields = new Int32Array(n * 2 * FIELDS);
      fields.set(this.fields);
      this.fields = fields;
      const nextSame = new Int32Array(n * 2);
      nextSame.set(this.nextSame);
      this.nextSame = nextSame;
    }
    this.keys[n] = key;
    this.store(set, n * FIELDS);
    this.store(pending, n * FIELDS + 3);
    this.states.push(state);
    this.count = n + 1;
  }

  private rehash(): void {
    const old = this.slots;
    const slots = new Int32Array(old.length * 2);
    const shift = this.shift - 1;
    const mask = slots.length - 1;
    for (const head of old) {
      if (head === EMPTY) continue;
      let slot = Math.imul(this.keys[head - 1]!, 0x9e3779b1) >>> shift;
      while (slots[slot] !== EMPTY) slot = (slot + 1) & mask;
      slots[slot] = head;
    }
    this.slots = slots;
    this.shift = shift;
  }
}
