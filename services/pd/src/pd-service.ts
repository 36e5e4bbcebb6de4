/**
 * The `pdpb.PD` service over a PlacementDriver (PD `server/grpc_service.go`).
 *
 * Conventions, as PD:
 * - Every request's `header.cluster_id` must match; a mismatch fails the call with gRPC
 *   FAILED_PRECONDITION ("mismatch cluster id, need X but got Y") — `GetMembers` excepted, which
 *   is how a client learns the id.
 * - Domain failures travel in the response header (`NOT_BOOTSTRAPPED`, `ALREADY_BOOTSTRAPPED`,
 *   `STORE_TOMBSTONE`, `REGION_NOT_FOUND`, `INVALID_VALUE`, `UNKNOWN` for the rest).
 * - Anything else (a bug) fails the call with INTERNAL and is logged; it never ends the process.
 * - AllocID returns the last id of the block; Tso the largest timestamp of the batch.
 * - RegionHeartbeat: one bidi stream per store; each heartbeat is processed in arrival order and
 *   any operator command goes back on the stream of the leader's store.
 */
import * as grpc from '@grpc/grpc-js';
import { isMrkvError, type Logger } from '@mrkv/common';
import { PdError, PdErrorCodes, isPdError, pdErrorType, type PlacementDriver } from '@mrkv/pd';
import { regionFromWire, storeFromWire, storeToWire, wireBytes, wireU64, type PDHandlers, type pdpb } from '@mrkv/proto';
import type { HeartbeatStreams, HeartbeatStream } from './heartbeat-streams.js';
import type { PdMetrics } from './metrics.js';
import { heartbeatCommandToWire, regionFieldsToWire, regionInfoFromHeartbeat, storeStatsFromWire, storeStatsToWire } from './wire.js';

export interface PdServiceDeps {
  readonly pd: PlacementDriver;
  /** This member's name and advertised client address (host:port). */
  readonly member: { readonly name: string; readonly clientUrl: string };
  readonly streams: HeartbeatStreams;
  readonly metrics: PdMetrics;
  readonly logger: Logger;
}

type Header = { header: pdpb.ResponseHeader };
type WithHeader = { header: pdpb.RequestHeader__Output | null };

/** A gRPC error with a status code. */
function grpcError(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}

