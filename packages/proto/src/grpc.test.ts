/**
 * End to end through real gRPC on 127.0.0.1: a server built from tikvService()/pdService() and
 * clients from createTikvClient()/createPdClient(), exchanging unary calls, a BatchCommands
 * stream, raft client streams and PD's Tso stream.
 */
import { describe, it, expect, afterEach } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import {
  createPdClient,
  createTikvClient,
  NotLeaderError,
  pdService,
  regionErrorFromWire,
  regionErrorToWire,
  tikvService,
  type PDHandlers,
  type TikvHandlers,
  type kvrpcpb,
  type pdpb,
  type tikvpb,
} from './index.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()!();
});

async function serve(setup: (server: grpc.Server) => void): Promise<string> {
  const server = new grpc.Server();
  setup(server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  cleanups.push(() => server.forceShutdown());
  return `127.0.0.1:${port}`;
}

const deadline = () => ({ deadline: Date.now() + 10_000 });

function unary<Req, Res>(call: (req: Req, opts: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: Res) => void) => unknown, req: Req) {
  return new Promise<Res>((resolve, reject) => call(req, deadline(), (e, r) => (e ? reject(e) : resolve(r!))));
}

describe('tikvpb.Tikv over real gRPC', () => {
  const store = new Map<string, Buffer>([['k', Buffer.from('v')]]);
  /** What the raft stream handlers saw; asserted by the test, not inside the server. */
  const raftSeen: { regionIds: string[]; batchSizes: number[] } = { regionIds: [], batchSizes: [] };

  const handlers: Partial<TikvHandlers> = {
    RawGet(call, callback) {
      const { context, key } = call.request;
      if (context?.regionId !== '1') {
        const err = new NotLeaderError({ regionId: Number(context?.regionId ?? 0), leader: { id: 7, storeId: 2, role: 'Voter' } });
        callback(null, { regionError: regionErrorToWire(err) });
        return;
      }
      const value = store.get(Buffer.from(key).toString());
      callback(null, value === undefined ? { notFound: true } : { value });
    },
    BatchCommands(call) {
      call.on('data', (frame: tikvpb.BatchCommandsRequest__Output) => {
        const answers = frame.requests.map((r, i): [string, tikvpb.BatchCommandsResponse_Response] => {
          const id = frame.requestIds[i]!;
          switch (r.cmd) {
            case 'RawGet': {
              const v = store.get(Buffer.from(r.RawGet!.key).toString());
              return [id, { RawGet: v === undefined ? { notFound: true } : { value: v } }];
            }
            case 'RawPut':
              store.set(Buffer.from(r.RawPut!.key).toString(), Buffer.from(r.RawPut!.value));
              return [id, { RawPut: {} }];
            case 'Empty':
              return [id, { Empty: { testId: r.Empty!.testId } }];
            default:
              return [id, { RawGet: { error: `unsupported command ${String(r.cmd)}` } }];
          }
        });
        // Answer out of order and in two frames, as a server may.
        const reversed = answers.reverse();
        const first = reversed.slice(0, 1);
        const rest = reversed.slice(1);
        for (const part of [first, rest]) {
          call.write({ responses: part.map(([, r]) => r), requestIds: part.map(([id]) => id), transportLayerLoad: 3 });
        }
      });
      call.on('end', () => call.end());
    },
    Raft(call, callback) {
      call.on('data', (m: { regionId: string }) => raftSeen.regionIds.push(m.regionId));
      call.on('end', () => callback(null, {}));
    },
    BatchRaft(call, callback) {
      call.on('data', (b: tikvpb.BatchRaftMessage__Output) => raftSeen.batchSizes.push(b.msgs.length));
      call.on('end', () => callback(null, {}));
    },
  };

  async function client() {
    const address = await serve((s) => s.addService(tikvService(), handlers as TikvHandlers));
    const c = createTikvClient(address);
    cleanups.push(() => c.close());
    return c;
  }

  it('answers RawGet, and a region error that the client decodes into a NotLeaderError', async () => {
    const c = await client();
    const ok = await unary<kvrpcpb.RawGetRequest, kvrpcpb.RawGetResponse__Output>(
      c.RawGet.bind(c),
      { context: { regionId: 1, regionEpoch: { confVer: 1, version: 1 }, peer: { id: 1, storeId: 1 } }, key: Buffer.from('k') },
    );
    expect(Buffer.from(ok.value).toString()).toBe('v');
    expect(ok.notFound).toBe(false);
    expect(ok.regionError).toBeNull();

    const missing = await unary<kvrpcpb.RawGetRequest, kvrpcpb.RawGetResponse__Output>(c.RawGet.bind(c), { context: { regionId: 1 }, key: Buffer.from('zz') });
    expect(missing.notFound).toBe(true);

    const wrong = await unary<kvrpcpb.RawGetRequest, kvrpcpb.RawGetResponse__Output>(c.RawGet.bind(c), { context: { regionId: 2 }, key: Buffer.from('k') });
    const err = regionErrorFromWire(wrong.regionError!);
    expect(err).toBeInstanceOf(NotLeaderError);
    expect(err.payload).toEqual({ regionId: 2, leader: { id: 7, storeId: 2, role: 'Voter' } });
  });

  it('matches BatchCommands responses to requests by id across frames', async () => {
    const c = await client();
    const stream = c.BatchCommands(deadline());
    const got = new Map<string, tikvpb.BatchCommandsResponse_Response__Output>();
    let frames = 0;
    const done = new Promise<void>((resolve, reject) => {
      stream.on('data', (frame: tikvpb.BatchCommandsResponse__Output) => {
        frames++;
        expect(frame.transportLayerLoad).toBe('3');
        frame.responses.forEach((r, i) => got.set(frame.requestIds[i]!, r));
        if (got.size === 3) stream.end();
      });
      stream.on('error', reject);
      stream.on('end', resolve);
    });
    stream.write({
      requests: [
        { RawPut: { key: Buffer.from('p'), value: Buffer.from('q') } },
        { RawGet: { key: Buffer.from('p') } },
        { Empty: { testId: 77 } },
      ],
      requestIds: [100, 101, 102],
      clientSendTimeNs: '1700000000000000000',
    });
    await done;
    expect(frames).toBe(2);
    expect(got.get('100')!.cmd).toBe('RawPut');
    expect(Buffer.from(got.get('101')!.RawGet!.value).toString()).toBe('q');
    expect(got.get('102')!.Empty).toEqual({ testId: '77' });
  });

  it('carries raft messages over the Raft and BatchRaft client streams', async () => {
    const c = await client();
    const msg = { regionId: 5, message: { msgType: 'MsgHeartbeat' as const, to: 2, from: 1, term: 3 } };
    await new Promise<void>((resolve, reject) => {
      const s = c.Raft(deadline(), (e) => (e ? reject(e) : resolve()));
      s.write(msg);
      s.write(msg);
      s.end();
    });
    await new Promise<void>((resolve, reject) => {
      const s = c.BatchRaft(deadline(), (e) => (e ? reject(e) : resolve()));
      s.write({ msgs: [msg, msg, msg] });
      s.write({ msgs: [msg] });
      s.end();
    });
    expect(raftSeen.regionIds).toEqual(['5', '5']);
    expect(raftSeen.batchSizes).toEqual([3, 1]);
  });

  it('answers UNIMPLEMENTED for a declared method without a handler and for kvproto methods mrkv does not declare', async () => {
    const c = await client();
    await expect(unary(c.RawPut.bind(c), { key: Buffer.from('x') })).rejects.toMatchObject({ code: grpc.status.UNIMPLEMENTED });
    const kvGet = new Promise((resolve, reject) =>
      c.makeUnaryRequest('/tikvpb.Tikv/KvGet', (x: Buffer) => x, (x: Buffer) => x, Buffer.alloc(0), deadline(), (e, r) => (e ? reject(e) : resolve(r))),
    );
    await expect(kvGet).rejects.toMatchObject({ code: grpc.status.UNIMPLEMENTED });
  });
});

