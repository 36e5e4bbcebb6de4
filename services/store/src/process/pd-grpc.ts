/**
 * `StorePd` over gRPC (`pdpb.PD`), the store's side of the PD protocol (reference §1.6, §6):
 * - leader discovery: `GetMembers` on each endpoint until one names a leader; its first client
 *   URL (`http://host:port`) is the address every call goes to, and the response header carries
 *   the cluster id that every request header repeats;
 * - unary calls with a deadline; a gRPC failure (leader gone, not leader, connection lost)
 *   rediscovers the leader and retries once; a header error is a typed error (STORE_TOMBSTONE →
 *   `KV:Server:StoreTombstone`, others `KV:Server:PdFailed` naming the PD error type);
 * - one `RegionHeartbeat` stream per store, opened on the first heartbeat and reopened after a
 *   failure; operator responses are converted to `PdHeartbeatResponse`s for the raftstore
 *   (header-only keep-alives and steps mrkv does not run are skipped).
 *
 * NB: @mrkv/client's PdClient, once it lands, covers the same calls with its own leader handling;
 * this adapter can then delegate to it. Only the calls a store makes are here.
 */
import * as grpc from '@grpc/grpc-js';
import { noopLogger, type Logger } from '@mrkv/common';
import {
  createPdClient,
  epochFromWire,
  peerFromWire,
  peerToWire,
  regionFromWire,
  regionToWire,
  storeFromWire,
  storeToWire,
  wireU64,
  type PDClient,
  type pdpb,
  type Peer,
  type Region,
  type Store,
} from '@mrkv/proto';
import type { PdHeartbeatResponse, PdOperator, RegionHeartbeat, StoreStats } from '@mrkv/raftstore';
import { StoreError, StoreErrorCodes } from '../errors.js';
import type { StorePd } from './pd.js';

export interface GrpcPdOptions {
  readonly endpoints: readonly string[];
  readonly logger?: Logger;
  /** Deadline of one unary call. */
  readonly timeoutMs?: number;
}

type Header = { header?: pdpb.ResponseHeader__Output | null };

export class GrpcStorePd implements StorePd {
  private client: PDClient | undefined;
  private leader = '';
  private stream: grpc.ClientDuplexStream<pdpb.RegionHeartbeatRequest, pdpb.RegionHeartbeatResponse__Output> | undefined;
  private heartbeatCb: ((resp: PdHeartbeatResponse) => void) | undefined;
  private closed = false;
  private readonly logger: Logger;
  private readonly timeoutMs: number;

  private constructor(
    private readonly opts: GrpcPdOptions,
    readonly clusterId: number,
  ) {
    this.logger = (opts.logger ?? noopLogger).child({ component: 'pd-client' });
    this.timeoutMs = opts.timeoutMs ?? 5000;
  }

  /** Finds the PD leader and the cluster id. Throws `KV:Server:PdFailed` if no endpoint answers. */
  static async connect(opts: GrpcPdOptions): Promise<GrpcStorePd> {
    const found = await discover(opts.endpoints, opts.timeoutMs ?? 5000);
    const pd = new GrpcStorePd(opts, found.clusterId);
    pd.useLeader(found.leader);
    pd.logger.info({ leader: found.leader, clusterId: found.clusterId }, 'connected to PD');
    return pd;
  }

  async isBootstrapped(): Promise<boolean> {
    const r = await this.unary<pdpb.IsBootstrappedResponse__Output>('IsBootstrapped', {});
    return r.bootstrapped;
  }

  async bootstrapCluster(store: Store, region: Region): Promise<'bootstrapped' | 'alreadyBootstrapped'> {
    try {
      await this.unary('Bootstrap', { store: storeToWire(store), region: regionToWire(region) });
      return 'bootstrapped';
    } catch (e) {
      if (e instanceof StoreError && e.details.pdError === 'ALREADY_BOOTSTRAPPED') return 'alreadyBootstrapped';
      throw e;
    }
  }