export function pdHandlers(deps: PdServiceDeps): PDHandlers {
  const { pd, metrics } = deps;
  const logger = deps.logger.child({ component: 'pd-service' });
  const clusterId = pd.cluster.clusterId;
  const okHeader = (): pdpb.ResponseHeader => ({ clusterId });

  const checkClusterId = (h: pdpb.RequestHeader__Output | null): grpc.ServiceError | undefined => {
    const got = h?.clusterId ?? '0';
    return got === String(clusterId) ? undefined : grpcError(grpc.status.FAILED_PRECONDITION, `mismatch cluster id, need ${clusterId} but got ${got}`);
  };

  /** The header of a domain failure, or undefined for a bug (rethrown). */
  const errorHeader = (e: unknown): pdpb.ResponseHeader | undefined => {
    if (isPdError(e)) return { clusterId, error: { type: pdErrorType(e.code) as pdpb.ErrorType, message: e.message } };
    if (isMrkvError(e) && e.code.startsWith('KV:Proto:')) return { clusterId, error: { type: 'INVALID_VALUE', message: e.message } };
    return undefined;
  };

  const unary =
    <Req extends WithHeader, Res extends Header>(method: string, fn: (req: Req) => Promise<Omit<Res, 'header'>> | Omit<Res, 'header'>, skipCheck = false) =>
    (call: grpc.ServerUnaryCall<Req, Res>, cb: grpc.sendUnaryData<Res>): void => {
      const bad = skipCheck ? undefined : checkClusterId(call.request.header);
      if (bad !== undefined) {
        metrics.grpcRequests.inc({ method, outcome: 'error' });
        cb(bad);
        return;
      }
      Promise.resolve()
        .then(() => fn(call.request))
        .then(
          (body) => {
            metrics.grpcRequests.inc({ method, outcome: 'ok' });
            cb(null, { header: okHeader(), ...body } as Res);
          },
          (e: unknown) => {
            const header = errorHeader(e);
            if (header !== undefined) {
              metrics.grpcRequests.inc({ method, outcome: 'header_error' });
              cb(null, { header } as Res);
              return;
            }
            metrics.grpcRequests.inc({ method, outcome: 'error' });
            logger.error({ err: e, method }, 'PD call failed');
            cb(grpcError(grpc.status.INTERNAL, `${method} failed: ${(e as Error)?.message ?? String(e)}`));
          },
        );
    };

  const member = (): pdpb.Member => ({ name: deps.member.name, memberId: clusterId, clientUrls: [`http://${deps.member.clientUrl}`], peerUrls: [] });

  return {
    GetMembers: unary<pdpb.GetMembersRequest__Output, pdpb.GetMembersResponse & Header>('GetMembers', () => ({ members: [member()], leader: member(), etcdLeader: member() }), true),

    Tso: (call) => tsoStream(call, deps, checkClusterId, errorHeader),

    Bootstrap: unary<pdpb.BootstrapRequest__Output, pdpb.BootstrapResponse & Header>('Bootstrap', async (req) => {
      if (req.store == null || req.region == null) throw new PdError(PdErrorCodes.INVALID_VALUE, 'Bootstrap needs a store and a region');
      await pd.cluster.bootstrap(storeFromWire(req.store), regionFromWire(req.region));
      return {};
    }),

    IsBootstrapped: unary<pdpb.IsBootstrappedRequest__Output, pdpb.IsBootstrappedResponse & Header>('IsBootstrapped', () => ({ bootstrapped: pd.cluster.bootstrapped })),

    AllocID: unary<pdpb.AllocIDRequest__Output, pdpb.AllocIDResponse & Header>('AllocID', async (req) => {
      const count = req.count === 0 ? 1 : req.count;
      return { id: await pd.ids.alloc(count), count };
    }),

    GetStore: unary<pdpb.GetStoreRequest__Output, pdpb.GetStoreResponse & Header>('GetStore', (req) => {
      pd.cluster.requireBootstrapped();
      const s = pd.cluster.getStore(wireU64(req.storeId, 'GetStoreRequest.store_id'));
      return { store: storeToWire(s.meta), stats: storeStatsToWire(s.meta.id, s.stats) };
    }),

    PutStore: unary<pdpb.PutStoreRequest__Output, pdpb.PutStoreResponse & Header>('PutStore', async (req) => {
      if (req.store == null) throw new PdError(PdErrorCodes.INVALID_VALUE, 'PutStore needs a store');
      await pd.cluster.putStore(storeFromWire(req.store));
      return {};
    }),

    GetAllStores: unary<pdpb.GetAllStoresRequest__Output, pdpb.GetAllStoresResponse & Header>('GetAllStores', (req) => {
      pd.cluster.requireBootstrapped();
      const stores = pd.cluster.allStores().filter((s) => !req.excludeTombstoneStores || s.meta.state !== 'Tombstone');
      return { stores: stores.map((s) => storeToWire(s.meta)) };
    }),

    StoreHeartbeat: unary<pdpb.StoreHeartbeatRequest__Output, pdpb.StoreHeartbeatResponse & Header>('StoreHeartbeat', (req) => {
      if (req.stats == null) throw new PdError(PdErrorCodes.INVALID_VALUE, 'StoreHeartbeat needs stats');
      const { storeId, stats } = storeStatsFromWire(req.stats);
      pd.cluster.storeHeartbeat(storeId, stats);
      return {};
    }),

    RegionHeartbeat: (call) => regionHeartbeatStream(call, deps, checkClusterId, errorHeader),

    GetRegion: unary<pdpb.GetRegionRequest__Output, pdpb.GetRegionResponse & Header>('GetRegion', (req) => {
      pd.cluster.requireBootstrapped();
      const r = pd.cluster.getRegionByKey(wireBytes(req.regionKey));
      return r === undefined ? { region: null, leader: null } : regionFieldsToWire(r);
    }),

    GetPrevRegion: unary<pdpb.GetRegionRequest__Output, pdpb.GetRegionResponse & Header>('GetPrevRegion', (req) => {
      pd.cluster.requireBootstrapped();
      const r = pd.cluster.regions.getPrev(wireBytes(req.regionKey));
      return r === undefined ? { region: null, leader: null } : regionFieldsToWire(r);
    }),

    GetRegionByID: unary<pdpb.GetRegionByIDRequest__Output, pdpb.GetRegionResponse & Header>('GetRegionByID', (req) => {
      pd.cluster.requireBootstrapped();
      const r = pd.cluster.getRegionById(wireU64(req.regionId, 'GetRegionByIDRequest.region_id'));
      return r === undefined ? { region: null, leader: null } : regionFieldsToWire(r);
    }),

    ScanRegions: unary<pdpb.ScanRegionsRequest__Output, pdpb.ScanRegionsResponse & Header>('ScanRegions', (req) => {
      pd.cluster.requireBootstrapped();
      const rs = pd.cluster.regions.scan(wireBytes(req.startKey), wireBytes(req.endKey), req.limit > 0 ? req.limit : 0).map(regionFieldsToWire);
      return { regions: rs, regionMetas: rs.map((r) => r.region!), leaders: rs.map((r) => r.leader ?? {}) };
    }),

    AskBatchSplit: unary<pdpb.AskBatchSplitRequest__Output, pdpb.AskBatchSplitResponse & Header>('AskBatchSplit', async (req) => {
      if (req.region == null) throw new PdError(PdErrorCodes.INVALID_VALUE, 'AskBatchSplit needs a region');
      return { ids: await pd.cluster.askBatchSplit(regionFromWire(req.region), req.splitCount) };
    }),

    ReportBatchSplit: unary<pdpb.ReportBatchSplitRequest__Output, pdpb.ReportBatchSplitResponse & Header>('ReportBatchSplit', async (req) => {
      await pd.reportBatchSplit(req.regions.map(regionFromWire));
      return {};
    }),

    ScatterRegion: unary<pdpb.ScatterRegionRequest__Output, pdpb.ScatterRegionResponse & Header>('ScatterRegion', (req) => scatterRegion(pd, req)),
  } as PDHandlers;
}

