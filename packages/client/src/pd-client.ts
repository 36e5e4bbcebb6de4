/**
 * The client's PD connection (`pdpb.PD`), for routing: GetMembers (leader discovery and the
 * cluster id), GetRegion, GetPrevRegion, GetRegionByID, ScanRegions and GetStore (reference §1.6).
 *
 * Leader discovery, like PD's Go client: ask each endpoint `GetMembers` (starting with the one
 * that answered last) until one names a leader; its first client URL is where every call goes,
 * and the response header's cluster id goes into every request header. A call that fails at the
 * gRPC level (the leader died, a follower refused, a cluster-id mismatch after a PD restart)
 * forgets the leader, backs off (`pdRpc`) and rediscovers, under the call's scope. Header errors
 * are domain answers: REGION_NOT_FOUND reads as "no region", others become `PD_ERROR`.
 */
import type * as grpc from '@grpc/grpc-js';
import { noopLogger, type Logger } from '@mrkv/common';
import { createPdClient, regionFromWire, peerFromWire, storeFromWire, type PDClient, type Peer, type Region, type Store, type pdpb } from '@mrkv/proto';
import type { CallScope } from './call-scope.js';
import { ClientError, ClientErrorCodes } from './errors.js';
import { unaryCall, type UnaryMethod } from './grpc-unary.js';

/** A region as PD reports it, with the leader PD last heard of (undefined: none known). */
export interface RegionInfo {
  readonly region: Region;
  readonly leader: Peer | undefined;
}

export interface PdClientOptions {
  /** PD endpoints, `host:port` (an `http://` prefix is accepted). */
  readonly endpoints: readonly string[];
  readonly logger?: Logger;
  /** Longest single PD call (a PD that hangs is given up on and retried). Default 3000 ms. */
  readonly rpcTimeoutMs?: number;
  readonly channelOptions?: grpc.ChannelOptions;
}

interface Leader {
  readonly address: string;
  readonly client: PDClient;
  readonly clusterId: string;
}

/** Strips a URL scheme and trailing slash: `http://127.0.0.1:2379/` → `127.0.0.1:2379`. */
export function endpointAddress(url: string): string {
  return url.replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, '');
}

export class PdClient {
  private readonly endpoints: string[];
  private readonly logger: Logger;
  private readonly rpcTimeoutMs: number;
  private leader: Leader | undefined;
  /** One in-flight discovery shared by every caller. */
  private discovering: Promise<Leader> | undefined;
  /** Clients of non-leader endpoints used for GetMembers, kept for reuse. */
  private readonly probes = new Map<string, PDClient>();
  private preferred = 0;
  private closed = false;

  constructor(private readonly opts: PdClientOptions) {
    if (opts.endpoints.length === 0) throw new ClientError(ClientErrorCodes.INVALID_ARGUMENT, 'no PD endpoints given');
    this.endpoints = opts.endpoints.map(endpointAddress);
    this.logger = (opts.logger ?? noopLogger).child({ component: 'pd-client' });
    this.rpcTimeoutMs = opts.rpcTimeoutMs ?? 3000;
  }

  /** The cluster id learned from GetMembers ('' before the first discovery). */
  get clusterId(): string {
    return this.leader?.clusterId ?? '';
  }

  /** The current PD leader address, if known. */
  get leaderAddress(): string | undefined {
    return this.leader?.address;
  }

  /** The region holding `key` (GetRegion); undefined if PD knows none. */
  async getRegion(key: Uint8Array, scope: CallScope): Promise<RegionInfo | undefined> {
    const res = await this.call((c) => c.GetRegion.bind(c) as UnaryMethod<pdpb.GetRegionRequest, pdpb.GetRegionResponse__Output>, (h) => ({ header: h, regionKey: key }), scope);
    return regionInfo(res.region, res.leader);
  }

  /** The region just before the one holding `key` (GetPrevRegion); undefined if none. */
  async getPrevRegion(key: Uint8Array, scope: CallScope): Promise<RegionInfo | undefined> {
    const res = await this.call((c) => c.GetPrevRegion.bind(c) as UnaryMethod<pdpb.GetRegionRequest, pdpb.GetRegionResponse__Output>, (h) => ({ header: h, regionKey: key }), scope);
    return regionInfo(res.region, res.leader);
  }

  /** The region with id `regionId` (GetRegionByID); undefined if PD knows none. */
  async getRegionById(regionId: number, scope: CallScope): Promise<RegionInfo | undefined> {
    const res = await this.call((c) => c.GetRegionByID.bind(c) as UnaryMethod<pdpb.GetRegionByIDRequest, pdpb.GetRegionResponse__Output>, (h) => ({ header: h, regionId }), scope);
    return regionInfo(res.region, res.leader);
  }

  /** Up to `limit` regions from the one holding `startKey` on, stopping before `endKey` (empty: +inf). */
  async scanRegions(startKey: Uint8Array, endKey: Uint8Array, limit: number, scope: CallScope): Promise<RegionInfo[]> {
    const res = await this.call(
      (c) => c.ScanRegions.bind(c) as UnaryMethod<pdpb.ScanRegionsRequest, pdpb.ScanRegionsResponse__Output>,
      (h) => ({ header: h, startKey, endKey, limit }),
      scope,
    );
    if (res.regions.length > 0) return res.regions.flatMap((r) => regionInfo(r.region, r.leader) ?? []);
    // Older PDs fill only the legacy parallel arrays.
    return res.regionMetas.flatMap((m, i) => regionInfo(m, res.leaders[i] ?? null) ?? []);
  }