  async getFirstRegion(): Promise<Region | undefined> {
    try {
      const r = await this.unary<pdpb.GetRegionResponse__Output>('GetRegion', { regionKey: Buffer.alloc(0) });
      return r.region == null ? undefined : regionFromWire(r.region);
    } catch (e) {
      if (e instanceof StoreError && e.details.pdError === 'REGION_NOT_FOUND') return undefined;
      throw e;
    }
  }

  async putStore(store: Store): Promise<void> {
    await this.unary('PutStore', { store: storeToWire(store) });
  }

  async allocId(): Promise<number> {
    const r = await this.unary<pdpb.AllocIDResponse__Output>('AllocID', { count: 1 });
    return wireU64(r.id, 'AllocIDResponse.id');
  }

  async getStore(storeId: number): Promise<Store> {
    const r = await this.unary<pdpb.GetStoreResponse__Output>('GetStore', { storeId });
    if (r.store == null) throw new StoreError(StoreErrorCodes.PD_FAILED, `PD has no store ${storeId}`, { details: { storeId } });
    return storeFromWire(r.store);
  }

  async storeHeartbeat(stats: StoreStats): Promise<void> {
    await this.unary('StoreHeartbeat', { stats: storeStatsToWire(stats) });
  }

  regionHeartbeat(hb: RegionHeartbeat): void {
    if (this.closed) return;
    const s = this.heartbeatStream();
    s.write({ header: this.header(), ...regionHeartbeatToWire(hb) });
  }

  onHeartbeatResponse(cb: (resp: PdHeartbeatResponse) => void): void {
    this.heartbeatCb = cb;
  }

  async askBatchSplit(region: Region, count: number): Promise<Array<{ newRegionId: number; newPeerIds: number[] }>> {
    const r = await this.unary<pdpb.AskBatchSplitResponse__Output>('AskBatchSplit', { region: regionToWire(region), splitCount: count });
    return r.ids.map((id) => ({
      newRegionId: wireU64(id.newRegionId, 'SplitID.new_region_id'),
      newPeerIds: id.newPeerIds.map((p) => wireU64(p, 'SplitID.new_peer_ids')),
    }));
  }

  async reportBatchSplit(regions: readonly Region[]): Promise<void> {
    await this.unary('ReportBatchSplit', { regions: regions.map(regionToWire) });
  }

  close(): void {
    this.closed = true;
    this.stream?.end();
    this.stream = undefined;
    this.client?.close();
    this.client = undefined;
  }

  /** The address of the PD leader in use. */
  get leaderAddress(): string {
    return this.leader;
  }

  private header(): pdpb.RequestHeader {
    return { clusterId: this.clusterId, callerComponent: 'mrkv-store' };
  }

  private useLeader(address: string): void {
    if (address === this.leader && this.client !== undefined) return;
    this.client?.close();
    this.leader = address;
    this.client = createPdClient(address, { channelOptions: PD_CHANNEL_OPTIONS });
  }

  /** One unary call, retried once on another leader after a gRPC failure. */
  private async unary<R extends Header>(method: string, body: object): Promise<R> {
    if (this.closed) throw new StoreError(StoreErrorCodes.PD_FAILED, 'PD client is closed');
    try {
      return checkHeader(method, await this.callOnce<R>(method, body));
    } catch (e) {
      if (!isGrpcError(e)) throw e;
      this.logger.warn({ method, err: e, leader: this.leader }, 'PD call failed; looking for the leader again');
      try {
        const found = await discover(this.opts.endpoints, this.timeoutMs);
        if (found.clusterId !== this.clusterId) {
          throw new StoreError(StoreErrorCodes.PD_FAILED, `PD cluster id changed from ${this.clusterId} to ${found.clusterId}`);
        }
        this.useLeader(found.leader);
      } catch (again) {
        throw new StoreError(StoreErrorCodes.PD_FAILED, `PD ${method} failed: ${e.details || e.message}`, { cause: again, details: { method } });
      }
      try {
        return checkHeader(method, await this.callOnce<R>(method, body));
      } catch (e2) {
        if (!isGrpcError(e2)) throw e2;
        throw new StoreError(StoreErrorCodes.PD_FAILED, `PD ${method} failed: ${e2.details || e2.message}`, { cause: e2, details: { method } });
      }
    }
  }