/**
 * pdpb ScatterRegion (PD `ScatterRegion` in server/grpc_service.go): `regions_id`, else
 * `region_id` (else `region.id`). One region that cannot be scattered fails in the header
 * (REGION_NOT_FOUND, or UNKNOWN with the reason); for a list, `finished_percentage` counts the
 * regions given an operator or already in place. Not retried (`retry_limit` is ignored).
 */
async function scatterRegion(pd: PlacementDriver, req: pdpb.ScatterRegionRequest__Output): Promise<{ finishedPercentage: number }> {
  pd.cluster.requireBootstrapped();
  const single = req.regionsId.length === 0;
  const ids = single
    ? [wireU64(req.regionId, 'ScatterRegionRequest.region_id') || wireU64(req.region?.id ?? 0, 'ScatterRegionRequest.region.id')]
    : [...new Set(req.regionsId.map((id) => wireU64(id, 'ScatterRegionRequest.regions_id')))];
  if (single && ids[0] === 0) throw new PdError(PdErrorCodes.INVALID_VALUE, 'ScatterRegion needs regions_id or region_id');
  const out = await pd.scatterRegions({ regionIds: ids, group: req.group });
  const done = out.operators.length + out.skipped.filter((s) => s.code === 'in-place').length;
  const failed = out.skipped.find((s) => s.code !== 'in-place');
  if (single && failed !== undefined) {
    const code = failed.code === 'not-found' ? PdErrorCodes.REGION_NOT_FOUND : PdErrorCodes.OPERATOR;
    throw new PdError(code, `region ${failed.regionId} not scattered: ${failed.reason}`, { details: { regionId: failed.regionId, skip: failed.code } });
  }
  return { finishedPercentage: Math.floor((done * 100) / ids.length) };
}

