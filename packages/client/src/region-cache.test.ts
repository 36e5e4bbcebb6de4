/**
 * The region cache as a data structure (against a scripted PD): lookups by key, by end key and
 * by id; inserts that replace overlapping regions; the reactions to NotLeader and EpochNotMatch;
 * and a property test comparing lookups with a naive scan over the latest regions.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compareBytes, SeededRng, systemClock } from '@mrkv/common';
import { regionContainsKey, type Region } from '@mrkv/proto';
import { backoffCurves } from './backoff.js';
import { CallScope } from './call-scope.js';
import type { PdClient, RegionInfo } from './pd-client.js';
import { RegionCache } from './region-cache.js';

const b = (s: string): Uint8Array => new TextEncoder().encode(s);

function region(id: number, start: string, end: string, version = 1, stores = [1, 2, 3]): Region {
  return {
    id,
    startKey: b(start),
    endKey: b(end),
    regionEpoch: { confVer: 1, version },
    peers: stores.map((s) => ({ id: id * 10 + s, storeId: s, role: 'Voter' as const })),
  };
}

/** A PD answering from a fixed list of regions, counting calls. */
class ScriptedPd {
  calls: string[] = [];
  constructor(public regions: Region[]) {}
  private info(r: Region | undefined): RegionInfo | undefined {
    return r === undefined ? undefined : { region: r, leader: r.peers[0] };
  }
  getRegion(key: Uint8Array): Promise<RegionInfo | undefined> {
    this.calls.push('GetRegion');
    return Promise.resolve(this.info(this.regions.find((r) => regionContainsKey(r, key))));
  }
  getPrevRegion(key: Uint8Array): Promise<RegionInfo | undefined> {
    this.calls.push('GetPrevRegion');
    const sorted = [...this.regions].sort((x, y) => compareBytes(x.startKey, y.startKey));
    const i = sorted.findIndex((r) => regionContainsKey(r, key));
    return Promise.resolve(this.info(i > 0 ? sorted[i - 1] : undefined));
  }
  getRegionById(id: number): Promise<RegionInfo | undefined> {
    this.calls.push('GetRegionByID');
    return Promise.resolve(this.info(this.regions.find((r) => r.id === id)));
  }
  scanRegions(start: Uint8Array, _end: Uint8Array, limit: number): Promise<RegionInfo[]> {
    this.calls.push('ScanRegions');
    const sorted = [...this.regions].sort((x, y) => compareBytes(x.startKey, y.startKey));
    return Promise.resolve(
      sorted
        .filter((r) => r.endKey.length === 0 || compareBytes(r.endKey, start) > 0)
        .slice(0, limit)
        .map((r) => this.info(r)!),
    );
  }
}

function setup(regions: Region[]) {
  const pd = new ScriptedPd(regions);
  const cache = new RegionCache(pd as unknown as PdClient);
  const scope = new CallScope(
    { clock: systemClock, rng: new SeededRng(1), curves: backoffCurves({ regionMiss: { baseMs: 1, capMs: 1 } }), closing: new AbortController().signal },
    { timeoutMs: 2000, maxBackoffMs: 20 },
  );
  return { pd, cache, scope };
}

const FOUR = [region(1, '', 'g'), region(2, 'g', 'n'), region(3, 'n', 't'), region(4, 't', '')];

