/**
 * Encoding tests: golden bytes (the wire format itself, independent of protobufjs), exact round
 * trips of every field of every message reachable from every served method through the gRPC
 * serializers, unknown-field tolerance, malformed input, and the typed codecs.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { isAbsolute, join } from 'node:path';
import protobuf from 'protobufjs';
import {
  decodeByName,
  decodeEntry,
  decodeMessage,
  decodeRaftApplyState,
  decodeRaftCmdRequest,
  decodeRaftCmdResponse,
  decodeRaftLocalState,
  decodeRaftMessage,
  decodeRegionLocalState,
  decodeStoreIdent,
  encodeByName,
  encodeEntry,
  encodeMessage,
  encodeRaftApplyState,
  encodeRaftCmdRequest,
  encodeRaftCmdResponse,
  encodeRaftLocalState,
  encodeRaftMessage,
  encodeRegionLocalState,
  encodeStoreIdent,
  loadProtos,
  pdService,
  protobufRoot,
  protoDir,
  protoFiles,
  ProtoCodes,
  ProtoError,
  tikvService,
} from './index.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('golden bytes (kvproto wire format)', () => {
  it('kvrpcpb.RawGetRequest with a full Context', () => {
    const msg = {
      context: { regionId: 1, regionEpoch: { confVer: 1, version: 2 }, peer: { id: 3, storeId: 4 } },
      key: Buffer.from('k'),
      cf: 'default',
    };
    const expected = '0a0e' + '0801' + '12040801' + '1002' + '1a0408031004' + '12016b' + '1a0764656661756c74';
    expect(hex(encodeMessage('kvrpcpb.RawGetRequest', msg))).toBe(expected);
    const back = decodeMessage('kvrpcpb.RawGetRequest', Buffer.from(expected, 'hex'));
    expect(back.context?.regionId).toBe('1');
    expect(back.context?.regionEpoch).toEqual({ confVer: '1', version: '2' });
    expect(back.context?.peer).toEqual({ id: '3', storeId: '4', role: 'Voter', isWitness: false });
    expect(Buffer.from(back.key).toString()).toBe('k');
    expect(back.cf).toBe('default');
  });

  it('errorpb.Error with NotLeader', () => {
    const msg = { message: 'x', notLeader: { regionId: 7, leader: { id: 8, storeId: 9 } } };
    expect(hex(encodeMessage('errorpb.Error', msg))).toBe('0a0178' + '1208' + '0807' + '120408081009');
  });

  it('tikvpb.BatchCommandsRequest: Raw arm 13, Empty arm 255, packed request ids', () => {
    const msg = { requests: [{ RawGet: { key: Buffer.from('a') } }, { Empty: { testId: 5 } }], requestIds: [1, 300] };
    const expected = '0a05' + '6a03' + '120161' + '0a05' + 'fa0f02' + '0805' + '1203' + '01ac02';
    expect(hex(encodeMessage('tikvpb.BatchCommandsRequest', msg))).toBe(expected);
    const back = decodeMessage('tikvpb.BatchCommandsRequest', Buffer.from(expected, 'hex'));
    expect(back.requestIds).toEqual(['1', '300']);
    expect(back.requests.map((r) => r.cmd)).toEqual(['RawGet', 'Empty']);
    expect(back.requests[1]!.Empty).toEqual({ testId: '5', delayTime: '0' });
  });

  it('pdpb.AllocIDResponse with a full-range uint64', () => {
    const msg = { header: { clusterId: 42 }, id: '18446744073709551615', count: 1000 };
    const expected = '0a02082a' + '10ffffffffffffffffff01' + '18e807';
    expect(hex(encodeMessage('pdpb.AllocIDResponse', msg))).toBe(expected);
    expect(decodeMessage('pdpb.AllocIDResponse', Buffer.from(expected, 'hex')).id).toBe('18446744073709551615');
  });

  it('eraftpb.Entry keeps context at field 6 (after data 4)', () => {
    const e = { entryType: 'EntryConfChange' as const, term: 1, index: 2, data: Buffer.from('ab'), context: Buffer.from('c') };
    expect(hex(encodeEntry(e))).toBe('0801' + '1001' + '1802' + '22026162' + '320163');
  });
});

// ---- Exact round trips of every field, through the very serializers gRPC uses ----

const reflect = protobufRoot();

const SCALARS: Record<string, unknown> = {
  uint64: '18446744073709551615',
  fixed64: '18446744073709551615',
  int64: '-9223372036854775808',
  sint64: '-9223372036854775808',
  sfixed64: '-9223372036854775808',
  uint32: 4294967295,
  fixed32: 4294967295,
  int32: -2147483648,
  sint32: -2147483648,
  sfixed32: -2147483648,
  double: 1.5,
  float: 1.5,
  bool: true,
  string: 'héllo ✓',
};

/** A value of field `f` in decoded (output) form, as non-default as possible. */
function sampleValue(f: protobuf.Field, depth: number): unknown {
  const one = (): unknown => {
    if (f.resolvedType instanceof protobuf.Enum) {
      const names = Object.keys(f.resolvedType.values);
      return names[names.length - 1];
    }
    if (f.resolvedType instanceof protobuf.Type) return depth > 0 ? sample(f.resolvedType, depth - 1) : null;
    if (f.type === 'bytes') return Buffer.from([0, 1, 254, 255]);
    if (!(f.type in SCALARS)) throw new Error(`no sample for ${f.type}`);
    return SCALARS[f.type];
  };
  if (f instanceof protobuf.MapField) {
    const keys = f.keyType === 'string' ? ['a', 'b'] : ['1', '18446744073709551615'];
    const v = one();
    return v === null ? {} : Object.fromEntries(keys.map((k) => [k, v]));
  }
  if (f.repeated) {
    const v = one();
    return v === null ? [] : [v, one()];
  }
  return one();
}