  /** The store with id `storeId` (GetStore); undefined if PD does not know it. */
  async getStore(storeId: number, scope: CallScope): Promise<Store | undefined> {
    try {
      const res = await this.call((c) => c.GetStore.bind(c) as UnaryMethod<pdpb.GetStoreRequest, pdpb.GetStoreResponse__Output>, (h) => ({ header: h, storeId }), scope);
      return res.store === null ? undefined : storeFromWire(res.store);
    } catch (e) {
      // PD answers an unknown store with a header error of type UNKNOWN ("invalid store ID …,
      // not found") and a removed one with STORE_TOMBSTONE: either way there is no address.
      const pdError = e instanceof ClientError && e.code === ClientErrorCodes.PD_ERROR ? e.details['pdError'] : undefined;
      if (pdError === 'UNKNOWN' || pdError === 'STORE_TOMBSTONE') return undefined;
      throw e;
    }
  }

  /** Closes every connection. Calls in flight fail (their scopes turn that into CLOSED). */
  close(): void {
    this.closed = true;
    this.leader?.client.close();
    this.leader = undefined;
    for (const c of this.probes.values()) c.close();
    this.probes.clear();
  }

  /**
   * Sends one request to the leader: discovers it first if needed; on a gRPC failure forgets it,
   * backs off and tries again until the scope ends.
   */
  private async call<Req, Res extends { header: pdpb.ResponseHeader__Output | null }>(
    method: (c: PDClient) => UnaryMethod<Req, Res>,
    build: (header: pdpb.RequestHeader) => Req,
    scope: CallScope,
  ): Promise<Res> {
    for (;;) {
      scope.check();
      let leader: Leader;
      try {
        leader = await this.discover(scope);
        const res = await unaryCall(method(leader.client), build({ clusterId: leader.clusterId }), scope, this.rpcTimeoutMs);
        return checkHeader(res);
      } catch (e) {
        if (scope.signal.aborted) throw scope.failure();
        if (this.closed) throw new ClientError(ClientErrorCodes.CLOSED, 'the PD client is closed', { cause: e });
        // Header errors are final. Anything else (gRPC failures, no leader named, a shared
        // discovery that ended with another caller's scope) is retried under this call's scope.
        if (e instanceof ClientError && e.code === ClientErrorCodes.PD_ERROR) throw e;
        this.logger.warn({ err: e, leader: this.leader?.address }, 'PD call failed; rediscovering the leader');
        this.forgetLeader();
        await scope.backoff('pdRpc', e);
      }
    }
  }

  private forgetLeader(): void {
    if (this.leader === undefined) return;
    this.leader.client.close();
    this.leader = undefined;
  }

  private discover(scope: CallScope): Promise<Leader> {
    if (this.leader !== undefined) return Promise.resolve(this.leader);
    if (this.closed) throw new ClientError(ClientErrorCodes.CLOSED, 'the PD client is closed');
    this.discovering ??= this.findLeader(scope).finally(() => (this.discovering = undefined));
    return this.discovering;
  }

  /** One pass over the endpoints; throws the last failure when none names a reachable leader. */
  private async findLeader(scope: CallScope): Promise<Leader> {
    let lastErr: unknown = new ClientError(ClientErrorCodes.PD_UNAVAILABLE, 'no PD endpoint named a leader');
    for (let i = 0; i < this.endpoints.length; i++) {
      const idx = (this.preferred + i) % this.endpoints.length;
      const endpoint = this.endpoints[idx]!;
      try {
        const probe = this.probe(endpoint);
        const res = await unaryCall(probe.GetMembers.bind(probe) as UnaryMethod<pdpb.GetMembersRequest, pdpb.GetMembersResponse__Output>, {}, scope, this.rpcTimeoutMs);
        const url = res.leader?.clientUrls[0];
        if (url === undefined || url === '') {
          lastErr = new ClientError(ClientErrorCodes.PD_UNAVAILABLE, `PD ${endpoint} knows no leader`);
          continue;
        }
        const address = endpointAddress(url);
        const clusterId = res.header?.clusterId ?? '0';
        this.preferred = idx;
        if (this.closed) throw new ClientError(ClientErrorCodes.CLOSED, 'the PD client is closed');
        this.leader?.client.close();
        this.leader = { address, clusterId, client: createPdClient(address, { channelOptions: this.opts.channelOptions ?? {} }) };
        this.logger.info({ leader: address, clusterId, via: endpoint }, 'PD leader found');
        return this.leader;
      } catch (e) {
        if (scope.signal.aborted) throw scope.failure();
        lastErr = e;
      }
    }
    throw lastErr;
  }

  private probe(endpoint: string): PDClient {
    let c = this.probes.get(endpoint);
    if (c === undefined) {
      c = createPdClient(endpoint, { channelOptions: this.opts.channelOptions ?? {} });
      this.probes.set(endpoint, c);
    }
    return c;
  }
}

function checkHeader<Res extends { header: pdpb.ResponseHeader__Output | null }>(res: Res): Res {
  const err = res.header?.error;
  if (err === null || err === undefined || err.type === 'OK') return res;
  if (err.type === 'REGION_NOT_FOUND') return res;
  throw new ClientError(ClientErrorCodes.PD_ERROR, `PD answered ${err.type}: ${err.message}`, { details: { pdError: err.type } });
}

function regionInfo(region: pdpb.GetRegionResponse__Output['region'], leader: pdpb.GetRegionResponse__Output['leader']): RegionInfo | undefined {
  if (region === null || region === undefined) return undefined;
  const r = regionFromWire(region);
  // PD sends an empty Peer (id 0) when it knows no leader.
  const l = leader === null || leader === undefined || leader.id === '0' ? undefined : peerFromWire(leader);
  return { region: r, leader: l };
}