describe('pdpb.PD over real gRPC', () => {
  it('serves GetMembers, AllocID (last id of the block) and the Tso stream', async () => {
    let nextId = 1000;
    let logical = 0;
    const handlers: Partial<PDHandlers> = {
      GetMembers(_call, callback) {
        const leader = { name: 'pd-1', memberId: '1', clientUrls: ['http://127.0.0.1:2379'] };
        callback(null, { header: { clusterId: '6917529027641081856' }, members: [leader], leader });
      },
      AllocID(call, callback) {
        const count = Math.max(1, call.request.count);
        nextId += count;
        callback(null, { header: { clusterId: call.request.header?.clusterId ?? '0' }, id: nextId, count });
      },
      Tso(call) {
        call.on('data', (req: { count: number }) => {
          logical += req.count;
          call.write({ count: req.count, timestamp: { physical: '1700000000000', logical, suffixBits: 0 } });
        });
        call.on('end', () => call.end());
      },
    };
    const address = await serve((s) => s.addService(pdService(), handlers as PDHandlers));
    const c = createPdClient(address);
    cleanups.push(() => c.close());

    const members = await unary<pdpb.GetMembersRequest, pdpb.GetMembersResponse__Output>(c.GetMembers.bind(c), { header: {} });
    expect(members.header?.clusterId).toBe('6917529027641081856');
    expect(members.leader?.clientUrls).toEqual(['http://127.0.0.1:2379']);

    const ids = await unary<pdpb.AllocIDRequest, pdpb.AllocIDResponse__Output>(c.AllocID.bind(c), { header: { clusterId: '6917529027641081856' }, count: 3 });
    expect(ids).toMatchObject({ id: '1003', count: 3 });

    const tso = c.Tso(deadline());
    const stamps: string[] = [];
    await new Promise<void>((resolve, reject) => {
      tso.on('data', (r: { timestamp: { logical: string } }) => {
        stamps.push(r.timestamp.logical);
        if (stamps.length === 2) tso.end();
      });
      tso.on('error', reject);
      tso.on('end', resolve);
      tso.write({ header: {}, count: 10 });
      tso.write({ header: {}, count: 5 });
    });
    // Each response holds the largest timestamp of its batch.
    expect(stamps).toEqual(['10', '15']);
  });
});
