import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { compareBytes } from '@mrkv/common';
import {
  API_VERSIONS,
  COMMAND_PRIS,
  contextFromWire,
  contextToWire,
  cloneRegion,
  compareEpoch,
  decodeMessage,
  encodeMessage,
  epochMatches,
  findPeer,
  findPeerOnStore,
  isEpochStale,
  PEER_ROLES,
  peerFromWire,
  ProtoCodes,
  regionContainsKey,
  regionFromWire,
  regionToWire,
  storeFromWire,
  storeToWire,
  NODE_STATES,
  STORE_STATES,
  type Region,
  type RegionEpoch,
  type RequestContext,
  type Store,
} from './index.js';

const id = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const key = fc.uint8Array({ maxLength: 12 }).map((b) => new Uint8Array(b));
const epochArb: fc.Arbitrary<RegionEpoch> = fc.record({ confVer: id, version: id });
const peerArb = fc.record({ id, storeId: id, role: fc.constantFrom(...PEER_ROLES) });
const regionArb: fc.Arbitrary<Region> = fc.record({
  id,
  startKey: key,
  endKey: key,
  regionEpoch: epochArb,
  peers: fc.array(peerArb, { maxLength: 5 }),
});
const storeArb: fc.Arbitrary<Store> = fc.record({
  id,
  address: fc.string(),
  state: fc.constantFrom(...STORE_STATES),
  labels: fc.array(fc.record({ key: fc.string(), value: fc.string() }), { maxLength: 3 }),
  version: fc.string(),
  peerAddress: fc.string(),
  statusAddress: fc.string(),
  gitHash: fc.string(),
  startTimestamp: fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
  deployPath: fc.string(),
  lastHeartbeat: fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }),
  physicallyDestroyed: fc.boolean(),
  nodeState: fc.constantFrom(...NODE_STATES),
});

