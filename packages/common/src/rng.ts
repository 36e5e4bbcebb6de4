/**
 * Seeded randomness. Everything random in mrkv (election timeouts, backoff jitter, fault
 * injection) takes an `Rng`, so a seed replays a run exactly. The generator is xoshiro128**
 * seeded through splitmix32: fast, 128-bit state, good statistical quality, no allocation.
 */

export interface Rng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). `n` must be a positive integer ≤ 2^32. */
  nextInt(n: number): number;
  /** An integer in [lo, hi). */
  range(lo: number, hi: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** A new, independent generator derived from this one (for sub-components). */
  fork(): Rng;
}

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** xoshiro128** with a splitmix32-expanded seed. Same seed, same sequence, on every platform. */
export class SeededRng implements Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    const sm = splitmix32(seed ^ Math.floor(seed / 0x1_0000_0000));
    this.a = sm();
    this.b = sm();
    this.c = sm();
    this.d = sm();
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** The next raw 32-bit unsigned value. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.b << 9) >>> 0;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    this.a >>>= 0;
    this.b >>>= 0;
    this.c >>>= 0;
    return result;
  }

  next(): number {
    return this.nextU32() / 0x1_0000_0000;
  }

  nextInt(n: number): number {
    if (!(n > 0) || !Number.isInteger(n) || n > 0x1_0000_0000) {
      throw new RangeError(`Rng.nextInt: n must be an integer in (0, 2^32], got ${n}`);
    }
    return Math.floor(this.next() * n);
  }

  range(lo: number, hi: number): number {
    if (!(hi > lo)) throw new RangeError(`Rng.range: need lo < hi, got [${lo}, ${hi})`);
    return lo + this.nextInt(hi - lo);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  fork(): Rng {
    return new SeededRng(this.nextU32() ^ (this.nextU32() * 0x10000));
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
