/**
 * Store id → raft address, asked of PD (`GetStore`) and cached, like TiKV's `PdStoreAddrResolver`.
 * The peer address is `Store.peer_address`, or `address` when that is empty. A cached address is
 * trusted for `ttlMs`; the transport invalidates it when a connection fails, so a store that moved
 * is found again. A tombstone store is an error: it will never come back.
 */
import type { Clock } from '@mrkv/common';
import type { PdApi } from '@mrkv/raftstore';
import { StoreError, StoreErrorCodes } from '../errors.js';

/** Resolves store ids to `host:port` raft addresses. */
export interface StoreAddressResolver {
  resolve(storeId: number): Promise<string>;
  /** Forgets the cached address (after a failed connection). */
  invalidate(storeId: number): void;
}

export class PdStoreResolver implements StoreAddressResolver {
  private readonly cache = new Map<number, { address: string; at: number }>();
  private readonly pending = new Map<number, Promise<string>>();

  constructor(
    private readonly pd: Pick<PdApi, 'getStore'>,
    private readonly clock: Clock,
    private readonly ttlMs: number,
  ) {}

  resolve(storeId: number): Promise<string> {
    const hit = this.cache.get(storeId);
    if (hit !== undefined && this.clock.nowMs() - hit.at < this.ttlMs) return Promise.resolve(hit.address);
    let p = this.pending.get(storeId);
    if (p === undefined) {
      p = this.lookup(storeId).finally(() => this.pending.delete(storeId));
      this.pending.set(storeId, p);
    }
    return p;
  }

  invalidate(storeId: number): void {
    this.cache.delete(storeId);
  }

  private async lookup(storeId: number): Promise<string> {
    const store = await this.pd.getStore(storeId);
    if (store.state === 'Tombstone') {
      throw new StoreError(StoreErrorCodes.STORE_TOMBSTONE, `store ${storeId} is tombstone`, { details: { storeId } });
    }
    const address = store.peerAddress !== '' ? store.peerAddress : store.address;
    if (address === '') {
      throw new StoreError(StoreErrorCodes.STORE_UNREACHABLE, `store ${storeId} has no address in PD`, { details: { storeId } });
    }
    this.cache.set(storeId, { address, at: this.clock.nowMs() });
    return address;
  }
}

/** A fixed map of addresses (tests, tools, and static clusters). */
export class StaticResolver implements StoreAddressResolver {
  constructor(private readonly addresses: Map<number, string>) {}

  set(storeId: number, address: string): void {
    this.addresses.set(storeId, address);
  }

  resolve(storeId: number): Promise<string> {
    const a = this.addresses.get(storeId);
    if (a === undefined) {
      return Promise.reject(new StoreError(StoreErrorCodes.STORE_UNREACHABLE, `no address for store ${storeId}`, { details: { storeId } }));
    }
    return Promise.resolve(a);
  }

  invalidate(_storeId: number): void {}
}
