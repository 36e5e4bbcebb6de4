/**
 * Stores simulated by a gRPC client of PD, for cross-process tests: each registers with PutStore,
 * heartbeats with StoreHeartbeat, and reports the regions it leads on its own RegionHeartbeat
 * stream, collecting whatever PD sends back. Nothing is executed: tests apply commands by hand.
 */
import type * as grpc from '@grpc/grpc-js';
import { createPdClient, type PDClient, type pdpb } from '@mrkv/proto';

type Region = pdpb.GetRegionResponse['region'];
type Peer = NonNullable<pdpb.GetRegionResponse['leader']>;

export function unary<Res>(client: grpc.Client, method: string, req: object): Promise<Res> {
  const fn = (client as unknown as Record<string, (r: object, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: Res) => void) => void>)[method]!;
  return new Promise((resolve, reject) => fn.call(client, req, { deadline: Date.now() + 5000 }, (e, r) => (e ? reject(e) : resolve(r!))));
}

export async function waitFor(cond: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export class SimCluster {
  readonly client: PDClient;
  clusterId = '0';
  private readonly streams = new Map<number, grpc.ClientDuplexStream<pdpb.RegionHeartbeatRequest, pdpb.RegionHeartbeatResponse__Output>>();
  /** Responses received, per store. */
  readonly received = new Map<number, pdpb.RegionHeartbeatResponse__Output[]>();

  constructor(readonly pdAddr: string) {
    this.client = createPdClient(pdAddr);
  }

  get header(): { clusterId: string } {
    return { clusterId: this.clusterId };
  }

  async connect(): Promise<void> {
    const m = await unary<pdpb.GetMembersResponse__Output>(this.client, 'GetMembers', { header: {} });
    this.clusterId = m.header!.clusterId;
  }

  async allocId(count = 1): Promise<number> {
    return Number((await unary<pdpb.AllocIDResponse__Output>(this.client, 'AllocID', { header: this.header, count })).id);
  }

  /** Bootstraps with store `storeId` and the first region (returns it). */
  async bootstrap(storeId: number): Promise<Region> {
    const regionId = await this.allocId();
    const peerId = await this.allocId();
    const region = { id: regionId, startKey: Buffer.alloc(0), endKey: Buffer.alloc(0), regionEpoch: { confVer: 1, version: 1 }, peers: [{ id: peerId, storeId }] };
    const r = await unary<pdpb.BootstrapResponse__Output>(this.client, 'Bootstrap', { header: this.header, store: storeMeta(storeId), region });
    if (r.header?.error != null) throw new Error(`bootstrap failed: ${r.header.error.type} ${r.header.error.message}`);
    return region;
  }

  async putStore(storeId: number): Promise<void> {
    const r = await unary<pdpb.PutStoreResponse__Output>(this.client, 'PutStore', { header: this.header, store: storeMeta(storeId) });
    if (r.header?.error != null) throw new Error(`PutStore failed: ${r.header.error.type} ${r.header.error.message}`);
  }

  async storeHeartbeat(storeId: number, regionCount = 0): Promise<void> {
    await unary(this.client, 'StoreHeartbeat', { header: this.header, stats: { storeId, capacity: 100 << 30, available: 80 << 30, regionCount } });
  }

  /** Sends a region heartbeat on the stream of the leader's store. */
  regionHeartbeat(region: Region, leader: Peer, extra: Partial<pdpb.RegionHeartbeatRequest> = {}): void {
    const storeId = Number(leader.storeId);
    let s = this.streams.get(storeId);
    if (s === undefined) {
      s = this.client.RegionHeartbeat();
      const got: pdpb.RegionHeartbeatResponse__Output[] = [];
      this.received.set(storeId, got);
      s.on('data', (r: pdpb.RegionHeartbeatResponse__Output) => got.push(r));
      s.on('error', () => undefined);
      this.streams.set(storeId, s);
    }
    s.write({ header: this.header, region, leader, term: 1, ...extra });
  }

  /** Commands (non-header-only responses) received by `storeId`. */
  commands(storeId: number): pdpb.RegionHeartbeatResponse__Output[] {
    return (this.received.get(storeId) ?? []).filter((r) => r.changePeer != null || r.transferLeader != null || r.splitRegion != null || r.merge != null || r.changePeerV2 != null);
  }

  close(): void {
    for (const s of this.streams.values()) s.end();
    this.streams.clear();
    this.client.close();
  }
}

export function storeMeta(id: number): pdpb.PutStoreRequest['store'] {
  return { id, address: `127.0.0.1:${30000 + id}`, version: '0.1.0', statusAddress: `127.0.0.1:${31000 + id}` };
}

/** Polls `fn` until `pred` holds for its result; resolves with that result. */
export async function eventually<T>(fn: () => Promise<T>, pred: (t: T) => boolean, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined && pred(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
