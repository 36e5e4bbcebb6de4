/**
 * A fake PD gRPC server (`pdpb.PD`) for store tests: enough of PD for a store to start, join and
 * heartbeat (GetMembers, IsBootstrapped, Bootstrap, AllocID, GetStore, PutStore, StoreHeartbeat,
 * GetRegion, AskBatchSplit, ReportBatchSplit, RegionHeartbeat), with PD's header errors
 * (ALREADY_BOOTSTRAPPED, STORE_TOMBSTONE, UNKNOWN for a missing store) and its cluster-id check
 * (a mismatch fails the call with FAILED_PRECONDITION). Several servers can share one
 * `FakePdCluster` state; `leader` says which of them GetMembers names.
 *
 * Region heartbeats are recorded; `operatorFor` (if set) picks the operator each one is answered
 * with, as PD's heartbeat stream does.
 */
import * as grpc from '@grpc/grpc-js';
import { pdService, type PDHandlers, type pdpb } from '@mrkv/proto';

/** State shared by the servers of one fake PD cluster. */
export interface FakePdCluster {
  clusterId: number;
  /** Address GetMembers reports as the leader. */
  leader: string;
  bootstrapped: boolean;
  region: pdpb.BootstrapRequest__Output['region'];
  nextId: number;
  stores: Map<string, pdpb.PutStoreRequest__Output['store']>;
  storeHeartbeats: pdpb.StoreStats__Output[];
  regionHeartbeats: pdpb.RegionHeartbeatRequest__Output[];
  /** Requests refused for carrying another cluster id. */
  badHeaders: number;
  /** The answer to a region heartbeat (besides a header-only keep-alive); undefined = keep-alive only. */
  operatorFor?: (req: pdpb.RegionHeartbeatRequest__Output) => pdpb.RegionHeartbeatResponse | undefined;
}

export function fakePdCluster(clusterId = 42, firstId = 100): FakePdCluster {
  return {
    clusterId,
    leader: '',
    bootstrapped: false,
    region: null,
    nextId: firstId,
    stores: new Map(),
    storeHeartbeats: [],
    regionHeartbeats: [],
    badHeaders: 0,
  };
}

export interface FakePdServer {
  readonly address: string;
  readonly server: grpc.Server;
  /** Stops at once (a crashed PD member). */
  stop(): void;
}

/** Starts a fake PD member of `c` on 127.0.0.1 (`port` 0 = any). The first member becomes leader if none is set. */
export async function startFakePdServer(c: FakePdCluster, port = 0): Promise<FakePdServer> {
  const ok = (extra: object = {}) => ({ header: { clusterId: c.clusterId }, ...extra });
  const err = (type: string, message: string) => ({ header: { clusterId: c.clusterId, error: { type, message } } });
  const checked =
    <Req extends { header: pdpb.RequestHeader__Output | null }, Res>(fn: (req: Req) => Res) =>
    (call: grpc.ServerUnaryCall<Req, Res>, cb: grpc.sendUnaryData<Res>) => {
      if (call.request.header?.clusterId !== String(c.clusterId)) {
        c.badHeaders++;
        cb({ code: grpc.status.FAILED_PRECONDITION, details: 'mismatch cluster id' });
        return;
      }
      cb(null, fn(call.request));
    };
  const handlers: Partial<PDHandlers> = {
    GetMembers: (_call, cb) => cb(null, ok({ leader: { name: 'pd', clientUrls: [`http://${c.leader}`] } })),
    IsBootstrapped: checked(() => ok({ bootstrapped: c.bootstrapped })),
    Bootstrap: checked((req: pdpb.BootstrapRequest__Output) => {
      if (c.bootstrapped) return err('ALREADY_BOOTSTRAPPED', 'cluster is already bootstrapped');
      c.bootstrapped = true;
      c.region = req.region;
      c.stores.set(req.store!.id, req.store);
      return ok();
    }),
    AllocID: checked((req: pdpb.AllocIDRequest__Output) => {
      c.nextId += req.count || 1;
      return ok({ id: c.nextId - 1, count: req.count || 1 });
    }),
    GetStore: checked((req: pdpb.GetStoreRequest__Output) => {
      const s = c.stores.get(req.storeId);
      return s ? ok({ store: s }) : err('UNKNOWN', `invalid store ID ${req.storeId}, not found`);
    }),
    PutStore: checked((req: pdpb.PutStoreRequest__Output) => {
      if (c.stores.get(req.store!.id)?.state === 'Tombstone') return err('STORE_TOMBSTONE', 'store is tombstone');
      c.stores.set(req.store!.id, req.store);
      return ok();
    }),
    StoreHeartbeat: checked((req: pdpb.StoreHeartbeatRequest__Output) => {
      c.storeHeartbeats.push(req.stats!);
      return ok();
    }),
    GetRegion: checked(() => ok({ region: c.region, leader: null })),
    AskBatchSplit: checked((req: pdpb.AskBatchSplitRequest__Output) =>
      ok({ ids: Array.from({ length: req.splitCount }, () => ({ newRegionId: c.nextId++, newPeerIds: req.region!.peers.map(() => c.nextId++) })) }),
    ),
    ReportBatchSplit: checked(() => ok()),
    RegionHeartbeat: (call) => {
      call.on('data', (req: pdpb.RegionHeartbeatRequest__Output) => {
        c.regionHeartbeats.push(req);
        call.write({ header: { clusterId: c.clusterId } });
        const op = c.operatorFor?.(req);
        if (op !== undefined) call.write({ header: { clusterId: c.clusterId }, ...op });
      });
      call.on('end', () => call.end());
      call.on('error', () => {});
    },
  };
  const server = new grpc.Server();
  server.addService(pdService(), handlers as PDHandlers);
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  const address = `127.0.0.1:${bound}`;
  if (c.leader === '') c.leader = address;
  return { address, server, stop: () => server.forceShutdown() };
}
