import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeMessage, encodeMessage } from '@mrkv/proto';
import type { Message } from '@mrkv/raft';
import { decodeStoreRaftMessage, encodeOutgoingRaftMessage, encodeStoreRaftMessage, type StoreRaftMessage } from './raft-message.js';
import { PbReader, PbWriter } from './pb.js';
import { decodeRaftCmd, encodeRaftCmd, type AdminCmd, type RaftCmd } from './raft-cmd.js';

const u8 = (s: string) => new TextEncoder().encode(s);

function sample(): StoreRaftMessage {
  const message: Message = {
    msgType: 3,
    to: 2,
    from: 1,
    term: 7,
    logTerm: 6,
    index: 100,
    entries: [
      { entryType: 0, term: 7, index: 101, data: u8('hello') },
      { entryType: 2, term: 7, index: 102, data: u8('cc'), context: u8('ctx') },
    ],
    commit: 99,
    reject: false,
    rejectHint: 0,
    requestSnapshot: 0,
    priority: -3,
    snapshot: {
      data: u8('snapdata'),
      metadata: { index: 90, term: 5, confState: { voters: [1, 2, 3], learners: [4], votersOutgoing: [], learnersNext: [], autoLeave: false } },
    },
  };
  return {
    regionId: 2 ** 40 + 5,
    fromPeer: { id: 11, storeId: 1, role: 'Voter' },
    toPeer: { id: 12, storeId: 2, role: 'Learner' },
    message,
    regionEpoch: { confVer: 3, version: 9 },
    isTombstone: false,
    startKey: u8('a'),
    endKey: u8('z'),
    diskUsage: 'AlreadyFull',
  };
}

describe('RaftMessage codec', () => {
  it('round-trips and agrees with the generic protobuf codec', () => {
    const m = sample();
    const bytes = encodeStoreRaftMessage(m);
    expect(decodeStoreRaftMessage(bytes)).toEqual(m);
    const generic = decodeMessage('raft_serverpb.RaftMessage', bytes);
    expect(generic.regionId).toBe(String(m.regionId));
    expect(generic.message?.msgType).toBe('MsgAppend');
    expect(generic.message?.entries.length).toBe(2);
    expect(generic.message?.priority).toBe('-3');
    expect(generic.message?.snapshot?.metadata?.confState?.voters).toEqual(['1', '2', '3']);
    expect(generic.toPeer?.role).toBe('Learner');
    expect(generic.diskUsage).toBe('AlreadyFull');
    // And the other way round: what the generic codec writes, we read.
    const back = encodeMessage('raft_serverpb.RaftMessage', generic);
    expect(decodeStoreRaftMessage(back)).toEqual(m);
  });

  it('rejects garbage with a typed error and never throws anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          decodeStoreRaftMessage(bytes);
        } catch (e) {
          expect((e as { code?: string }).code).toBe('KV:Common:InvalidArgument');
        }
      }),
    );
  });
});

describe('RaftMessage range keys', () => {
  it('shares the arrays of the keys decoded last for the region while they stay the same', () => {
    const m = { ...sample(), regionId: 77, startKey: u8('b'), endKey: u8('k') };
    const first = decodeStoreRaftMessage(encodeStoreRaftMessage(m));
    const second = decodeStoreRaftMessage(encodeStoreRaftMessage(m));
    expect(second.startKey).toBe(first.startKey);
    expect(second.endKey).toBe(first.endKey);
    // A split changed the range: fresh keys with the new bytes, then shared again.
    const split = decodeStoreRaftMessage(encodeStoreRaftMessage({ ...m, endKey: u8('f') }));
    expect(split.startKey).toBe(first.startKey);
    expect(split.endKey).toEqual(u8('f'));
    expect(decodeStoreRaftMessage(encodeStoreRaftMessage({ ...m, endKey: u8('f') })).endKey).toBe(split.endKey);
    // Another region in the same slot (77 + 4096) never gets region 77's keys.
    const other = decodeStoreRaftMessage(encodeStoreRaftMessage({ ...m, regionId: 77 + 4096, startKey: u8('x'), endKey: u8('y') }));
    expect([other.startKey, other.endKey]).toEqual([u8('x'), u8('y')]);
    expect(decodeStoreRaftMessage(encodeStoreRaftMessage(m)).startKey).toEqual(u8('b'));
  });
});