/** A message with every field set (oneofs: the arm `arms[oneofName]`, default the first). */
function sample(type: protobuf.Type, depth: number, arms: Record<string, string> = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of type.fieldsArray) if (f.partOf === null) out[f.name] = sampleValue(f, depth);
  for (const o of type.oneofsArray) {
    const arm = arms[o.name] ?? o.fieldsArray[0]!.name;
    out[arm] = sampleValue(type.fields[arm]!, depth);
    out[o.name] = arm;
  }
  return out;
}

interface AnyMethod {
  path: string;
  requestSerialize(v: unknown): Buffer;
  requestDeserialize(b: Buffer): unknown;
  responseSerialize(v: unknown): Buffer;
  responseDeserialize(b: Buffer): unknown;
}

const methods = [
  ...Object.entries(tikvService() as unknown as Record<string, AnyMethod>).map(([m, d]) => ['tikvpb.Tikv', m, d] as const),
  ...Object.entries(pdService() as unknown as Record<string, AnyMethod>).map(([m, d]) => ['pdpb.PD', m, d] as const),
];

describe('round trips through the gRPC serializers', () => {
  it.each(methods)('%s/%s: every request and response field survives exactly', (svc, method, def) => {
    const m = reflect.lookupService(svc).methods[method]!;
    for (const [type, serialize, deserialize] of [
      [m.resolvedRequestType!, def.requestSerialize, def.requestDeserialize],
      [m.resolvedResponseType!, def.responseSerialize, def.responseDeserialize],
    ] as const) {
      const value = sample(type, 4);
      const bytes = serialize(value);
      expect(deserialize(bytes)).toEqual(value);
      // Re-encoding the decoded form gives the same bytes: nothing is lost or reordered.
      expect(hex(serialize(deserialize(bytes)))).toBe(hex(bytes));
    }
  });

  it.each(['tikvpb.BatchCommandsRequest', 'tikvpb.BatchCommandsResponse'])('%s: every oneof arm round-trips', (name) => {
    const frame = reflect.lookupType(name);
    const item = frame.fields[name.endsWith('Request') ? 'requests' : 'responses']!.resolvedType as protobuf.Type;
    for (const arm of item.oneofs['cmd']!.fieldsArray) {
      const value = { ...sample(frame, 0), [frame.fieldsArray[0]!.name]: [sample(item, 3, { cmd: arm.name })] };
      expect(decodeByName(name, encodeByName(name, value)), arm.name).toEqual(value);
    }
  });
});

// ---- Unknown-field tolerance ----

/** A private copy of the contract whose types can be extended, as a newer peer's would be. */
function futureRoot(): protobuf.Root {
  const r = new protobuf.Root();
  r.resolvePath = (_o, t) => (isAbsolute(t) ? t : join(protoDir(), t));
  r.loadSync([...protoFiles()], { keepCase: false });
  r.resolveAll();
  return r;
}

function addFutureFields(t: protobuf.Type) {
  t.add(new protobuf.Field('futureString', 1000, 'string'));
  t.add(new protobuf.Field('futureFixed64', 1001, 'fixed64'));
  t.add(new protobuf.Field('futureFixed32', 1002, 'fixed32'));
  t.add(new protobuf.Field('futureVarints', 1003, 'uint64', 'repeated'));
  t.add(new protobuf.Field('futureRegion', 1004, 'metapb.Region'));
}

