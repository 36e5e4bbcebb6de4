import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { MrkvError } from '@mrkv/common';
import {
  BucketVersionNotMatchError,
  DataIsNotReadyError,
  decodeMessage,
  DiskFullError,
  encodeMessage,
  EpochNotMatchError,
  FlashbackInProgressError,
  FlashbackNotPreparedError,
  isRegionError,
  isRegionErrorCode,
  IsWitnessError,
  KeyNotInRegionError,
  MaxTimestampNotSyncedError,
  MismatchPeerIdError,
  NotLeaderError,
  ProposalInMergingModeError,
  ProtoCodes,
  RaftEntryTooLargeError,
  ReadIndexNotReadyError,
  RecoveryInProgressError,
  RegionError,
  RegionErrorCodes,
  regionErrorFromWire,
  regionErrorToWire,
  RegionNotFoundError,
  RegionNotInitializedError,
  reviveRegionError,
  ServerIsBusyError,
  StaleCommandError,
  StoreNotMatchError,
  UndeterminedResultError,
  UnknownRegionError,
  type Region,
} from './index.js';

const region = (id: number, start: string, end: string, version: number): Region => ({
  id,
  startKey: new Uint8Array(Buffer.from(start)),
  endKey: new Uint8Array(Buffer.from(end)),
  regionEpoch: { confVer: 1, version },
  peers: [{ id: id * 10, storeId: 1, role: 'Voter' }],
});

/** One instance per errorpb variant, with the errorpb field it must set. */
const SAMPLES: [RegionError, string | undefined][] = [
  [new NotLeaderError({ regionId: 1, leader: { id: 2, storeId: 3, role: 'Voter' } }), 'notLeader'],
  [new NotLeaderError({ regionId: 1 }), 'notLeader'],
  [new RegionNotFoundError({ regionId: 4 }), 'regionNotFound'],
  [
    new KeyNotInRegionError({ key: new Uint8Array([9]), regionId: 5, startKey: new Uint8Array([1]), endKey: new Uint8Array([5]) }),
    'keyNotInRegion',
  ],
  [new EpochNotMatchError({ currentRegions: [region(6, 'a', 'm', 3), region(7, 'm', '', 3)] }), 'epochNotMatch'],
  [new EpochNotMatchError({ currentRegions: [] }), 'epochNotMatch'],
  [new ServerIsBusyError({ reason: 'raftstore is busy', backoffMs: 20, estimatedWaitMs: 15, appliedIndex: 99 }), 'serverIsBusy'],
  [new StaleCommandError(), 'staleCommand'],
  [new StoreNotMatchError({ requestStoreId: 1, actualStoreId: 2 }), 'storeNotMatch'],
  [new RaftEntryTooLargeError({ regionId: 8, entrySize: 9_000_000 }), 'raftEntryTooLarge'],
  [new MaxTimestampNotSyncedError(), 'maxTimestampNotSynced'],
  [new ReadIndexNotReadyError({ reason: 'splitting', regionId: 9 }), 'readIndexNotReady'],
  [new ProposalInMergingModeError({ regionId: 10 }), 'proposalInMergingMode'],
  [new DataIsNotReadyError({ regionId: 11, peerId: 12, safeTs: 449_123_456_789_012_345n }), 'dataIsNotReady'],
  [new RegionNotInitializedError({ regionId: 13 }), 'regionNotInitialized'],
  [new DiskFullError({ storeIds: [1, 3], reason: 'almost full' }), 'diskFull'],
  [new RecoveryInProgressError({ regionId: 14 }), 'RecoveryInProgress'],
  [new FlashbackInProgressError({ regionId: 15, flashbackStartTs: 18_446_744_073_709_551_615n }), 'FlashbackInProgress'],
  [new FlashbackNotPreparedError({ regionId: 16 }), 'FlashbackNotPrepared'],
  [new IsWitnessError({ regionId: 17 }), 'isWitness'],
  [new MismatchPeerIdError({ requestPeerId: 18, storePeerId: 19 }), 'mismatchPeerId'],
  [new BucketVersionNotMatchError({ version: 20, keys: [new Uint8Array([1]), new Uint8Array([2])] }), 'bucketVersionNotMatch'],
  [new UndeterminedResultError({ detail: 'proposal timed out' }), 'undeterminedResult'],
  [new UnknownRegionError({ message: 'something new' }), undefined],
];

const VARIANT_FIELDS = [
  'notLeader', 'regionNotFound', 'keyNotInRegion', 'epochNotMatch', 'serverIsBusy', 'staleCommand', 'storeNotMatch',
  'raftEntryTooLarge', 'maxTimestampNotSynced', 'readIndexNotReady', 'proposalInMergingMode', 'dataIsNotReady',
  'regionNotInitialized', 'diskFull', 'RecoveryInProgress', 'FlashbackInProgress', 'FlashbackNotPrepared', 'isWitness',
  'mismatchPeerId', 'bucketVersionNotMatch', 'undeterminedResult',
];

/** What must survive a round trip: class, code, variant, message and payload. */
const shape = (e: RegionError) => ({ cls: e.constructor, code: e.code, variant: e.variant, message: e.message, payload: e.payload });

const viaBytes = (e: RegionError) => regionErrorFromWire(decodeMessage('errorpb.Error', encodeMessage('errorpb.Error', regionErrorToWire(e))));