describe('RegionCache lookups', () => {
  it('locates by key from PD once, then from the cache', async () => {
    const { pd, cache, scope } = setup(FOUR);
    expect((await cache.locateKey(b('h'), scope)).region.id).toBe(2);
    expect((await cache.locateKey(b('m'), scope)).region.id).toBe(2);
    expect((await cache.locateKey(b('g'), scope)).region.id).toBe(2);
    expect((await cache.locateKey(b(''), scope)).region.id).toBe(1);
    expect((await cache.locateKey(b('zzz'), scope)).region.id).toBe(4);
    expect(pd.calls).toEqual(['GetRegion', 'GetRegion', 'GetRegion']);
    expect(cache.regions().map((r) => r.id)).toEqual([1, 2, 4]);
    scope.dispose();
  });

  it('locates by end key: the region holding the keys just below it', async () => {
    const { pd, cache, scope } = setup(FOUR);
    expect((await cache.locateEndKey(b('h'), scope)).region.id).toBe(2);
    // A region boundary: the region before the one starting at the key.
    expect((await cache.locateEndKey(b('n'), scope)).region.id).toBe(2);
    expect((await cache.locateEndKey(b('t'), scope)).region.id).toBe(3);
    expect(pd.calls.filter((c) => c === 'GetPrevRegion').length).toBe(1);
    // +infinity: the last region, found by walking ScanRegions.
    expect((await cache.locateEndKey(new Uint8Array(), scope)).region.id).toBe(4);
    pd.calls = [];
    expect((await cache.locateEndKey(b('m'), scope)).region.id).toBe(2);
    expect((await cache.locateEndKey(new Uint8Array(), scope)).region.id).toBe(4);
    expect(pd.calls).toEqual([]);
    scope.dispose();
  });

  it('groups keys by region, in the order given', async () => {
    const { cache, scope } = setup(FOUR);
    const groups = await cache.groupKeys(['a', 'h', 'b', 'z', 'i'].map(b), scope);
    expect([...groups].map(([e, idx]) => [e.region.id, idx])).toEqual([
      [1, [0, 2]],
      [2, [1, 4]],
      [4, [3]],
    ]);
    scope.dispose();
  });

  it('locates by id, and reloads an invalidated entry', async () => {
    const { pd, cache, scope } = setup(FOUR);
    const e = (await cache.locateById(3, scope))!;
    expect(e.region.id).toBe(3);
    cache.invalidate(e, 'test');
    expect(cache.regions()).toEqual([]);
    await cache.locateKey(b('p'), scope);
    expect(pd.calls).toEqual(['GetRegionByID', 'GetRegion']);
    expect(await cache.locateById(99, scope)).toBeUndefined();
    scope.dispose();
  });

  it('gives up with REGION_UNAVAILABLE when PD knows no region for a key', async () => {
    const { cache, scope } = setup([region(1, 'a', 'b')]);
    await expect(cache.locateKey(b('x'), scope)).rejects.toMatchObject({ code: 'KV:Client:RegionUnavailable' });
    scope.dispose();
  });
});