describe('outgoing RaftMessages (chunked views)', () => {
  const outgoing = (m: StoreRaftMessage): Uint8Array =>
    encodeOutgoingRaftMessage(m.regionId, m.fromPeer, m.toPeer, m.message, m.regionEpoch, m.isTombstone, m.startKey, m.endKey, m.diskUsage);

  it('writes the same bytes as encodeStoreRaftMessage, and earlier views survive later encodes', () => {
    const base = sample();
    const msgs: StoreRaftMessage[] = [];
    const views: Uint8Array[] = [];
    // Enough messages to fill a few 64 KiB chunks, with entries from empty to 2 KiB.
    for (let i = 0; i < 200; i++) {
      const data = new Uint8Array((i * 97) % 2000).fill(i % 251);
      const m = { ...base, regionId: i + 1, message: { ...base.message, index: i, entries: [{ entryType: 0 as const, term: 7, index: i + 1, data }] } };
      msgs.push(m);
      views.push(outgoing(m));
    }
    for (let i = 0; i < msgs.length; i++) {
      expect(Buffer.from(views[i]!).equals(Buffer.from(encodeStoreRaftMessage(msgs[i]!)))).toBe(true);
      if (i % 20 === 0) expect(decodeStoreRaftMessage(views[i]!)).toEqual(msgs[i]);
    }
  });

  it('encodes a message larger than a chunk', () => {
    const base = sample();
    const m = { ...base, message: { ...base.message, entries: [{ entryType: 0 as const, term: 7, index: 1, data: new Uint8Array(200_000).fill(5) }] } };
    const before = outgoing(sample());
    const big = outgoing(m);
    expect(big.length).toBeGreaterThan(200_000);
    expect(Buffer.from(big).equals(Buffer.from(encodeStoreRaftMessage(m)))).toBe(true);
    expect(decodeStoreRaftMessage(before)).toEqual(sample());
  });
});

describe('PbWriter nested messages', () => {
  it('moves short bodies down over the reserved length bytes, also when the buffer grows mid-message', () => {
    for (const initial of [1, 6, 7, 8, 9, 16]) {
      const w = new PbWriter(initial);
      const outer = w.begin(1);
      const inner = w.begin(2);
      w.u64(1, 3);
      w.end(inner);
      w.bytes(3, new Uint8Array(200).fill(9));
      const empty = w.begin(4);
      w.end(empty);
      w.end(outer);
      const r = new PbReader(w.finish());
      expect(r.next()).toBe(1);
      const o = r.enter();
      expect([r.next(), r.wire]).toEqual([2, 2]);
      const i = r.enter();
      expect([r.next(), r.varint()]).toEqual([1, 3]);
      r.leave(i);
      expect(r.next()).toBe(3);
      expect(r.bytes()).toEqual(new Uint8Array(200).fill(9));
      expect(r.next()).toBe(4);
      const e = r.enter();
      expect(r.done()).toBe(true);
      r.leave(e);
      expect(r.done()).toBe(true);
      r.leave(o);
      expect(r.done()).toBe(true);
    }
  });

  it('writes varints above 2^31 and below 0 like the generic codec', () => {
    for (const v of [0x7fffffff, 0x80000000, 2 ** 40 + 5, Number.MAX_SAFE_INTEGER, -1, -(2 ** 40)]) {
      const w = new PbWriter(4);
      w.varint(v);
      expect(new PbReader(w.finish()).varint()).toBe(v);
    }
  });
});

