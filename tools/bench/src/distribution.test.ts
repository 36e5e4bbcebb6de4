import { describe, expect, it } from 'vitest';
import { SeededRng } from '@mrkv/common';
import { ZIPFIAN_THETA, ZipfianGenerator, keyChooser, zeta } from './distribution.js';

function exactZeta(n: number, theta: number): number {
  let s = 0;
  for (let i = 1; i <= n; i++) s += 1 / Math.pow(i, theta);
  return s;
}

function histogram(draw: () => number, n: number, samples: number): number[] {
  const counts = new Array<number>(n).fill(0);
  for (let i = 0; i < samples; i++) counts[draw()]!++;
  return counts;
}

describe('zeta', () => {
  it('matches the exact sum below the cut-over and the Euler–Maclaurin tail above it', () => {
    expect(zeta(1000, ZIPFIAN_THETA)).toBeCloseTo(exactZeta(1000, ZIPFIAN_THETA), 12);
    const n = 1_000_000;
    expect(Math.abs(zeta(n, ZIPFIAN_THETA) - exactZeta(n, ZIPFIAN_THETA)) / exactZeta(n, ZIPFIAN_THETA)).toBeLessThan(1e-10);
  });
});

describe('ZipfianGenerator', () => {
  it('draws ranks in range with P(r) ∝ 1/(r+1)^θ: exactly for ranks 0 and 1, approximately beyond', () => {
    const n = 1000;
    const samples = 200_000;
    const z = new ZipfianGenerator(n, new SeededRng(42));
    const counts = histogram(() => z.next(), n, samples);
    const zn = exactZeta(n, ZIPFIAN_THETA);
    for (const r of [0, 1]) {
      const expected = samples / Math.pow(r + 1, ZIPFIAN_THETA) / zn;
      expect(Math.abs(counts[r]! - expected) / expected, `rank ${r}`).toBeLessThan(0.05);
    }
    // Gray et al.'s closed form (YCSB's too) approximates the rest: shares of rank bands stay
    // within 25% of the exact ones.
    for (const [lo, hi] of [[2, 10], [10, 100], [100, 1000]] as const) {
      let exact = 0;
      for (let r = lo; r < hi; r++) exact += samples / Math.pow(r + 1, ZIPFIAN_THETA) / zn;
      const got = counts.slice(lo, hi).reduce((a, b) => a + b, 0);
      expect(Math.abs(got - exact) / exact, `ranks ${lo}..${hi}`).toBeLessThan(0.25);
    }
    // The head is far hotter than the tail.
    const head = counts.slice(0, 10).reduce((a, b) => a + b, 0);
    const tail = counts.slice(n - 100).reduce((a, b) => a + b, 0);
    expect(head).toBeGreaterThan(20 * tail);
  });

  it('is deterministic for a seed and grows its item count', () => {
    const a = new ZipfianGenerator(50, new SeededRng(7));
    const b = new ZipfianGenerator(50, new SeededRng(7));
    const seqA = Array.from({ length: 100 }, () => a.next());
    expect(Array.from({ length: 100 }, () => b.next())).toEqual(seqA);
    a.grow(5000);
    expect(a.itemCount).toBe(5000);
    const after = Array.from({ length: 20_000 }, () => a.next());
    expect(Math.max(...after)).toBeGreaterThan(50);
    expect(Math.max(...after)).toBeLessThan(5000);
  });

  it('rejects an empty key space', () => {
    expect(() => new ZipfianGenerator(0, new SeededRng(1))).toThrow(/positive integer/);
  });
});

describe('keyChooser', () => {
  it('uniform covers every key roughly equally', () => {
    const c = keyChooser('uniform', () => 10, new SeededRng(3));
    const counts = histogram(() => c.next(), 10, 50_000);
    for (const x of counts) expect(Math.abs(x - 5000)).toBeLessThan(400);
  });

  it('latest favours the newest keys and follows the growing count', () => {
    let count = 1000;
    const c = keyChooser('latest', () => count, new SeededRng(5));
    const draws = Array.from({ length: 20_000 }, () => c.next());
    expect(draws.filter((k) => k === 999).length).toBeGreaterThan(draws.filter((k) => k === 0).length * 20);
    count = 2000;
    const later = Array.from({ length: 20_000 }, () => c.next());
    expect(later.filter((k) => k === 1999).length).toBeGreaterThan(1000);
    expect(later.every((k) => k >= 0 && k < 2000)).toBe(true);
  });
});
