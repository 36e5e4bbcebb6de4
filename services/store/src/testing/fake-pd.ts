/**
 * An in-memory PD for store tests (`StorePd`): cluster id, bootstrap state, store registry, an id
 * allocator and recorded heartbeats, with failure injection per call. It keeps PD's answers:
 * Bootstrap on a bootstrapped cluster answers `alreadyBootstrapped`, PutStore of a tombstone
 * store fails with StoreTombstone, AllocID hands out increasing ids.
 */
import { CommonCodes, MrkvError } from '@mrkv/common';
import { cloneRegion, type Region, type Store } from '@mrkv/proto';
import type { PdHeartbeatResponse, RegionHeartbeat, StoreStats } from '@mrkv/raftstore';
import { StoreError, StoreErrorCodes } from '../errors.js';
import type { StorePd } from '../process/pd.js';

type Method = 'isBootstrapped' | 'bootstrapCluster' | 'getFirstRegion' | 'putStore' | 'allocId' | 'getStore' | 'storeHeartbeat';

export class FakePd implements StorePd {
  bootstrapped = false;
  firstRegion: Region | undefined;
  readonly stores = new Map<number, Store>();
  readonly storeHeartbeats: StoreStats[] = [];
  readonly regionHeartbeats: RegionHeartbeat[] = [];
  /** Calls made, in order. */
  readonly calls: Method[] = [];
  closed = false;
  private nextId: number;
  private readonly failures = new Map<Method, unknown[]>();
  private heartbeatCb: ((resp: PdHeartbeatResponse) => void) | undefined;
  private readonly watchers = new Set<() => void>();

  constructor(
    readonly clusterId = 6_000_000_001,
    firstId = 1,
  ) {
    this.nextId = firstId;
  }

  /** The next `times` calls of `method` fail with `err`. */
  failNext(method: Method, err: unknown, times = 1): void {
    const q = this.failures.get(method) ?? [];
    for (let i = 0; i < times; i++) q.push(err);
    this.failures.set(method, q);
  }

  /** Sends an operator to the store, as PD does on the heartbeat stream. */
  pushOperator(resp: PdHeartbeatResponse): void {
    this.heartbeatCb?.(resp);
  }

  /** Resolves when `cond()` holds after some call, or rejects after `timeoutMs`. */
  waitFor(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!cond()) return;
        this.watchers.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.watchers.delete(check);
        reject(new MrkvError(CommonCodes.TIMEOUT, `FakePd.waitFor: condition not met within ${timeoutMs} ms`));
      }, timeoutMs);
      this.watchers.add(check);
    });
  }

  async isBootstrapped(): Promise<boolean> {
    this.enter('isBootstrapped');
    return this.bootstrapped;
  }

  async bootstrapCluster(store: Store, region: Region): Promise<'bootstrapped' | 'alreadyBootstrapped'> {
    this.enter('bootstrapCluster');
    if (this.bootstrapped) return 'alreadyBootstrapped';
    this.bootstrapped = true;
    this.firstRegion = cloneRegion(region);
    this.stores.set(store.id, { ...store });
    return 'bootstrapped';
  }

  async getFirstRegion(): Promise<Region | undefined> {
    this.enter('getFirstRegion');
    return this.firstRegion === undefined ? undefined : cloneRegion(this.firstRegion);
  }

  async putStore(store: Store): Promise<void> {
    this.enter('putStore');
    if (this.stores.get(store.id)?.state === 'Tombstone') {
      throw new StoreError(StoreErrorCodes.STORE_TOMBSTONE, `store ${store.id} is tombstone`);
    }
    this.stores.set(store.id, { ...store });
  }

  async allocId(): Promise<number> {
    this.enter('allocId');
    return this.nextId++;
  }

  async getStore(storeId: number): Promise<Store> {
    this.enter('getStore');
    const s = this.stores.get(storeId);
    if (s === undefined) throw new MrkvError(CommonCodes.NOT_FOUND, `store ${storeId} not found`);
    return { ...s };
  }

  async storeHeartbeat(stats: StoreStats): Promise<void> {
    this.enter('storeHeartbeat');
    this.storeHeartbeats.push({ ...stats });
  }

  regionHeartbeat(hb: RegionHeartbeat): void {
    this.regionHeartbeats.push(hb);
    this.notify();
  }

  onHeartbeatResponse(cb: (resp: PdHeartbeatResponse) => void): void {
    this.heartbeatCb = cb;
  }

  async askBatchSplit(region: Region, count: number): Promise<Array<{ newRegionId: number; newPeerIds: number[] }>> {
    return Array.from({ length: count }, () => ({ newRegionId: this.nextId++, newPeerIds: region.peers.map(() => this.nextId++) }));
  }

  async reportBatchSplit(_regions: readonly Region[]): Promise<void> {}

  close(): void {
    this.closed = true;
  }

  private enter(method: Method): void {
    this.calls.push(method);
    this.notify();
    const q = this.failures.get(method);
    if (q !== undefined && q.length > 0) throw q.shift();
  }

  private notify(): void {
    queueMicrotask(() => {
      for (const w of [...this.watchers]) w();
    });
  }
}
