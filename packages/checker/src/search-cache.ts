/**
 * The memo table of the search (Lowe, "Testing for linearizability", 2017): the set of
 * configurations (linearized-operations bitset, model state) already explored. Reaching a
 * configuration twice means the second visit can add nothing, which is what turns Wing & Gong's
 * exponential search into something that finishes on real histories.
 *
 * Layout, chosen so that millions of entries cost a few flat arrays rather than millions of
 * objects: bitsets live back to back in one `Uint32Array` pool, states in one array, and an
 * open-addressing table of entry numbers is probed by a 32-bit key (Zobrist hash of the bitset
 * mixed with the model's state hash). Keys only select candidates; membership is decided by
 * comparing the bitset words and then `equal` on the states.
 */

const EMPTY = 0;

export class ConfigurationCache<S> {
  /** Words per bitset. */
  private readonly width: number;
  private readonly equal: (a: S, b: S) => boolean;
  /** Open-addressing slots: entry number + 1, or EMPTY. Capacity is a power of two. */
  private slots: Int32Array;
  private shift: number;
  private keys: Int32Array;
  private bits: Uint32Array;
  private readonly states: S[] = [];
  private count = 0;

  constructor(width: number, equal: (a: S, b: S) => boolean) {
    this.width = width;
    this.equal = equal;
    this.slots = new Int32Array(1024);
    this.shift = 32 - 10;
    this.keys = new Int32Array(512);
    this.bits = new Uint32Array(512 * Math.max(1, width));
  }

  /** Number of configurations stored. */
  get size(): number {
    return this.count;
  }

  /**
   * Inserts (bits, state) under `key` unless an equal configuration is present.
   * Returns true if it was inserted (a new configuration), false if it was already there.
   */
  addIfAbsent(key: number, bits: Uint32Array, state: S): boolean {
    const mask = this.slots.length - 1;
    let slot = Math.imul(key, 0x9e3779b1) >>> this.shift;
    for (;;) {
      const entry = this.slots[slot]!;
      if (entry === EMPTY) break;
      if (this.keys[entry - 1] === key && this.sameBits(entry - 1, bits) && this.equal(this.states[entry - 1]!, state)) {
        return false;
      }
      slot = (slot + 1) & mask;
    }
    this.append(key, bits, state);
    this.slots[slot] = this.count;
    if (this.count * 2 > this.slots.length) this.rehash();
    return true;
  }

  private sameBits(entry: number, bits: Uint32Array): boolean {
    const w = this.width;
    const base = entry * w;
    const pool = this.bits;
    for (let i = 0; i < w; i++) if (pool[base + i] !== bits[i]) return false;
    return true;
  }

  private append(key: number, bits: Uint32Array, state: S): void {
    const n = this.count;
    if (n === this.keys.length) {
      const keys = new Int32Array(n * 2);
      keys.set(this.keys);
      this.keys = keys;
      const pool = new Uint32Array(n * 2 * Math.max(1, this.width));
      pool.set(this.bits);
      this.bits = pool;
    }
    this.keys[n] = key;
    this.bits.set(bits, n * this.width);
    this.states.push(state);
    this.count = n + 1;
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const shift = this.shift - 1;
    const mask = slots.length - 1;
    for (let e = 0; e < this.count; e++) {
      let slot = Math.imul(this.keys[e]!, 0x9e3779b1) >>> shift;
      while (slots[slot] !== EMPTY) slot = (slot + 1) & mask;
      slots[slot] = e + 1;
    }
    this.slots = slots;
    this.shift = shift;
  }
}
