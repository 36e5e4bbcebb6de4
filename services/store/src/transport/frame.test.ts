/**
 * The hand-written raft framing against protobufjs: frames are byte-identical to encoded
 * BatchRaftMessage / SnapshotChunk messages, frames from any encoder (with unknown fields, as
 * TiKV's `last_observed_time`) split back into the exact message bytes, and bad bytes fail with
 * MalformedFrame only.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isMrkvError } from '@mrkv/common';
import { encodeMessage, encodeRaftMessage, type raft_serverpb } from '@mrkv/proto';
import { decodeSnapshotChunk, encodeBatchRaftFrame, encodeSnapshotChunk, splitBatchRaftFrame, varintSize } from './frame.js';

/** A RaftMessage with an entry of `size` bytes (sizes around varint boundaries matter). */
function raftMessage(regionId: number, size: number): raft_serverpb.RaftMessage {
  return {
    regionId,
    fromPeer: { id: 1, storeId: 1 },
    toPeer: { id: 2, storeId: 2 },
    regionEpoch: { confVer: 1, version: 3 },
    message: { msgType: 'MsgAppend', to: 2, from: 1, term: 5, logTerm: 5, index: 10, commit: 9, entries: [{ term: 5, index: 11, data: Buffer.alloc(size, regionId & 0xff) }] },
  };
}

const arbMessage = fc
  .record({ regionId: fc.integer({ min: 1, max: 2 ** 40 }), size: fc.oneof(fc.integer({ min: 0, max: 200 }), fc.constantFrom(100, 127, 128, 16_383, 16_384, 70_000)) })
  .map(({ regionId, size }) => raftMessage(regionId, size));

describe('BatchRaftMessage framing', () => {
  it('is byte-identical to protobufjs, and splits back into the same message bytes', () => {
    fc.assert(
      fc.property(fc.array(arbMessage, { minLength: 0, maxLength: 12 }), (objects) => {
        const msgs = objects.map(encodeRaftMessage);
        const ours = encodeBatchRaftFrame(msgs);
        const theirs = encodeMessage('tikvpb.BatchRaftMessage', { msgs: objects });
        expect(Buffer.from(ours).equals(Buffer.from(theirs))).toBe(true);
        const split = splitBatchRaftFrame(ours);
        expect(split.map((m) => Buffer.from(m).toString('hex'))).toEqual(msgs.map((m) => Buffer.from(m).toString('hex')));
      }),
      { numRuns: 60 },
    );
  });

  it('splits a TiKV-shaped frame with unknown fields (last_observed_time = 13) around the messages', () => {
    const m1 = encodeRaftMessage(raftMessage(7, 3));
    const m2 = encodeRaftMessage(raftMessage(8, 300));
    // field 13 varint (tag 0x68), field 20 fixed64 (tag 0xa1 0x01), field 21 fixed32 (tag 0xad 0x01)
    const frame = Buffer.concat([
      Buffer.from([0x68, 0xe8, 0x07]),
      encodeBatchRaftFrame([m1]),
      Buffer.from([0xa1, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0xad, 0x01, 1, 2, 3, 4]),
      encodeBatchRaftFrame([m2]),
    ]);
    const split = splitBatchRaftFrame(frame);
    expect(split.map((m) => Buffer.from(m).toString('hex'))).toEqual([m1, m2].map((m) => Buffer.from(m).toString('hex')));
  });

  it('refuses malformed frames with MalformedFrame and nothing else', () => {
    const bad = [
      Buffer.from([0x0a, 0x05, 1, 2]), // length past the end
      Buffer.from([0x0a]), // truncated varint
      Buffer.from([0x08, 0x01]), // msgs with wire type 0
      Buffer.from([0x0b]), // wire type 3 (groups)
      Buffer.from([0x00, 0x01]), // field number 0
      Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), // 11-byte varint
    ];
    for (const b of bad) {
      try {
        splitBatchRaftFrame(b);
        expect.unreachable(`accepted ${b.toString('hex')}`);
      } catch (e) {
        expect(isMrkvError(e) && e.code).toBe('KV:Server:MalformedFrame');
      }
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          splitBatchRaftFrame(bytes);
        } catch (e) {
          expect(isMrkvError(e) && e.code).toBe('KV:Server:MalformedFrame');
        }
      }),
      { numRuns: 300 },
    );
  });

  it('sizes varints like protobuf', () => {
    for (const [n, size] of [
      [0, 1],
      [127, 1],
      [128, 2],
      [16_383, 2],
      [16_384, 3],
      [2 ** 32, 5],
      [2 ** 53 - 1, 8],
    ] as const) {
      expect(varintSize(n)).toBe(size);
    }
  });
});

describe('SnapshotChunk framing', () => {
  it('matches protobufjs for the head chunk and for data chunks, and decodes both', () => {
    const msg = raftMessage(3, 40);
    const head = encodeRaftMessage(msg);
    const data = Buffer.alloc(200_000, 7);
    expect(Buffer.from(encodeSnapshotChunk({ message: head })).equals(Buffer.from(encodeMessage('raft_serverpb.SnapshotChunk', { message: msg })))).toBe(true);
    expect(Buffer.from(encodeSnapshotChunk({ data })).equals(Buffer.from(encodeMessage('raft_serverpb.SnapshotChunk', { data })))).toBe(true);
    const decodedHead = decodeSnapshotChunk(encodeMessage('raft_serverpb.SnapshotChunk', { message: msg }));
    expect(Buffer.from(decodedHead.message!).equals(Buffer.from(head))).toBe(true);
    expect(decodedHead.data).toBeUndefined();
    expect(Buffer.from(decodeSnapshotChunk(encodeSnapshotChunk({ data })).data!).equals(data)).toBe(true);
  });

  it('refuses a chunk whose fields have the wrong wire type', () => {
    expect(() => decodeSnapshotChunk(Buffer.from([0x10, 0x01]))).toThrow(/malformed SnapshotChunk/);
  });
});