const FUTURE_VALUES = {
  futureString: 'from a newer kvproto',
  futureFixed64: '12345678901234',
  futureFixed32: 7,
  futureVarints: [1, 2, 3],
  futureRegion: { id: 9, startKey: Buffer.from('a'), peers: [{ id: 1, storeId: 2 }] },
};

describe('unknown-field tolerance', () => {
  it('a request with unknown fields at every level decodes with all known fields intact', () => {
    const r = futureRoot();
    for (const n of ['kvrpcpb.RawBatchPutRequest', 'kvrpcpb.Context', 'kvrpcpb.KvPair', 'metapb.RegionEpoch']) addFutureFields(r.lookupType(n));
    const T = r.lookupType('kvrpcpb.RawBatchPutRequest');
    const known = {
      context: { regionId: 5, regionEpoch: { confVer: 2, version: 3 }, peer: { id: 6, storeId: 7 }, term: 9 },
      pairs: [
        { key: Buffer.from('k1'), value: Buffer.from('v1') },
        { key: Buffer.from('k2'), value: Buffer.from('v2') },
      ],
      cf: 'default',
      ttls: [0, 0],
    };
    const withFuture = {
      ...known,
      ...FUTURE_VALUES,
      context: { ...known.context, ...FUTURE_VALUES, regionEpoch: { ...known.context.regionEpoch, ...FUTURE_VALUES } },
      pairs: known.pairs.map((p) => ({ ...p, ...FUTURE_VALUES })),
    };
    const bytes = T.encode(T.fromObject(withFuture)).finish();
    const decoded = tikvService().RawBatchPut.requestDeserialize(Buffer.from(bytes));
    const expected = tikvService().RawBatchPut.requestDeserialize(tikvService().RawBatchPut.requestSerialize(known));
    expect(decoded).toEqual(expected);
    expect(decoded.context?.regionEpoch).toEqual({ confVer: '2', version: '3' });
    expect(decoded.pairs.map((p) => Buffer.from(p.value).toString())).toEqual(['v1', 'v2']);
    expect(Object.keys(decoded)).not.toContain('futureString');
  });

  it('kvproto fields mrkv leaves out (Context.trace_context 23, keyspace_identity 38) are skipped', () => {
    const r = futureRoot();
    const ctx = r.lookupType('kvrpcpb.Context');
    ctx.add(new protobuf.Field('traceContext', 23, 'metapb.Region'));
    ctx.add(new protobuf.Field('keyspaceIdentity', 38, 'metapb.Peer'));
    const Req = r.lookupType('kvrpcpb.RawGetRequest');
    const bytes = Req.encode(
      Req.fromObject({ context: { regionId: 1, traceContext: { id: 3 }, keyspaceIdentity: { id: 4 }, apiVersion: 0 }, key: Buffer.from('x') }),
    ).finish();
    const decoded = decodeMessage('kvrpcpb.RawGetRequest', bytes);
    expect(decoded.context?.regionId).toBe('1');
    expect(Buffer.from(decoded.key).toString()).toBe('x');
  });

  it('a BatchCommands frame with a transactional arm mrkv does not mirror keeps its ids and other commands', () => {
    const r = futureRoot();
    const item = r.lookupType('tikvpb.BatchCommandsRequest.Request');
    // kvproto's `Get = 1` arm (kvrpcpb.GetRequest starts with context = 1, key = 2, like RawGetRequest).
    item.oneofs['cmd']!.add(new protobuf.Field('Get', 1, 'kvrpcpb.RawGetRequest'));
    const Frame = r.lookupType('tikvpb.BatchCommandsRequest');
    const bytes = Frame.encode(
      Frame.fromObject({ requests: [{ Get: { key: Buffer.from('t') } }, { RawGet: { key: Buffer.from('r') } }], requestIds: [10, 11] }),
    ).finish();
    const decoded = tikvService().BatchCommands.requestDeserialize(Buffer.from(bytes));
    expect(decoded.requestIds).toEqual(['10', '11']);
    expect(decoded.requests[0]!.cmd).toBeUndefined();
    expect(decoded.requests[1]!.cmd).toBe('RawGet');
    expect(Buffer.from(decoded.requests[1]!.RawGet!.key).toString()).toBe('r');
  });

  it("StoreStats.network_slow_scores reads kvproto's map<uint64, uint64> encoding", () => {
    const r = futureRoot();
    const stats = r.lookupType('pdpb.StoreStats');
    stats.remove(stats.fields['networkSlowScores']!);
    stats.add(new protobuf.MapField('networkSlowScores', 30, 'uint64', 'uint64'));
    r.resolveAll();
    const bytes = stats.encode(stats.fromObject({ storeId: 1, networkSlowScores: { '7': 3, '18446744073709551615': 100 } })).finish();
    const decoded = decodeMessage('pdpb.StoreStats', bytes);
    expect(decoded.networkSlowScores).toEqual([
      { key: '7', value: '3' },
      { key: '18446744073709551615', value: '100' },
    ]);
  });

  it('an older peer decodes our messages: fields it lacks are skipped (RawCASRequest.delete = 8)', () => {
    const r = futureRoot();
    const cas = r.lookupType('kvrpcpb.RawCASRequest');
    cas.remove(cas.fields['delete']!);
    const bytes = encodeMessage('kvrpcpb.RawCASRequest', { key: Buffer.from('k'), value: Buffer.from('v'), delete: true, previousNotExist: true });
    const old = cas.toObject(cas.decode(bytes), { longs: String, defaults: true });
    expect(Buffer.from(old['key'] as Uint8Array).toString()).toBe('k');
    expect(old['previousNotExist']).toBe(true);
    expect(old['delete']).toBeUndefined();
  });
});

