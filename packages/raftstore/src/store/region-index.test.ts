import fc from 'fast-check';
import type { Region } from '@mrkv/proto';
import { describe, expect, it } from 'vitest';
import { keyInRange, RegionIndex, rangesOverlap } from './region-index.js';

const b = (s: string) => new TextEncoder().encode(s);
const region = (id: number, start: string, end: string): Region => ({
  id,
  startKey: b(start),
  endKey: b(end),
  regionEpoch: { confVer: 1, version: 1 },
  peers: [],
});

describe('RegionIndex', () => {
  it('finds the region holding a key and refuses overlaps', () => {
    const idx = new RegionIndex();
    idx.upsert(region(1, '', 'g'));
    idx.upsert(region(3, 'p', ''));
    idx.upsert(region(2, 'g', 'p'));
    expect(idx.find(b(''))?.id).toBe(1);
    expect(idx.find(b('f'))?.id).toBe(1);
    expect(idx.find(b('g'))?.id).toBe(2);
    expect(idx.find(b('zzz'))?.id).toBe(3);
    expect(() => idx.upsert(region(4, 'a', 'h'))).toThrow(/overlaps/);
    expect(idx.overlapping(b('f'), b('q')).map((r) => r.id)).toEqual([1, 2, 3]);
    expect(idx.overlapping(b('g'), b('p')).map((r) => r.id)).toEqual([2]);
    idx.remove(2);
    expect(idx.find(b('h'))).toBeUndefined();
    idx.upsert(region(2, 'g', 'p'));
    idx.upsert({ ...region(2, 'g', 'k') });
    expect(idx.find(b('m'))).toBeUndefined();
  });

  it('agrees with a naive scan on random tilings', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 3, unit: fc.constantFrom('a', 'b', 'c', 'd') }), { maxLength: 12 }),
        fc.array(fc.string({ maxLength: 4, unit: fc.constantFrom('a', 'b', 'c', 'd', 'e') }), { maxLength: 20 }),
        fc.array(fc.boolean(), { minLength: 13, maxLength: 13 }),
        (cutsRaw, probes, keep) => {
          const cuts = [...cutsRaw].sort((x, y) => Buffer.compare(b(x), b(y)));
          const bounds = ['', ...cuts, ''];
          const regions: Region[] = [];
          for (let i = 0; i + 1 < bounds.length; i++) if (keep[i]) regions.push(region(i + 1, bounds[i]!, bounds[i + 1]!));
          const idx = new RegionIndex();
          for (const r of [...regions].reverse()) idx.upsert(r);
          for (const p of probes) {
            const want = regions.find((r) => keyInRange(b(p), r.startKey, r.endKey))?.id;
            expect(idx.find(b(p))?.id).toBe(want);
          }
          for (let i = 0; i + 1 < probes.length; i += 2) {
            const [s, e] = [probes[i]!, probes[i + 1]!].sort((x, y) => Buffer.compare(b(x), b(y)));
            const want = regions.filter((r) => rangesOverlap(r.startKey, r.endKey, b(s!), b(e!))).map((r) => r.id);
            expect(idx.overlapping(b(s!), b(e!)).map((r) => r.id)).toEqual(want);
          }
        },
      ),
    );
  });
});