describe('RegionCache updates', () => {
  it('drops every overlapping region on insert and marks the replaced entries invalid', async () => {
    const { cache, scope } = setup(FOUR);
    const olds = await Promise.all(['a', 'h', 'p', 'x'].map((k) => cache.locateKey(b(k), scope)));
    const keep = cache.insert({ region: region(5, 'u', 'v'), leader: undefined });
    const merged = cache.insert({ region: region(2, 'f', 'u', 3), leader: undefined });
    // [f, u) overlaps all four: [, g) and [t, ) in part, the middle two wholly.
    expect(cache.regions().map((r) => [r.id, new TextDecoder().decode(r.startKey)])).toEqual([
      [2, 'f'],
      [5, 'u'],
    ]);
    expect(olds.map((o) => o.invalid)).toEqual([true, true, true, true]);
    expect(keep.invalid).toBe(false);
    expect(cache.byRegionId(2)).toBe(merged);
    expect(cache.byRegionId(3)).toBeUndefined();
    scope.dispose();
  });

  it('NotLeader: follows a hint to a known peer; reloads on an unknown one; rotates without one', async () => {
    const { cache, scope } = setup(FOUR);
    const e = await cache.locateKey(b('h'), scope);
    expect(e.leader!.storeId).toBe(1);
    expect(cache.onNotLeader(e, 1, { id: 23, storeId: 3, role: 'Voter' })).toBe('retry');
    expect(cache.pickPeer(e, false)!.storeId).toBe(3);
    expect(cache.onNotLeader(e, 3, { id: 23, storeId: 3, role: 'Voter' })).toBe('backoff');
    expect(cache.onNotLeader(e, 3, undefined)).toBe('backoff');
    expect(cache.pickPeer(e, false)!.storeId).not.toBe(3);
    expect(e.invalid).toBe(false);
    expect(cache.onNotLeader(e, 3, { id: 99, storeId: 9, role: 'Voter' })).toBe('backoff');
    expect(e.invalid).toBe(true);
    scope.dispose();
  });

  it('EpochNotMatch: takes newer regions (leader = the answering store), backs off on older or unchanged ones', async () => {
    const { cache, scope } = setup(FOUR);
    const e = await cache.locateKey(b('h'), scope);
    expect(cache.onEpochNotMatch(e, 2, [region(2, 'g', 'n', 1)])).toBe('backoff');
    const e2 = await cache.locateKey(b('h'), scope);
    expect(cache.onEpochNotMatch(e2, 2, [region(9, 'g', 'k', 2), region(2, 'k', 'n', 2)])).toBe('retry');
    expect(cache.regions().map((r) => r.id)).toEqual([9, 2]);
    expect(cache.byRegionId(9)!.leader!.storeId).toBe(2);
    const e3 = cache.byRegionId(2)!;
    expect(cache.onEpochNotMatch(e3, 1, [region(2, 'g', 'n', 1)])).toBe('backoff');
    expect(cache.onEpochNotMatch(e3, 1, [])).toBe('backoff');
    scope.dispose();
  });
});

describe('RegionCache property', () => {
  it('after any sequence of inserts, lookups agree with the latest region holding each key', async () => {
    const keyArb = fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'd'), minLength: 1, maxLength: 3 });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uniqueArray(keyArb, { maxLength: 6 }), { minLength: 1, maxLength: 6 }), fc.array(keyArb, { maxLength: 10 }), async (layouts, probes) => {
        const { cache, scope } = setup([]);
        let id = 1;
        let latest: Region[] = [];
        // Each layout is a full partition of the key space; insert a random part of it.
        for (const splits of layouts) {
          const bounds = ['', ...[...splits].sort(), ''];
          latest = [];
          for (let i = 0; i + 1 < bounds.length; i++) latest.push(region(id++, bounds[i]!, bounds[i + 1]!));
          for (const r of latest) cache.insert({ region: r, leader: undefined });
        }
        const cached = cache.regions();
        for (let i = 1; i < cached.length; i++) expect(compareBytes(cached[i - 1]!.endKey, cached[i]!.startKey)).toBeLessThanOrEqual(0);
        for (const p of probes) {
          const want = latest.find((r) => regionContainsKey(r, b(p)))!;
          expect((await cache.locateKey(b(p), scope)).region.id).toBe(want.id);
        }
        scope.dispose();
      }),
      { numRuns: 200 },
    );
  });
});

describe('RegionCache.locateRange', () => {
  it('fills gaps with one ScanRegions batch and reuses cached regions', async () => {
    const { pd, cache, scope } = setup(FOUR);
    const cached = await cache.locateKey(b('h'), scope);
    pd.calls = [];
    const rs = await cache.locateRange(b('a'), b('u'), scope);
    expect(rs.map((e) => e.region.id)).toEqual([1, 2, 3, 4]);
    expect(pd.calls).toEqual(['ScanRegions']);
    expect(rs[1]).toBe(cached);
    expect(cached.invalid).toBe(false);
    pd.calls = [];
    expect((await cache.locateRange(b('h'), new Uint8Array(), scope)).map((e) => e.region.id)).toEqual([2, 3, 4]);
    expect((await cache.locateRange(b('h'), b('i'), scope)).map((e) => e.region.id)).toEqual([2]);
    expect(pd.calls).toEqual([]);
    scope.dispose();
  });
});