describe('domain converters', () => {
  it('region -> wire -> bytes -> wire -> region is the identity', () => {
    fc.assert(
      fc.property(regionArb, (r) => {
        const back = regionFromWire(decodeMessage('metapb.Region', encodeMessage('metapb.Region', regionToWire(r))));
        expect(back).toEqual(r);
        expect(back.startKey).toBeInstanceOf(Uint8Array);
        expect(Buffer.isBuffer(back.startKey)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('store -> wire -> bytes -> wire -> store is the identity (64-bit heartbeat time included)', () => {
    fc.assert(
      fc.property(storeArb, (s) => {
        expect(storeFromWire(decodeMessage('metapb.Store', encodeMessage('metapb.Store', storeToWire(s))))).toEqual(s);
      }),
      { numRuns: 200 },
    );
  });

  it('accepts hand-built wire objects: numbers, strings, enum numbers, base64 keys', () => {
    const r = regionFromWire({
      id: '7',
      startKey: Buffer.from('a').toString('base64'),
      endKey: Buffer.from('z'),
      regionEpoch: { confVer: 1, version: '2' },
      peers: [{ id: 8, storeId: '9', role: 1 }],
    });
    expect(r).toEqual({
      id: 7,
      startKey: new Uint8Array([0x61]),
      endKey: new Uint8Array([0x7a]),
      regionEpoch: { confVer: 1, version: 2 },
      peers: [{ id: 8, storeId: 9, role: 'Learner' }],
    });
  });

  it('copies keys, so a domain region never pins a decoded buffer', () => {
    const big = Buffer.alloc(64, 1);
    const r = regionFromWire({ id: 1, startKey: big.subarray(0, 2), endKey: big.subarray(2, 4), regionEpoch: {} });
    big.fill(9);
    expect([...r.startKey]).toEqual([1, 1]);
    expect(r.startKey.buffer.byteLength).toBe(2);
  });

  it('rejects ids at or beyond 2^53 with KV:Proto:IntegerOutOfRange naming the field', () => {
    expect(() => peerFromWire({ id: '9007199254740992', storeId: 1 })).toThrow(
      expect.objectContaining({ code: ProtoCodes.INTEGER_OUT_OF_RANGE, details: { field: 'Peer.id' } }),
    );
    expect(() => regionFromWire({ id: '18446744073709551615', regionEpoch: {} })).toThrow(
      expect.objectContaining({ code: ProtoCodes.INTEGER_OUT_OF_RANGE }),
    );
    expect(() => regionFromWire({ id: 1, regionEpoch: { version: -1 } })).toThrow(
      expect.objectContaining({ code: ProtoCodes.INTEGER_OUT_OF_RANGE, details: { field: 'RegionEpoch.version' } }),
    );
  });

  it('rejects unknown enum values and regions without an epoch', () => {
    expect(() => peerFromWire({ id: 1, storeId: 1, role: 7 as never })).toThrow(
      expect.objectContaining({ code: ProtoCodes.UNKNOWN_ENUM_VALUE }),
    );
    expect(() => peerFromWire({ id: 1, storeId: 1, role: 'Witness' as never })).toThrow(
      expect.objectContaining({ code: ProtoCodes.UNKNOWN_ENUM_VALUE }),
    );
    expect(() => regionFromWire({ id: 1 })).toThrow(expect.objectContaining({ code: ProtoCodes.MISSING_FIELD }));
    expect(() => regionFromWire(decodeMessage('metapb.Region', encodeMessage('metapb.Region', { id: 3 })))).toThrow(
      expect.objectContaining({ code: ProtoCodes.MISSING_FIELD }),
    );
  });

  it('an unknown enum number on the wire is refused, not passed through', () => {
    // Role 9 is not a PeerRole: protobufjs decodes it as the bare number.
    const bytes = Buffer.from('080110021809', 'hex');
    const wire = decodeMessage('metapb.Peer', bytes);
    expect(() => peerFromWire(wire)).toThrow(expect.objectContaining({ code: ProtoCodes.UNKNOWN_ENUM_VALUE }));
  });
});

describe('region helpers', () => {
  const naiveContains = (r: Region, k: Uint8Array) =>
    Buffer.compare(Buffer.from(r.startKey), Buffer.from(k)) <= 0 &&
    (r.endKey.length === 0 || Buffer.compare(Buffer.from(k), Buffer.from(r.endKey)) < 0);

  it('regionContainsKey matches the definition [start, end) with empty end = +inf', () => {
    fc.assert(fc.property(regionArb, key, (r, k) => regionContainsKey(r, k) === naiveContains(r, k)), { numRuns: 500 });
    const r = { startKey: new Uint8Array([2]), endKey: new Uint8Array() };
    expect(regionContainsKey(r, new Uint8Array([1, 255]))).toBe(false);
    expect(regionContainsKey(r, new Uint8Array([2]))).toBe(true);
    expect(regionContainsKey(r, new Uint8Array([255, 255]))).toBe(true);
    expect(regionContainsKey({ startKey: new Uint8Array(), endKey: new Uint8Array([5]) }, new Uint8Array([5]))).toBe(false);
    expect(regionContainsKey({ startKey: new Uint8Array(), endKey: new Uint8Array([5]) }, new Uint8Array())).toBe(true);
  });

  it('compareEpoch is a partial order: antisymmetric, equal iff same, diverged iff components disagree', () => {
    fc.assert(
      fc.property(epochArb, epochArb, (a, b) => {
        const ab = compareEpoch(a, b);
        const ba = compareEpoch(b, a);
        const flip = { equal: 'equal', older: 'newer', newer: 'older', diverged: 'diverged' } as const;
        expect(ba).toBe(flip[ab]);
        expect(ab === 'equal').toBe(a.version === b.version && a.confVer === b.confVer);
        const disagree = Math.sign(a.version - b.version) * Math.sign(a.confVer - b.confVer) < 0;
        expect(ab === 'diverged').toBe(disagree);
      }),
      { numRuns: 500 },
    );
    expect(compareEpoch({ confVer: 1, version: 1 }, { confVer: 1, version: 2 })).toBe('older');
    expect(compareEpoch({ confVer: 2, version: 1 }, { confVer: 1, version: 2 })).toBe('diverged');
  });

  it('isEpochStale: behind in either component', () => {
    fc.assert(
      fc.property(epochArb, epochArb, (a, b) => {
        expect(isEpochStale(a, b)).toBe(a.version < b.version || a.confVer < b.confVer);
        if (compareEpoch(a, b) === 'older') expect(isEpochStale(a, b)).toBe(true);
        if (compareEpoch(a, b) === 'equal' || compareEpoch(a, b) === 'newer') expect(isEpochStale(a, b)).toBe(false);
      }),
    );
  });

  it('epochMatches checks only the requested components, for equality', () => {
    const cur = { confVer: 5, version: 7 };
    expect(epochMatches({ confVer: 4, version: 7 }, cur, { version: true, confVer: false })).toBe(true);
    expect(epochMatches({ confVer: 4, version: 7 }, cur, { version: true, confVer: true })).toBe(false);
    expect(epochMatches({ confVer: 5, version: 8 }, cur, { version: true, confVer: false })).toBe(false);
    expect(epochMatches({ confVer: 5, version: 6 }, cur, { version: false, confVer: true })).toBe(true);
    expect(epochMatches({ confVer: 0, version: 0 }, cur, { version: false, confVer: false })).toBe(true);
  });

  it('cloneRegion is deep: mutating the copy leaves the original intact', () => {
    fc.assert(
      fc.property(regionArb, (r) => {
        const before = structuredClone(r);
        const c = cloneRegion(r);
        expect(c).toEqual(r);
        c.regionEpoch.version += 1;
        c.peers.push({ id: 1, storeId: 1, role: 'Voter' });
        for (const p of c.peers) p.storeId += 1;
        c.startKey.fill(0xee);
        c.endKey.fill(0xee);
        expect(r).toEqual(before);
      }),
      { numRuns: 200 },
    );
  });

  it('findPeer / findPeerOnStore', () => {
    const r: Region = {
      id: 1,
      startKey: new Uint8Array(),
      endKey: new Uint8Array(),
      regionEpoch: { confVer: 1, version: 1 },
      peers: [
        { id: 10, storeId: 1, role: 'Voter' },
        { id: 11, storeId: 2, role: 'Learner' },
      ],
    };
    expect(findPeer(r, 11)?.storeId).toBe(2);
    expect(findPeerOnStore(r, 1)?.id).toBe(10);
    expect(findPeer(r, 12)).toBeUndefined();
    expect(findPeerOnStore(r, 3)).toBeUndefined();
    expect(compareBytes(r.startKey, new Uint8Array())).toBe(0);
  });
});

describe('request context', () => {
  const ctxArb: fc.Arbitrary<RequestContext> = fc.record({
    regionId: id,
    regionEpoch: fc.option(epochArb, { nil: undefined }),
    peer: fc.option(peerArb, { nil: undefined }),
    term: id,
    priority: fc.constantFrom(...COMMAND_PRIS),
    replicaRead: fc.boolean(),
    staleRead: fc.boolean(),
    maxExecutionDurationMs: id,
    apiVersion: fc.constantFrom(...API_VERSIONS),
    isRetryRequest: fc.boolean(),
    requestSource: fc.string(),
    clusterId: id,
  });

  it('context -> wire -> bytes -> wire -> context is the identity', () => {
    fc.assert(
      fc.property(ctxArb, (c) => {
        expect(contextFromWire(decodeMessage('kvrpcpb.Context', encodeMessage('kvrpcpb.Context', contextToWire(c))))).toEqual(c);
      }),
      { numRuns: 300 },
    );
  });

  it('an absent context is all defaults; an absent epoch or peer stays absent for the store to judge', () => {
    const empty = contextFromWire(decodeMessage('kvrpcpb.RawGetRequest', encodeMessage('kvrpcpb.RawGetRequest', {})).context);
    expect(empty).toMatchObject({ regionId: 0, regionEpoch: undefined, peer: undefined, apiVersion: 'V1', priority: 'Normal' });
    expect(contextFromWire({ regionId: 3, peer: { id: 4, storeId: 5 } })).toMatchObject({ regionId: 3, regionEpoch: undefined, peer: { id: 4, storeId: 5, role: 'Voter' } });
  });

  it('refuses out-of-range ids and unknown API versions with typed errors', () => {
    expect(() => contextFromWire({ regionId: '9007199254740993' })).toThrow(
      expect.objectContaining({ code: ProtoCodes.INTEGER_OUT_OF_RANGE, details: { field: 'Context.region_id' } }),
    );
    expect(() => contextFromWire({ apiVersion: 9 as never })).toThrow(expect.objectContaining({ code: ProtoCodes.UNKNOWN_ENUM_VALUE }));
  });
});
