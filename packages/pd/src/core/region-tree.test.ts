import fc from 'fast-check';
import { compareBytes } from '@mrkv/common';
import { describe, expect, it } from 'vitest';
import { info, k, peer, region } from '../__tests__/fixtures.js';
import type { RegionInfo } from './region-info.js';
import { rangesOverlap, RegionTree } from './region-tree.js';

function ids(rs: readonly RegionInfo[]): number[] {
  return rs.map((r) => r.meta.id);
}

describe('RegionTree', () => {
  it('looks regions up by key and id, and scans ranges', () => {
    const t = new RegionTree();
    t.put(info(region(1, '', 'b', [peer(11, 1)])));
    t.put(info(region(2, 'b', 'd', [peer(21, 1)])));
    t.put(info(region(3, 'd', '', [peer(31, 1)])));
    expect(t.getByKey(k(''))?.meta.id).toBe(1);
    expect(t.getByKey(k('a'))?.meta.id).toBe(1);
    expect(t.getByKey(k('b'))?.meta.id).toBe(2);
    expect(t.getByKey(k('zzz'))?.meta.id).toBe(3);
    expect(t.getById(2)?.meta.id).toBe(2);
    expect(t.getPrev(k('c'))?.meta.id).toBe(1);
    expect(t.getPrev(k('a'))).toBeUndefined();
    expect(ids(t.scan(k('a'), k('c')))).toEqual([1, 2]);
    expect(ids(t.scan(k('c'), k('')))).toEqual([2, 3]);
    expect(ids(t.scan(k(''), k(''), 2))).toEqual([1, 2]);
  });

  it('replaces a parent with split children and a newer region removes what it overlaps', () => {
    const t = new RegionTree();
    t.put(info(region(1, '', '', [peer(11, 1)], 1)));
    const r = t.put(info(region(2, '', 'm', [peer(21, 1)], 2)));
    expect(r.accepted).toBe(true);
    expect(ids(r.overlaps)).toEqual([1]);
    t.put(info(region(1, 'm', '', [peer(11, 1)], 2)));
    expect(ids(t.all())).toEqual([2, 1]);
    // a merge: region 1 grows over region 2's range with a newer version
    const m = t.put(info(region(1, '', '', [peer(11, 1)], 4)));
    expect(ids(m.overlaps)).toEqual([2]);
    expect(ids(t.all())).toEqual([1]);
  });

  it('never lets a stale epoch overwrite a newer region', () => {
    const t = new RegionTree();
    t.put(info(region(1, '', 'm', [peer(11, 1)], 3, 2)));
    t.put(info(region(2, 'm', '', [peer(21, 1)], 3, 1)));
    // same id, older version
    expect(t.put(info(region(1, '', 'm', [peer(11, 1)], 2, 2))).accepted).toBe(false);
    // same id, older conf_ver
    expect(t.put(info(region(1, '', 'm', [peer(11, 1)], 3, 1))).accepted).toBe(false);
    // the pre-split parent (older version) overlapping both
    expect(t.put(info(region(1, '', '', [peer(11, 1)], 2, 2))).accepted).toBe(false);
    expect(ids(t.all())).toEqual([1, 2]);
    expect(t.getById(1)?.meta.regionEpoch).toEqual({ version: 3, confVer: 2 });
  });

  it('rangesOverlap treats an empty end as +infinity', () => {
    expect(rangesOverlap(k('a'), k(''), k('z'), k('zz'))).toBe(true);
    expect(rangesOverlap(k('a'), k('b'), k('b'), k(''))).toBe(false);
    expect(rangesOverlap(k(''), k('b'), k('a'), k('c'))).toBe(true);
  });

  it('agrees with a naive list under random puts (property)', () => {
    const keyArb = fc.integer({ min: 0, max: 12 }).map((n) => (n === 0 ? '' : String.fromCharCode(96 + n)));
    const regionArb = fc
      .record({ id: fc.integer({ min: 1, max: 6 }), a: keyArb, b: keyArb, version: fc.integer({ min: 1, max: 6 }), confVer: fc.integer({ min: 1, max: 3 }) })
      .map(({ id, a, b, version, confVer }) => {
        // order the bounds; '' as end means +inf, as start -inf
        let [s, e] = a === '' || (b !== '' && a > b) ? [b, a] : [a, b];
        if (s === e) e = '';
        if (s === '' && e === '' && a !== '' && b !== '') s = a;
        return info(region(id, s, e, [peer(id * 10, 1)], version, confVer));
      });
    fc.assert(
      fc.property(fc.array(regionArb, { maxLength: 40 }), fc.array(keyArb, { minLength: 1, maxLength: 10 }), (puts, probes) => {
        const t = new RegionTree();
        let naive: RegionInfo[] = [];
        for (const r of puts) {
          const same = naive.find((o) => o.meta.id === r.meta.id);
          const overl = naive.filter((o) => rangesOverlap(o.meta.startKey, o.meta.endKey, r.meta.startKey, r.meta.endKey));
          const stale =
            (same !== undefined && (r.meta.regionEpoch.version < same.meta.regionEpoch.version || r.meta.regionEpoch.confVer < same.meta.regionEpoch.confVer)) ||
            overl.some((o) => o.meta.id !== r.meta.id && r.meta.regionEpoch.version < o.meta.regionEpoch.version);
          const res = t.put(r);
          expect(res.accepted).toBe(!stale);
          if (!stale) naive = [...naive.filter((o) => o.meta.id !== r.meta.id && !overl.includes(o)), r];
        }
        naive.sort((x, y) => compareBytes(x.meta.startKey, y.meta.startKey));
        expect(ids(t.all())).toEqual(ids(naive));
        expect(t.size).toBe(naive.length);
        for (const p of probes) {
          const key = k(p);
          const want = naive.find((o) => compareBytes(o.meta.startKey, key) <= 0 && (o.meta.endKey.length === 0 || compareBytes(key, o.meta.endKey) < 0));
          expect(t.getByKey(key)?.meta.id).toBe(want?.meta.id);
          const scanned = naive.filter((o) => o.meta.endKey.length === 0 || compareBytes(o.meta.endKey, key) > 0);
          expect(ids(t.scan(key, new Uint8Array(0)))).toEqual(ids(scanned));
        }
        for (const o of naive) expect(t.getById(o.meta.id)).toBe(o);
      }),
      { numRuns: 300 },
    );
  });
});