type ClusterCheck = (h: pdpb.RequestHeader__Output | null) => grpc.ServiceError | undefined;
type ErrorHeader = (e: unknown) => pdpb.ResponseHeader | undefined;

/** The Tso stream: each request gets the largest timestamp of a batch of `count`. */
function tsoStream(call: grpc.ServerDuplexStream<pdpb.TsoRequest__Output, pdpb.TsoResponse>, deps: PdServiceDeps, check: ClusterCheck, errorHeader: ErrorHeader): void {
  let chain: Promise<void> = Promise.resolve();
  call.on('data', (req: pdpb.TsoRequest__Output) => {
    chain = chain.then(async () => {
      if (call.destroyed || call.writableEnded) return;
      const bad = check(req.header);
      if (bad !== undefined || req.count === 0) {
        call.destroy(bad ?? grpcError(grpc.status.INVALID_ARGUMENT, 'tso count should be positive'));
        return;
      }
      try {
        const ts = await deps.pd.tso.next(req.count);
        deps.metrics.tsoRequests.inc(req.count);
        call.write({ header: { clusterId: deps.pd.cluster.clusterId }, count: req.count, timestamp: { physical: ts.physical, logical: ts.logical, suffixBits: 0 } });
      } catch (e) {
        const header = errorHeader(e);
        if (header === undefined) deps.logger.error({ err: e }, 'tso failed');
        call.write({ header: header ?? { clusterId: deps.pd.cluster.clusterId, error: { type: 'UNKNOWN', message: String((e as Error)?.message ?? e) } }, count: 0 });
      }
    });
  });
  call.on('end', () => void chain.then(() => call.end()));
  call.on('error', () => undefined); // a client that went away: nothing to do
}

/** The RegionHeartbeat stream of one store. */
function regionHeartbeatStream(call: HeartbeatStream, deps: PdServiceDeps, check: ClusterCheck, errorHeader: ErrorHeader): void {
  const { pd, streams, metrics } = deps;
  const logger = deps.logger.child({ component: 'region-heartbeat' });
  let chain: Promise<void> = Promise.resolve();
  call.on('data', (req: pdpb.RegionHeartbeatRequest__Output) => {
    chain = chain.then(async () => {
      if (call.destroyed || call.writableEnded) return;
      const bad = check(req.header);
      if (bad !== undefined) {
        call.destroy(bad);
        return;
      }
      try {
        const info = regionInfoFromHeartbeat(req);
        streams.bind(info.leader!.storeId, call);
        const { command } = await pd.regionHeartbeat(info);
        metrics.regionHeartbeats.inc({ result: 'ok' });
        if (command !== undefined) {
          // Without a stream bound to the leader's store, answer on the stream the heartbeat came on.
          if (!streams.send(command)) call.write(heartbeatCommandToWire(command, pd.cluster.clusterId));
          metrics.commandsSent.inc({ kind: command.command.kind });
        }
      } catch (e) {
        const header = errorHeader(e);
        if (header === undefined) {
          logger.error({ err: e }, 'region heartbeat failed');
          return;
        }
        metrics.regionHeartbeats.inc({ result: isPdError(e) && e.code === PdErrorCodes.STALE_REGION ? 'stale' : 'invalid' });
        logger.debug({ err: e }, 'region heartbeat refused');
        call.write({ header });
      }
    });
  });
  call.on('end', () => {
    streams.unbind(call);
    void chain.then(() => {
      if (!call.writableEnded) call.end();
    });
  });
  call.on('error', () => streams.unbind(call));
}
