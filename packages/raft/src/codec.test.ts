import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeConfChange, decodeConfChangeV2, encodeConfChange, encodeConfChangeV2 } from './codec.js';
import { asV2, confChangeFromEntry, confChangeToEntryData, confChangesFromString, confChangesToString, enterJoint, leaveJoint } from './conf-change.js';
import { RaftCodes, isRaftError } from './errors.js';
import type { ConfChange, ConfChangeV2 } from './types.js';
import { ConfChangeTransition, ConfChangeType, EntryType } from './types.js';

const bytes = (...b: number[]) => new Uint8Array(b);

describe('conf change codec', () => {
  it('encodes ConfChange like protobuf (field numbers, varints, omitted zeros)', () => {
    const cc: ConfChange = { id: 300, changeType: ConfChangeType.AddLearnerNode, nodeId: 5, context: bytes(0xaa) };
    // 08 ac 02 | 10 02 | 18 05 | 22 01 aa
    expect([...encodeConfChange(cc)]).toEqual([0x08, 0xac, 0x02, 0x10, 0x02, 0x18, 0x05, 0x22, 0x01, 0xaa]);
    expect(decodeConfChange(encodeConfChange(cc))).toEqual(cc);
    expect(encodeConfChange({ id: 0, changeType: 0, nodeId: 0, context: bytes() }).length).toBe(0);
  });

  it('encodes ConfChangeV2 with nested singles, and the empty change as zero bytes', () => {
    const cc: ConfChangeV2 = {
      transition: ConfChangeTransition.Explicit,
      changes: [
        { changeType: ConfChangeType.AddNode, nodeId: 2 },
        { changeType: ConfChangeType.RemoveNode, nodeId: 3 },
      ],
      context: bytes(),
    };
    // 08 02 | 12 02 10 02 | 12 04 08 01 10 03
    expect([...encodeConfChangeV2(cc)]).toEqual([0x08, 0x02, 0x12, 0x02, 0x10, 0x02, 0x12, 0x04, 0x08, 0x01, 0x10, 0x03]);
    expect(decodeConfChangeV2(encodeConfChangeV2(cc))).toEqual(cc);
    expect(decodeConfChangeV2(bytes())).toEqual({ transition: 0, changes: [], context: bytes() });
  });

  it('round-trips arbitrary values, including ids up to 2^53-1 (property)', () => {
    const id = fc.oneof(fc.nat(1000), fc.constant(Number.MAX_SAFE_INTEGER), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }));
    const ct = fc.constantFrom(0, 1, 2) as fc.Arbitrary<ConfChangeType>;
    const ctx = fc.uint8Array({ maxLength: 20 });
    fc.assert(
      fc.property(id, ct, id, ctx, (i, t, n, c) => {
        const cc: ConfChange = { id: i, changeType: t, nodeId: n, context: c };
        expect(decodeConfChange(encodeConfChange(cc))).toEqual(cc);
      }),
    );
    fc.assert(
      fc.property(fc.constantFrom(0, 1, 2) as fc.Arbitrary<ConfChangeTransition>, fc.array(fc.record({ changeType: ct, nodeId: id }), { maxLength: 5 }), ctx, (tr, changes, c) => {
        const cc: ConfChangeV2 = { transition: tr, changes, context: c };
        expect(decodeConfChangeV2(encodeConfChangeV2(cc))).toEqual(cc);
      }),
    );
  });

  it('skips unknown fields of every wire type', () => {
    // field 9 varint, field 10 fixed64, field 11 bytes, field 12 fixed32, then node_id = 7
    const b = bytes(0x48, 0x01, 0x51, 1, 2, 3, 4, 5, 6, 7, 8, 0x5a, 0x02, 9, 9, 0x65, 1, 2, 3, 4, 0x18, 0x07);
    expect(decodeConfChange(b).nodeId).toBe(7);
  });

  it('refuses bad bytes with a typed error, never reading out of bounds (property)', () => {
    const bad = [
      bytes(0x08), // truncated varint
      bytes(0x22, 0x05, 0x01), // length past the end
      bytes(0x10, 0x07), // unknown change type
      bytes(0x0a, 0x00), // id with wire type 2
      bytes(0x00), // field 0
      bytes(0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), // 11-byte varint
      bytes(0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f), // > 2^53
      bytes(0x0b), // wire type 3 (groups) unsupported
    ];
    for (const b of bad) {
      expect(() => decodeConfChange(b)).toThrow(expect.objectContaining({ code: RaftCodes.CODEC_ERROR }));
    }
    expect(() => decodeConfChangeV2(bytes(0x12, 0x02, 0x10))).toThrow(expect.objectContaining({ code: RaftCodes.CODEC_ERROR }));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (b) => {
        for (const dec of [decodeConfChange, decodeConfChangeV2]) {
          try {
            dec(b);
          } catch (e) {
            expect(isRaftError(e, RaftCodes.CODEC_ERROR)).toBe(true);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses to encode non-integer ids', () => {
    expect(() => encodeConfChange({ id: 1.5, changeType: 0, nodeId: 1, context: bytes() })).toThrow(expect.objectContaining({ code: RaftCodes.CODEC_ERROR }));
  });
});

describe('conf change helpers', () => {
  it('classifies joint transitions like eraftpb', () => {
    const v = (transition: ConfChangeTransition, n: number): ConfChangeV2 => ({
      transition,
      changes: Array.from({ length: n }, (_, i) => ({ changeType: ConfChangeType.AddNode, nodeId: i + 1 })),
      context: bytes(),
    });
    expect(enterJoint(v(ConfChangeTransition.Auto, 1))).toBeUndefined();
    expect(enterJoint(v(ConfChangeTransition.Auto, 2))).toEqual({ autoLeave: true });
    expect(enterJoint(v(ConfChangeTransition.Implicit, 1))).toEqual({ autoLeave: true });
    expect(enterJoint(v(ConfChangeTransition.Explicit, 1))).toEqual({ autoLeave: false });
    expect(leaveJoint(v(ConfChangeTransition.Auto, 0))).toBe(true);
    expect(leaveJoint(v(ConfChangeTransition.Explicit, 0))).toBe(false);
  });

  it('maps values to entries and back', () => {
    const v1: ConfChange = { id: 1, changeType: ConfChangeType.RemoveNode, nodeId: 4, context: bytes() };
    const e1 = confChangeToEntryData(v1);
    expect(e1.entryType).toBe(EntryType.EntryConfChange);
    expect(confChangeFromEntry({ entryType: e1.entryType, term: 1, index: 1, data: e1.data })).toEqual(v1);
    expect(asV2(v1)).toEqual({ transition: 0, changes: [{ changeType: ConfChangeType.RemoveNode, nodeId: 4 }], context: bytes() });
    expect(() => confChangeFromEntry({ entryType: EntryType.EntryNormal, term: 1, index: 1, data: bytes() })).toThrow(expect.objectContaining({ code: RaftCodes.CODEC_ERROR }));
  });

  it('parses and prints the short change notation', () => {
    const ccs = confChangesFromString('v1 l2  r3 u4');
    expect(confChangesToString(ccs)).toBe('v1 l2 r3 v4');
    expect(() => confChangesFromString('x1')).toThrow(expect.objectContaining({ code: RaftCodes.CONF_CHANGE_ERROR }));
    expect(() => confChangesFromString('v0')).toThrow(expect.objectContaining({ code: RaftCodes.CONF_CHANGE_ERROR }));
  });
});