  private callOnce<R>(method: string, body: object): Promise<R> {
    const client = this.client!;
    const fn = (client as unknown as Record<string, (req: object, opts: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: R) => void) => void>)[method]!;
    return new Promise<R>((resolve, reject) =>
      fn.call(client, { header: this.header(), ...body }, { deadline: Date.now() + this.timeoutMs }, (e, r) => (e ? reject(e) : resolve(r!))),
    );
  }

  private heartbeatStream(): grpc.ClientDuplexStream<pdpb.RegionHeartbeatRequest, pdpb.RegionHeartbeatResponse__Output> {
    if (this.stream !== undefined) return this.stream;
    const s = this.client!.RegionHeartbeat();
    this.stream = s;
    s.on('data', (resp: pdpb.RegionHeartbeatResponse__Output) => this.onHeartbeatData(resp));
    const drop = (err?: unknown) => {
      if (this.stream !== s) return;
      this.stream = undefined;
      if (!this.closed) this.logger.warn({ err }, 'region heartbeat stream ended; reopening on the next heartbeat');
    };
    s.on('error', drop);
    s.on('end', () => drop());
    return s;
  }

  private onHeartbeatData(resp: pdpb.RegionHeartbeatResponse__Output): void {
    let converted: PdHeartbeatResponse | undefined;
    try {
      converted = heartbeatResponseFromWire(resp);
    } catch (err) {
      this.logger.warn({ err, regionId: resp.regionId }, 'undecodable region heartbeat response dropped');
      return;
    }
    if (converted === undefined) return;
    try {
      this.heartbeatCb?.(converted);
    } catch (err) {
      this.logger.error({ err, regionId: converted.regionId }, 'heartbeat response handler threw');
    }
  }
}

/**
 * gRPC reconnects with exponential backoff up to 120 s by default: after a PD restart the store
 * would stay silent (no store or region heartbeats, so PD counts it down) for up to two minutes.
 * Capped like the store-to-store transport.
 */
const PD_CHANNEL_OPTIONS = {
  'grpc.initial_reconnect_backoff_ms': 200,
  'grpc.max_reconnect_backoff_ms': 3_000,
} as const;

/** `connectPd` for the process wiring (`StoreWiring.connectPd`). */
export function connectGrpcPd(endpoints: readonly string[], logger: Logger): Promise<StorePd> {
  return GrpcStorePd.connect({ endpoints, logger });
}

