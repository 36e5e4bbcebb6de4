/**
 * `mrkv.pdadmin.PdAdmin`: what `mrkv-ctl` talks to. Each call maps onto a PlacementDriver
 * operation; a failure ends the call with a gRPC status whose details read `<code>: <message>`
 * (the stable PD error code first, e.g. `PD:core:ErrRegionNotFound: region 7 not found`) and
 * whose trailing metadata carries the code under `mrkv-error-code`:
 *
 * | PD code | gRPC status |
 * | --- | --- |
 * | region / store / operator / scheduler not found | NOT_FOUND |
 * | invalid value, unknown config key, bad wire value | INVALID_ARGUMENT |
 * | operator refused, store state, tombstone, not bootstrapped, stale | FAILED_PRECONDITION |
 * | anything else | INTERNAL (logged) |
 */
import * as grpc from '@grpc/grpc-js';
import { isMrkvError, type Logger } from '@mrkv/common';
import {
  CONFIG_ITEMS,
  PdError,
  PdErrorCodes,
  REGION_CHECKS,
  composeTs,
  formatConfigValue,
  type AdminOperatorRequest,
  type PlacementDriver,
  type RegionCheck,
  type SplitPolicy,
} from '@mrkv/pd';
import { wireBytes, wireU64, type PdAdminHandlers, type pdadmin } from '@mrkv/proto';
import { operatorViewToWire, regionViewToWire, scatterOutcomeToWire, storeViewToWire } from './wire.js';

export interface AdminServiceDeps {
  readonly pd: PlacementDriver;
  readonly member: { readonly name: string; readonly clientUrl: string };
  readonly logger: Logger;
}

const NOT_FOUND = new Set<string>([PdErrorCodes.REGION_NOT_FOUND, PdErrorCodes.STORE_NOT_FOUND, PdErrorCodes.OPERATOR_NOT_FOUND, PdErrorCodes.SCHEDULER_NOT_FOUND]);
const INVALID = new Set<string>([PdErrorCodes.INVALID_VALUE, PdErrorCodes.CONFIG_KEY]);

/** The gRPC status for an expected error code. */
export function adminStatus(code: string): grpc.status {
  if (NOT_FOUND.has(code)) return grpc.status.NOT_FOUND;
  if (INVALID.has(code) || code.startsWith('KV:Proto:')) return grpc.status.INVALID_ARGUMENT;
  if (code === PdErrorCodes.CLOSED) return grpc.status.UNAVAILABLE;
  return grpc.status.FAILED_PRECONDITION;
}

function toServiceError(e: unknown, logger: Logger, method: string): grpc.ServiceError {
  const metadata = new grpc.Metadata();
  if (isMrkvError(e)) {
    metadata.set('mrkv-error-code', e.code);
    const details = `${e.code}: ${e.message}`;
    return Object.assign(new Error(details), { code: adminStatus(e.code), details, metadata });
  }
  logger.error({ err: e, method }, 'admin call failed');
  const details = `internal error in ${method}: ${(e as Error)?.message ?? String(e)}`;
  return Object.assign(new Error(details), { code: grpc.status.INTERNAL, details, metadata });
}

