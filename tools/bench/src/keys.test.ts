import { describe, expect, it } from 'vitest';
import { evenSplitKeys } from '@mrkv/playground';
import { KEY_LENGTH, ValuePool, benchKey, benchKeyString, fmix32 } from './keys.js';

describe('bench keys', () => {
  it('are 16 distinct bytes each, spread evenly over the hex prefix space', () => {
    const n = 50_000;
    const seen = new Set<string>();
    const buckets = new Array<number>(16).fill(0);
    for (let i = 0; i < n; i++) {
      const k = benchKeyString(i);
      expect(k.length).toBe(KEY_LENGTH);
      seen.add(k);
      buckets[parseInt(k[1]!, 16)]!++;
    }
    expect(seen.size).toBe(n);
    for (const b of buckets) expect(Math.abs(b - n / 16)).toBeLessThan(n / 16 / 10);
    expect(benchKey(7).toString('latin1')).toBe(benchKeyString(7));
  });

  it('fmix32 is a bijection on a sample (no collisions among 2^20 inputs)', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 1 << 20; i++) seen.add(fmix32(i));
    expect(seen.size).toBe(1 << 20);
  });

  it("land in every pre-split region in near-equal shares (the playground's evenSplitKeys)", () => {
    const splits = evenSplitKeys(4);
    expect(splits.map((s) => s.toString())).toEqual(['k40000000', 'k80000000', 'kc0000000']);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 20_000; i++) counts[splits.filter((s) => Buffer.compare(benchKey(i), s) >= 0).length]!++;
    for (const c of counts) expect(Math.abs(c - 5000)).toBeLessThan(500);
  });
});

describe('ValuePool', () => {
  it('hands out values of the asked size that do not compress', async () => {
    const { deflateSync } = await import('node:zlib');
    const pool = new ValuePool(256, 1);
    const vals = Array.from({ length: 100 }, () => pool.next());
    for (const v of vals) expect(v.length).toBe(256);
    const all = Buffer.concat(vals);
    expect(deflateSync(all).length).toBeGreaterThan(all.length * 0.9);
  });
});