// ---- Bad input never crashes ----

describe('malformed input', () => {
  const targets = ['kvrpcpb.RawGetRequest', 'tikvpb.BatchCommandsRequest', 'raft_serverpb.RaftMessage', 'pdpb.RegionHeartbeatRequest'] as const;

  it('truncated bytes throw KV:Proto:Malformed with the type and length', () => {
    const good = encodeRaftMessage({ regionId: 1, message: { msgType: 'MsgAppend', entries: [{ data: Buffer.alloc(64, 7) }] } });
    const err = (() => {
      try {
        decodeRaftMessage(good.subarray(0, good.length - 3));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ProtoError);
    expect((err as ProtoError).code).toBe(ProtoCodes.MALFORMED_MESSAGE);
    expect((err as ProtoError).details).toEqual({ typeName: 'raft_serverpb.RaftMessage', length: good.length - 3 });
  });

  it('random bytes either decode or throw a ProtoError, never anything else', () => {
    fc.assert(
      fc.property(fc.constantFrom(...targets), fc.uint8Array({ maxLength: 200 }), (type, bytes) => {
        try {
          decodeMessage(type, bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(ProtoError);
          expect((e as ProtoError).code).toBe(ProtoCodes.MALFORMED_MESSAGE);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('an object of the wrong shape throws KV:Proto:InvalidMessage', () => {
    expect(() => encodeByName('kvrpcpb.RawGetRequest', { context: 5 })).toThrow(
      expect.objectContaining({ code: ProtoCodes.INVALID_MESSAGE }),
    );
  });

  it('an unknown type name throws KV:Proto:UnknownType', () => {
    expect(() => encodeByName('kvrpcpb.KvGetRequest', {})).toThrow(expect.objectContaining({ code: ProtoCodes.UNKNOWN_TYPE }));
    expect(() => decodeByName('kvrpcpb', new Uint8Array())).toThrow(expect.objectContaining({ code: ProtoCodes.UNKNOWN_TYPE }));
    expect(() => decodeByName('metapb.PeerRole', new Uint8Array())).toThrow(expect.objectContaining({ code: ProtoCodes.UNKNOWN_TYPE }));
  });
});

// ---- Typed codecs of internal messages ----

describe('typed codecs', () => {
  const region = { id: 2, startKey: Buffer.from('a'), endKey: Buffer.from('m'), regionEpoch: { confVer: 3, version: 4 }, peers: [{ id: 5, storeId: 1 }] };

  it('RaftCmdRequest with data requests and with a BatchSplit admin request', () => {
    const data = {
      header: { regionId: 2, peer: { id: 5, storeId: 1 }, uuid: Buffer.alloc(16, 9), regionEpoch: { confVer: 3, version: 4 }, term: 6 },
      requests: [
        { cmdType: 'Put' as const, put: { cf: 'default', key: Buffer.from('b'), value: Buffer.from('1') } },
        { cmdType: 'Delete' as const, delete: { key: Buffer.from('c') } },
        { cmdType: 'DeleteRange' as const, deleteRange: { startKey: Buffer.from('d'), endKey: Buffer.from('e') } },
      ],
    };
    const d = decodeRaftCmdRequest(encodeRaftCmdRequest(data));
    expect(d.header?.uuid).toEqual(Buffer.alloc(16, 9));
    expect(d.requests.map((r) => r.cmdType)).toEqual(['Put', 'Delete', 'DeleteRange']);
    expect(Buffer.from(d.requests[0]!.put!.value).toString()).toBe('1');
    expect(d.adminRequest).toBeNull();

    const admin = {
      header: { regionId: 2, regionEpoch: { confVer: 3, version: 4 } },
      adminRequest: {
        cmdType: 'BatchSplit' as const,
        splits: { requests: [{ splitKey: Buffer.from('g'), newRegionId: 10, newPeerIds: [11] }], rightDerive: true },
      },
    };
    const a = decodeRaftCmdRequest(encodeRaftCmdRequest(admin));
    expect(a.adminRequest?.cmdType).toBe('BatchSplit');
    expect(a.adminRequest?.splits?.requests[0]).toEqual({
      splitKey: Buffer.from('g'),
      newRegionId: '10',
      newPeerIds: ['11'],
      shareSourceRegionSize: false,
    });
    expect(a.adminRequest?.splits?.rightDerive).toBe(true);
  });

  it('RaftCmdResponse carries a region error', () => {
    const r = decodeRaftCmdResponse(
      encodeRaftCmdResponse({ header: { error: { message: 'stale', staleCommand: {} }, currentTerm: 8 }, responses: [{ cmdType: 'Get', get: { value: Buffer.from('v') } }] }),
    );
    expect(r.header?.error?.staleCommand).toEqual({});
    expect(r.header?.currentTerm).toBe('8');
    expect(Buffer.from(r.responses[0]!.get!.value).toString()).toBe('v');
  });

  it('local states and the store ident', () => {
    expect(decodeRaftLocalState(encodeRaftLocalState({ hardState: { term: 5, vote: 1, commit: 5 }, lastIndex: 5 }))).toEqual({
      hardState: { term: '5', vote: '1', commit: '5' },
      lastIndex: '5',
    });
    expect(decodeRaftApplyState(encodeRaftApplyState({ appliedIndex: 5, truncatedState: { index: 5, term: 5 } }))).toEqual({
      appliedIndex: '5',
      truncatedState: { index: '5', term: '5' },
      lastCommitIndex: '0',
      commitIndex: '0',
      commitTerm: '0',
    });
    const rs = decodeRegionLocalState(encodeRegionLocalState({ state: 'Merging', region, mergeState: { minIndex: 7, target: region, commit: 9 } }));
    expect(rs.state).toBe('Merging');
    expect(rs.region?.peers).toEqual([{ id: '5', storeId: '1', role: 'Voter', isWitness: false }]);
    expect(rs.mergeState?.commit).toBe('9');
    expect(decodeStoreIdent(encodeStoreIdent({ clusterId: '6917529027641081856', storeId: 1 }))).toEqual({
      clusterId: '6917529027641081856',
      storeId: '1',
      apiVersion: 'V1',
    });
  });

  it('entries and raft messages with a snapshot', () => {
    const e = decodeEntry(encodeEntry({ entryType: 'EntryConfChangeV2', term: 3, index: 4, data: Buffer.from('cc') }));
    expect(e).toEqual({ entryType: 'EntryConfChangeV2', term: '3', index: '4', data: Buffer.from('cc'), context: Buffer.alloc(0), syncLog: false });
    const m = decodeRaftMessage(
      encodeRaftMessage({
        regionId: 2,
        fromPeer: { id: 5, storeId: 1 },
        toPeer: { id: 6, storeId: 2, role: 'Learner' },
        regionEpoch: { confVer: 3, version: 4 },
        message: {
          msgType: 'MsgSnapshot',
          snapshot: { data: Buffer.from('snap'), metadata: { index: 10, term: 2, confState: { voters: [5], learners: [6] } } },
        },
        diskUsage: 'AlmostFull',
      }),
    );
    expect(m.message?.msgType).toBe('MsgSnapshot');
    expect(m.message?.snapshot?.metadata?.confState?.learners).toEqual(['6']);
    expect(m.toPeer?.role).toBe('Learner');
    expect(m.diskUsage).toBe('AlmostFull');
  });

  it('decodeMessage output is typed by the message name', () => {
    const defs = Object.keys(loadProtos());
    expect(defs).toContain('mrkv.raftcmd.RaftCmdRequest');
    const resp = decodeMessage('pdpb.GetRegionResponse', encodeMessage('pdpb.GetRegionResponse', { region, leader: { id: 5, storeId: 1 } }));
    // Compile-time: `resp.region` is metapb.Region__Output | null.
    expect(resp.region?.endKey).toEqual(Buffer.from('m'));
    expect(resp.leader?.id).toBe('5');
  });
});