describe('region errors', () => {
  it('covers every errorpb variant', () => {
    const covered = new Set(SAMPLES.map(([, f]) => f).filter((f) => f !== undefined));
    expect([...covered].sort()).toEqual([...VARIANT_FIELDS].sort());
  });

  it.each(SAMPLES.map(([e, f]) => [e.constructor.name, e, f] as const))(
    '%s: toWire sets exactly its variant plus message; fromWire round-trips exactly',
    (_name, err, field) => {
      const wire = regionErrorToWire(err) as Record<string, unknown>;
      expect(Object.keys(wire).sort()).toEqual(field === undefined ? ['message'] : ['message', field].sort());
      expect(wire['message']).toBe(err.message);
      expect(shape(viaBytes(err))).toEqual(shape(err));
      expect(shape(regionErrorFromWire(wire))).toEqual(shape(err));
    },
  );

  it('codes follow TiKV error_code names and are all distinct', () => {
    const codes = Object.values(RegionErrorCodes);
    expect(new Set(codes).size).toBe(codes.length);
    for (const c of codes) expect(c).toMatch(/^KV:Raftstore:[A-Za-z]+$/);
    expect(new NotLeaderError({ regionId: 1 }).code).toBe('KV:Raftstore:NotLeader');
    expect(new RaftEntryTooLargeError({ regionId: 1, entrySize: 1 }).code).toBe('KV:Raftstore:EntryTooLarge');
    expect(new EpochNotMatchError({ currentRegions: [] }).code).toBe('KV:Raftstore:EpochNotMatch');
  });

  it('are MrkvErrors with a readable default message, a name per class, and the cause kept', () => {
    const cause = new Error('boom');
    const e = new NotLeaderError({ regionId: 3, leader: { id: 4, storeId: 5, role: 'Voter' } }, { cause });
    expect(e).toBeInstanceOf(MrkvError);
    expect(e.name).toBe('NotLeaderError');
    expect(e.message).toBe('region 3: not leader, leader is peer 4 on store 5');
    expect(e.cause).toBe(cause);
    expect(new StaleCommandError().message).toBe('stale command');
  });

  it('NotLeader with and without a leader hint', () => {
    expect(viaBytes(new NotLeaderError({ regionId: 1 })).payload).toEqual({ regionId: 1 });
    expect(regionErrorToWire(new NotLeaderError({ regionId: 1 }))).toEqual({ message: 'region 1: not leader, leader unknown', notLeader: { regionId: 1, leader: null } });
  });

  it('EpochNotMatch keeps every current region with its epoch and peers (property)', () => {
    const key = fc.uint8Array({ maxLength: 6 }).map((b) => new Uint8Array(b));
    const regionArb = fc.record({
      id: fc.nat(),
      startKey: key,
      endKey: key,
      regionEpoch: fc.record({ confVer: fc.nat(), version: fc.nat() }),
      peers: fc.array(fc.record({ id: fc.nat(), storeId: fc.nat(), role: fc.constantFrom('Voter' as const, 'Learner' as const) }), { maxLength: 3 }),
    });
    fc.assert(
      fc.property(fc.array(regionArb, { maxLength: 10 }), fc.string(), (regions, message) => {
        const e = new EpochNotMatchError({ currentRegions: regions }, { message });
        expect(shape(viaBytes(e))).toEqual(shape(e));
      }),
      { numRuns: 100 },
    );
  });

  it('an errorpb.Error with no variant is an UnknownRegionError carrying the message', () => {
    const e = regionErrorFromWire(decodeMessage('errorpb.Error', encodeMessage('errorpb.Error', { message: 'from the future' })));
    expect(e).toBeInstanceOf(UnknownRegionError);
    expect(e.code).toBe(RegionErrorCodes.UNKNOWN);
    expect(e.message).toBe('from the future');
  });

  it('when several variants are set, the first in field order wins', () => {
    const e = regionErrorFromWire({ message: 'm', staleCommand: {}, notLeader: { regionId: 2 } });
    expect(e).toBeInstanceOf(NotLeaderError);
  });

  it('payloads mrkv cannot represent are refused with a ProtoError, not passed through', () => {
    expect(() => regionErrorFromWire({ regionNotFound: { regionId: '18446744073709551615' } })).toThrow(
      expect.objectContaining({ code: ProtoCodes.INTEGER_OUT_OF_RANGE }),
    );
    expect(() => regionErrorFromWire({ epochNotMatch: { currentRegions: [{ id: 1 }] } })).toThrow(
      expect.objectContaining({ code: ProtoCodes.MISSING_FIELD }),
    );
  });

  it('isRegionError / isRegionErrorCode', () => {
    expect(isRegionError(new StaleCommandError())).toBe(true);
    expect(isRegionError(new MrkvError('KV:Raftstore:NotLeader', 'looks like one'))).toBe(false);
    expect(isRegionError(new Error('plain'))).toBe(false);
    expect(isRegionError(undefined)).toBe(false);
    expect(isRegionErrorCode('KV:Raftstore:DiskFull')).toBe(true);
    expect(isRegionErrorCode('KV:Storage:KeyTooLarge')).toBe(false);
  });

  it.each(SAMPLES.map(([e]) => [e.constructor.name, e] as const))('%s survives a thread hop via toWire + reviveRegionError', (_n, err) => {
    const cloned = structuredClone(err.toWire());
    const revived = reviveRegionError(cloned);
    expect(revived).toBeDefined();
    expect(shape(revived!)).toEqual(shape(err));
  });

  it('reviveRegionError ignores non-region errors and inconsistent details', () => {
    expect(reviveRegionError({ code: 'KV:Storage:KeyTooLarge', message: 'x' })).toBeUndefined();
    expect(reviveRegionError({ code: 'KV:Raftstore:NotLeader', message: 'x', details: { variant: 'staleCommand', payload: {} } })).toBeUndefined();
    expect(reviveRegionError({ code: 'KV:Raftstore:NotLeader', message: 'x' })).toBeUndefined();
  });
});
