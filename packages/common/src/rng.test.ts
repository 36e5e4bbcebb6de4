import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeededRng } from './rng.js';

describe('SeededRng', () => {
  it('replays the same sequence for the same seed', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (seed) => {
        const a = new SeededRng(seed);
        const b = new SeededRng(seed);
        for (let i = 0; i < 20; i++) expect(a.next()).toBe(b.next());
      }),
    );
  });

  it('differs across seeds and stays in range', () => {
    const a = new SeededRng(1);
    const b = new SeededRng(2);
    const xs = Array.from({ length: 100 }, () => a.next());
    const ys = Array.from({ length: 100 }, () => b.next());
    expect(xs).not.toEqual(ys);
    for (const x of xs) expect(x >= 0 && x < 1).toBe(true);
  });

  it('nextInt covers its range roughly uniformly', () => {
    const r = new SeededRng(42);
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 100_000; i++) counts[r.nextInt(10)]!++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(600);
  });

  it('rejects bad arguments with RangeError', () => {
    const r = new SeededRng(0);
    expect(() => r.nextInt(0)).toThrow(RangeError);
    expect(() => r.range(5, 5)).toThrow(RangeError);
  });
});