export function adminHandlers(deps: AdminServiceDeps): PdAdminHandlers {
  const { pd } = deps;
  const logger = deps.logger.child({ component: 'admin' });
  const now = () => pd.cluster.clock.nowMs();

  const call =
    <Req, Res>(method: string, fn: (req: Req) => Promise<Res> | Res) =>
    (c: grpc.ServerUnaryCall<Req, Res>, cb: grpc.sendUnaryData<Res>): void => {
      Promise.resolve()
        .then(() => fn(c.request))
        .then(
          (res) => cb(null, res),
          (e: unknown) => cb(toServiceError(e, logger, method)),
        );
    };

  const storeView = (id: number) => {
    const s = pd.cluster.getStore(id);
    return storeViewToWire(s, pd.cluster.storeStatus(id), pd.cluster.storeLoads().get(id), now());
  };
  const regionView = (id: number) => regionViewToWire(pd.cluster.requireRegion(id), pd.operators.get(id));
  const configItems = (): pdadmin.ConfigResponse => ({
    items: CONFIG_ITEMS.map((i) => ({ key: i.key, value: formatConfigValue(pd.cluster.config, i.key), help: i.help })),
  });

  return {
    ListStores: call<pdadmin.ListStoresRequest__Output, pdadmin.ListStoresResponse>('ListStores', (req) => {
      const loads = pd.cluster.storeLoads();
      const stores = pd.cluster.allStores().filter((s) => !req.excludeTombstone || s.meta.state !== 'Tombstone');
      return { stores: stores.map((s) => storeViewToWire(s, pd.cluster.storeStatus(s.meta.id), loads.get(s.meta.id), now())) };
    }),
    GetStore: call<pdadmin.GetStoreRequest__Output, pdadmin.StoreView>('GetStore', (req) => storeView(wireU64(req.storeId, 'store_id'))),
    DeleteStore: call<pdadmin.DeleteStoreRequest__Output, pdadmin.StoreView>('DeleteStore', async (req) => {
      const id = wireU64(req.storeId, 'store_id');
      await pd.cluster.deleteStore(id, req.force);
      return storeView(id);
    }),
    ListRegions: call<pdadmin.ListRegionsRequest__Output, pdadmin.ListRegionsResponse>('ListRegions', (req) => {
      const storeId = wireU64(req.storeId, 'store_id');
      let rs = pd.cluster.regions.scan(wireBytes(req.startKey), wireBytes(req.endKey));
      if (storeId !== 0) rs = rs.filter((r) => r.meta.peers.some((p) => p.storeId === storeId));
      if (req.limit > 0) rs = rs.slice(0, req.limit);
      return { regions: rs.map((r) => regionViewToWire(r, pd.operators.get(r.meta.id))), total: pd.cluster.regions.size };
    }),
    GetRegion: call<pdadmin.GetRegionRequest__Output, pdadmin.RegionView>('GetRegion', (req) => regionView(wireU64(req.regionId, 'region_id'))),
    GetRegionByKey: call<pdadmin.GetRegionByKeyRequest__Output, pdadmin.RegionView>('GetRegionByKey', (req) => {
      const key = wireBytes(req.key);
      const r = pd.cluster.getRegionByKey(key);
      if (r === undefined) throw new PdError(PdErrorCodes.REGION_NOT_FOUND, `no region holds key 0x${Buffer.from(key).toString('hex')}`);
      return regionViewToWire(r, pd.operators.get(r.meta.id));
    }),
    CheckRegions: call<pdadmin.CheckRegionsRequest__Output, pdadmin.ListRegionsResponse>('CheckRegions', (req) => {
      if (!(REGION_CHECKS as readonly string[]).includes(req.check)) {
        throw new PdError(PdErrorCodes.INVALID_VALUE, `unknown region check ${JSON.stringify(req.check)}; known: ${REGION_CHECKS.join(', ')}`);
      }
      const rs = pd.checkRegions(req.check as RegionCheck);
      return { regions: rs.map((r) => regionViewToWire(r, pd.operators.get(r.meta.id))), total: pd.cluster.regions.size };
    }),
    AddOperator: call<pdadmin.AddOperatorRequest__Output, pdadmin.OperatorView>('AddOperator', async (req) => {
      const op = await pd.addAdminOperator(adminOperatorFromWire(req));
      return operatorViewToWire(op, now());
    }),
    ListOperators: call<pdadmin.ListOperatorsRequest__Output, pdadmin.ListOperatorsResponse>('ListOperators', (req) => {
      const regionId = wireU64(req.regionId, 'region_id');
      const ops = [...pd.operators.list(), ...(req.includeHistory ? pd.operators.history() : [])].filter((o) => regionId === 0 || o.regionId === regionId);
      return { operators: ops.map((o) => operatorViewToWire(o, now())) };
    }),
    CancelOperator: call<pdadmin.CancelOperatorRequest__Output, pdadmin.OperatorView>('CancelOperator', (req) =>
      operatorViewToWire(pd.operators.cancel(wireU64(req.regionId, 'region_id')), now()),
    ),
    ScatterRegions: call<pdadmin.ScatterRegionsRequest__Output, pdadmin.ScatterRegionsResponse>('ScatterRegions', async (req) => {
      const out = await pd.scatterRegions({
        startKey: wireBytes(req.startKey),
        endKey: wireBytes(req.endKey),
        regionIds: req.regionIds.map((id) => wireU64(id, 'region_ids')),
        group: req.group,
      });
      return scatterOutcomeToWire(out, now());
    }),
    ListSchedulers: call<pdadmin.ListSchedulersRequest__Output, pdadmin.ListSchedulersResponse>('ListSchedulers', () => ({ schedulers: pd.coordinator.list() })),
    SetScheduler: call<pdadmin.SetSchedulerRequest__Output, pdadmin.SchedulerView>('SetScheduler', (req) => pd.coordinator.setEnabled(req.name, req.enabled)),
    GetConfig: call<pdadmin.GetConfigRequest__Output, pdadmin.ConfigResponse>('GetConfig', () => configItems()),
    SetConfig: call<pdadmin.SetConfigRequest__Output, pdadmin.ConfigResponse>('SetConfig', async (req) => {
      await pd.cluster.setConfig(req.key, req.value);
      return configItems();
    }),
    ClusterStatus: call<pdadmin.ClusterStatusRequest__Output, pdadmin.ClusterStatusResponse>('ClusterStatus', () => {
      const h = pd.health();
      return { ...h, problems: [...h.problems], storeStates: { ...h.storeStates }, name: deps.member.name, clientUrl: deps.member.clientUrl };
    }),
    GetTso: call<pdadmin.GetTsoRequest__Output, pdadmin.GetTsoResponse>('GetTso', async () => {
      const ts = await pd.tso.next(1);
      return { timestamp: { physical: ts.physical, logical: ts.logical, suffixBits: 0 }, composed: composeTs(ts).toString() };
    }),
  };
}