describe('RaftCmd codec', () => {
  it('round-trips data and admin commands and agrees with the proto definition', () => {
    const header = { regionId: 5, peer: { id: 6, storeId: 1, role: 'Voter' as const }, epoch: { confVer: 2, version: 3 }, term: 4 };
    const cmd: RaftCmd = {
      header,
      requests: [
        { t: 'put', key: u8('k'), value: u8('v') },
        { t: 'delete', key: u8('d') },
        { t: 'deleteRange', start: u8('a'), end: u8('b') },
        { t: 'cas', key: u8('c'), value: u8('n'), previousValue: u8('o'), previousNotExist: false, delete: true },
      ],
    };
    const bytes = encodeRaftCmd(cmd);
    expect(decodeRaftCmd(bytes)).toEqual({ ...cmd, admin: undefined });
    const generic = decodeMessage('mrkv.raftcmd.RaftCmdRequest', bytes);
    expect(generic.requests.map((r) => r.cmdType)).toEqual(['Put', 'Delete', 'DeleteRange', 'CompareAndSwap']);
    expect(generic.requests[3]?.cas?.delete).toBe(true);
    const admins: AdminCmd[] = [
      { t: 'compactLog', compactIndex: 10, compactTerm: 3 },
      { t: 'batchSplit', splits: [{ splitKey: u8('m'), newRegionId: 9, newPeerIds: [10, 11] }], rightDerive: true },
      { t: 'changePeerV2', changes: [{ changeType: 'AddLearnerNode', peer: { id: 7, storeId: 3, role: 'Learner' } }] },
      { t: 'computeHash' },
      { t: 'commitMerge', source: { id: 3, startKey: u8('a'), endKey: u8('m'), regionEpoch: { confVer: 2, version: 4 }, peers: [{ id: 4, storeId: 1, role: 'Voter' }] }, commit: 17, entries: [{ entryType: 0, term: 3, index: 16, data: u8('x') }] },
      { t: 'prepareMerge', minIndex: 12, target: { id: 5, startKey: u8('m'), endKey: new Uint8Array(), regionEpoch: { confVer: 1, version: 2 }, peers: [] } },
      { t: 'rollbackMerge', commit: 17 },
      { t: 'verifyHash', index: 42, hash: u8('abcd') },
    ];
    for (const admin of admins) {
      const c: RaftCmd = { header, requests: [], admin };
      const enc = encodeRaftCmd(c);
      expect(decodeRaftCmd(enc)).toEqual(c);
      expect(decodeMessage('mrkv.raftcmd.RaftCmdRequest', enc).adminRequest).not.toBeNull();
    }
  });
});

describe('RaftCmd data requests, decoded without a field map', () => {
  // The oracle: the request body read into a field → value map, last occurrence winning.
  type Field = { f: number; v: number | Uint8Array };
  const CMD = { put: 3, delete: 4, deleteRange: 7, cas: 100 } as const;
  const BODY_FIELD = { put: 4, delete: 5, deleteRange: 8, cas: 100 } as const;
  function oracle(t: keyof typeof CMD, fields: Field[]): unknown {
    const m = new Map<number, number | Uint8Array>(fields.map(({ f, v }) => [f, v]));
    const b = (f: number) => (m.get(f) instanceof Uint8Array ? m.get(f) : new Uint8Array());
    const n = (f: number) => (typeof m.get(f) === 'number' ? m.get(f) : 0);
    switch (t) {
      case 'put':
        return { t, key: b(2), value: b(3) };
      case 'delete':
        return { t, key: b(2) };
      case 'deleteRange':
        return { t, start: b(2), end: b(3) };
      case 'cas':
        return { t, key: b(2), value: b(3), previousValue: b(4), previousNotExist: n(5) !== 0, delete: n(6) !== 0 };
    }
  }
  const field = fc.record({
    f: fc.integer({ min: 1, max: 8 }),
    v: fc.oneof(fc.integer({ min: 0, max: 2 ** 40 }), fc.uint8Array({ maxLength: 40 })),
  });

  it('matches the map oracle for any mix of field numbers and wire types', () => {
    fc.assert(
      fc.property(fc.constantFrom('put', 'delete', 'deleteRange', 'cas' as const), fc.array(field, { maxLength: 12 }), (t, fields) => {
        const w = new PbWriter(64);
        const header = w.begin(1);
        w.u64(1, 7);
        w.end(header);
        const req = w.begin(2);
        w.u64(1, CMD[t]);
        const body = w.begin(BODY_FIELD[t]);
        for (const { f, v } of fields) {
          if (typeof v === 'number') {
            w.tag(f, 0);
            w.varint(v);
          } else {
            w.tag(f, 2);
            w.varint(v.length);
            for (const x of v) w.varint(x < 0x80 ? x : 0);
          }
        }
        w.end(body);
        w.end(req);
        const bytes = w.finish();
        // Bytes values were written as varints of their bytes: rebuild what they read back as.
        const expected = fields.map(({ f, v }) => ({ f, v: typeof v === 'number' ? v : Uint8Array.from(v, (x) => (x < 0x80 ? x : 0)) }));
        expect(decodeRaftCmd(bytes).requests).toEqual([oracle(t, expected)]);
      }),
    );
  });
});