/** GetMembers on each endpoint in turn; the first that names a leader wins. */
async function discover(endpoints: readonly string[], timeoutMs: number): Promise<{ leader: string; clusterId: number }> {
  const problems: string[] = [];
  for (const ep of endpoints) {
    const c = createPdClient(ep, { channelOptions: PD_CHANNEL_OPTIONS });
    try {
      const r = await new Promise<pdpb.GetMembersResponse__Output>((resolve, reject) =>
        c.GetMembers({ header: {} }, { deadline: Date.now() + timeoutMs }, (e, x) => (e ? reject(e) : resolve(x!))),
      );
      const url = r.leader?.clientUrls[0];
      const clusterId = wireU64(r.header?.clusterId ?? 0, 'ResponseHeader.cluster_id');
      if (url === undefined || clusterId === 0) {
        problems.push(`${ep}: no leader`);
        continue;
      }
      return { leader: url.replace(/^[a-z]+:\/\//, '').replace(/\/$/, ''), clusterId };
    } catch (e) {
      problems.push(`${ep}: ${(e as Error).message}`);
    } finally {
      c.close();
    }
  }
  throw new StoreError(StoreErrorCodes.PD_FAILED, `no PD leader found (${problems.join('; ')})`, { details: { endpoints: [...endpoints] } });
}

function checkHeader<R extends Header>(method: string, r: R): R {
  const err = r.header?.error;
  if (err == null || err.type === 'OK') return r;
  const type = String(err.type);
  if (type === 'STORE_TOMBSTONE') {
    throw new StoreError(StoreErrorCodes.STORE_TOMBSTONE, `PD ${method}: ${err.message || 'store is tombstone'}`, { details: { pdError: type } });
  }
  throw new StoreError(StoreErrorCodes.PD_FAILED, `PD ${method}: ${type} ${err.message}`, { details: { pdError: type, method } });
}

function isGrpcError(e: unknown): e is grpc.ServiceError {
  return typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'number' && 'details' in e;
}

function storeStatsToWire(s: StoreStats): pdpb.StoreStats {
  return {
    storeId: s.storeId,
    capacity: s.capacity,
    available: s.available,
    regionCount: s.regionCount,
    sendingSnapCount: s.sendingSnapCount,
    receivingSnapCount: s.receivingSnapCount,
    startTime: s.startTime,
    applyingSnapCount: s.applyingSnapCount,
    isBusy: s.isBusy,
    usedSize: s.usedSize,
    bytesWritten: s.bytesWritten,
    keysWritten: s.keysWritten,
    bytesRead: s.bytesRead,
    keysRead: s.keysRead,
    interval: { startTimestamp: s.intervalStart, endTimestamp: s.intervalEnd },
  };
}

function regionHeartbeatToWire(hb: RegionHeartbeat): pdpb.RegionHeartbeatRequest {
  return {
    region: regionToWire(hb.region),
    leader: peerToWire(hb.leader),
    downPeers: hb.downPeers.map((d) => ({ peer: peerToWire(d.peer), downSeconds: d.downSeconds })),
    pendingPeers: hb.pendingPeers.map(peerToWire),
    bytesWritten: hb.bytesWritten,
    bytesRead: hb.bytesRead,
    keysWritten: hb.keysWritten,
    keysRead: hb.keysRead,
    approximateSize: hb.approximateSize,
    approximateKeys: hb.approximateKeys,
    interval: { startTimestamp: hb.intervalStart, endTimestamp: hb.intervalEnd },
    term: hb.term,
  };
}

type ChangeType = 'AddNode' | 'RemoveNode' | 'AddLearnerNode';

function changeTypeFromWire(v: string | number): ChangeType {
  if (v === 'AddNode' || v === 'RemoveNode' || v === 'AddLearnerNode') return v;
  throw new StoreError(StoreErrorCodes.PD_FAILED, `unknown ConfChangeType ${String(v)}`);
}

function peerOf(p: Parameters<typeof peerFromWire>[0] | null): Peer {
  if (p == null) throw new StoreError(StoreErrorCodes.PD_FAILED, 'operator without a peer');
  return peerFromWire(p);
}

/** The operator in a heartbeat response, or undefined for a keep-alive or a step mrkv does not run. */
export function heartbeatResponseFromWire(r: pdpb.RegionHeartbeatResponse__Output): PdHeartbeatResponse | undefined {
  let operator: PdOperator | undefined;
  if (r.changePeer != null) {
    operator = { kind: 'changePeer', changeType: changeTypeFromWire(r.changePeer.changeType), peer: peerOf(r.changePeer.peer) };
  } else if (r.changePeerV2 != null) {
    operator = { kind: 'changePeerV2', changes: r.changePeerV2.changes.map((c) => ({ changeType: changeTypeFromWire(c.changeType), peer: peerOf(c.peer) })) };
  } else if (r.transferLeader != null) {
    operator = { kind: 'transferLeader', peer: peerOf(r.transferLeader.peer), peers: r.transferLeader.peers.map(peerFromWire) };
  } else if (r.merge != null && r.merge.target != null) {
    operator = { kind: 'merge', target: regionFromWire(r.merge.target) };
  } else if (r.splitRegion != null) {
    const policy = String(r.splitRegion.policy);
    if (policy !== 'SCAN' && policy !== 'APPROXIMATE' && policy !== 'USEKEY') throw new StoreError(StoreErrorCodes.PD_FAILED, `unknown split policy ${policy}`);
    operator = { kind: 'splitRegion', policy, keys: r.splitRegion.keys.map((k) => Uint8Array.from(k)) };
  }
  if (operator === undefined || r.regionEpoch == null || r.targetPeer == null) return undefined;
  return {
    regionId: wireU64(r.regionId, 'RegionHeartbeatResponse.region_id'),
    regionEpoch: epochFromWire(r.regionEpoch),
    targetPeer: peerFromWire(r.targetPeer),
    operator,
  };
}
