/**
 * Key choosers: which existing key an operation touches. YCSB's three request distributions.
 *
 * - `uniform`: every key equally likely.
 * - `zipfian`: YCSB's ZipfianGenerator (Gray et al., "Quickly Generating Billion-Record Synthetic
 *   Databases", SIGMOD 1994), constant θ = 0.99: rank 0 is the hottest key. YCSB scrambles ranks
 *   with a hash so hot keys do not sit together; here key `i`'s bytes are already hashed
 *   (keys.ts), so rank `r` is simply key `r` and hot keys are spread over the key space and regions.
 * - `latest`: YCSB's SkewedLatestGenerator (workload D): zipfian over recency, the most recently
 *   inserted key hottest; the key count grows while the run inserts.
 */
import type { Rng } from '@mrkv/common';
import { BenchCodes, BenchError } from './errors.js';

/** The request distributions the harness knows. */
export const DISTRIBUTIONS = ['uniform', 'zipfian', 'latest'] as const;
/** One of {@link DISTRIBUTIONS}. */
export type Distribution = (typeof DISTRIBUTIONS)[number];

/** YCSB's default Zipfian constant. */
export const ZIPFIAN_THETA = 0.99;

/** Terms of ζ(n, θ) summed one by one; above this the tail uses Euler–Maclaurin. */
const EXACT_TERMS = 100_000;

/**
 * ζ(n, θ) = Σ_{i=1..n} i^−θ. Exact up to {@link EXACT_TERMS} terms; beyond, the tail is the
 * Euler–Maclaurin approximation (integral + end corrections), accurate to ~1e−12 relative, so a
 * zipfian over 2^32 keys costs no more to set up than one over 10^5.
 */
export function zeta(n: number, theta: number): number {
  const m = Math.min(n, EXACT_TERMS);
  let sum = 0;
  for (let i = 1; i <= m; i++) sum += 1 / Math.pow(i, theta);
  if (n <= m) return sum;
  const f = (x: number) => Math.pow(x, -theta);
  const df = (x: number) => -theta * Math.pow(x, -theta - 1);
  const integral = (Math.pow(n, 1 - theta) - Math.pow(m, 1 - theta)) / (1 - theta);
  return sum + integral + (f(n) - f(m)) / 2 + (df(n) - df(m)) / 12;
}

/**
 * Draws ranks in [0, n) with P(rank r) ∝ 1/(r+1)^θ; `n` may grow (for `latest`). Ranks 0 and 1
 * are exact; beyond, Gray et al.'s closed form is an approximation (YCSB's generator has the same
 * shape), off by up to ~20% for single low ranks and far less over bands of ranks.
 */
export class ZipfianGenerator {
  private n: number;
  private zetan: number;
  private eta: number;
  private readonly alpha: number;
  private readonly zeta2: number;
  private readonly theta: number;

  constructor(
    n: number,
    private readonly rng: Rng,
    theta = ZIPFIAN_THETA,
  ) {
    if (!Number.isInteger(n) || n < 1) throw new BenchError(BenchCodes.INVALID_ARGUMENT, `zipfian: item count must be a positive integer, got ${n}`);
    this.theta = theta;
    this.alpha = 1 / (1 - theta);
    this.zeta2 = zeta(2, theta);
    this.n = n;
    this.zetan = zeta(n, theta);
    this.eta = this.etaFor(n);
  }

  /** Item count the generator draws from now. */
  get itemCount(): number {
    return this.n;
  }

  /** Grows (never shrinks) the item count, updating ζ(n) incrementally as YCSB does. */
  grow(n: number): void {
    if (n <= this.n) return;
    if (n - this.n <= EXACT_TERMS) {
      for (let i = this.n + 1; i <= n; i++) this.zetan += 1 / Math.pow(i, this.theta);
    } else {
      this.zetan = zeta(n, this.theta);
    }
    this.n = n;
    this.eta = this.etaFor(n);
  }

  /** The next rank, in [0, itemCount). */
  next(): number {
    const u = this.rng.next();
    const uz = u * this.zetan;
    if (uz < 1) return 0;
    if (uz < 1 + Math.pow(0.5, this.theta)) return Math.min(1, this.n - 1);
    const r = Math.floor(this.n * Math.pow(this.eta * u - this.eta + 1, this.alpha));
    return Math.min(r, this.n - 1);
  }

  private etaFor(n: number): number {
    return (1 - Math.pow(2 / n, 1 - this.theta)) / (1 - this.zeta2 / this.zetan);
  }
}

/** Picks the index of an existing key. */
export interface KeyChooser {
  next(): number;
}

/**
 * A chooser over keys `[0, count())`. `count` is read per draw, so keys inserted during the run
 * (workloads D and E) become eligible at once.
 */
export function keyChooser(dist: Distribution, count: () => number, rng: Rng): KeyChooser {
  switch (dist) {
    case 'uniform':
      return { next: () => rng.nextInt(count()) };
    case 'zipfian': {
      const z = new ZipfianGenerator(count(), rng);
      return {
        next: () => {
          z.grow(count());
          return z.next();
        },
      };
    }
    case 'latest': {
      const z = new ZipfianGenerator(count(), rng);
      return {
        next: () => {
          const n = count();
          z.grow(n);
          return n - 1 - z.next();
        },
      };
    }
  }
}