/** The admin operator a request asks for. Throws INVALID_VALUE for an empty or malformed one. */
function adminOperatorFromWire(req: pdadmin.AddOperatorRequest__Output): AdminOperatorRequest {
  switch (req.op) {
    case 'transferLeader':
      return { type: 'transfer-leader', regionId: wireU64(req.transferLeader!.regionId, 'region_id'), toStore: wireU64(req.transferLeader!.toStoreId, 'to_store_id') };
    case 'addPeer':
      return { type: 'add-peer', regionId: wireU64(req.addPeer!.regionId, 'region_id'), storeId: wireU64(req.addPeer!.storeId, 'store_id') };
    case 'removePeer':
      return { type: 'remove-peer', regionId: wireU64(req.removePeer!.regionId, 'region_id'), storeId: wireU64(req.removePeer!.storeId, 'store_id') };
    case 'split':
      return {
        type: 'split',
        regionId: wireU64(req.split!.regionId, 'region_id'),
        policy: String(req.split!.policy) as SplitPolicy,
        keys: req.split!.keys.map((k) => wireBytes(k)),
      };
    case 'merge':
      return { type: 'merge', sourceId: wireU64(req.merge!.sourceRegionId, 'source_region_id'), targetId: wireU64(req.merge!.targetRegionId, 'target_region_id') };
    default:
      throw new PdError(PdErrorCodes.INVALID_VALUE, 'AddOperator needs one of transfer_leader, add_peer, remove_peer, split, merge');
  }
}
