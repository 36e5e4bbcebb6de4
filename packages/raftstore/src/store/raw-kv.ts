/**
 * RawKV on a store's regions (TiKV `RaftKv` + raw storage): region-level checks, then
 *   - reads: a leader with a valid lease reads its kv engine at once (lease.ts); otherwise, and
 *     for replica reads on followers, a ReadIndex round first and a read once it is applied; the
 *     region is checked again after the wait (it may have split meanwhile);
 *   - writes: mailed to the peer, batched with the round's other writes into one entry, and
 *     answered after apply; a write that gets no answer within the request timeout fails with
 *     UndeterminedResult (it may still apply: the client must treat it as indeterminate).
 * Wire-level validation (empty keys, sizes, scan limits) is the gateway's job (services/store).
 */
import { compareBytes } from '@mrkv/common';
import { dataEndKey, dataKey } from '@mrkv/engine';
import {
  EpochNotMatchError,
  KeyNotInRegionError,
  MismatchPeerIdError,
  ReadIndexNotReadyError,
  NotLeaderError,
  ProposalInMergingModeError,
  RegionNotFoundError,
  StoreNotMatchError,
  UndeterminedResultError,
  regionContainsKey,
  type Region,
  type RequestContext,
} from '@mrkv/proto';
import type { CmdResult, PeerMsg } from '../fsm/msgs.js';
import type { Peer } from '../peer/peer.js';
import type { DataRequest } from '../wire/raft-cmd.js';
import { askSplit } from '../operation/split.js';
import type { KvPair, RawCasOptions, RawCasResult, RawKvApi, RawScanOptions } from './api.js';
import type { Raftstore } from './raftstore.js';

const EMPTY = new Uint8Array(0);

export class RaftstoreRawKv implements RawKvApi {
  constructor(private readonly store: Raftstore) {}

  private get ctx() {
    return this.store.ctx;
  }

  /** Request timeout: two election timeouts, or the client's own deadline when shorter. */
  private timeoutMs(c: RequestContext): number {
    const cfg = this.ctx.cfg;
    const def = 2 * cfg.raftElectionTimeoutTicks * cfg.raftBaseTickMs;
    return c.maxExecutionDurationMs > 0 ? Math.min(def, c.maxExecutionDurationMs) : def;
  }

  /** The region checks of every request (TiKV `check_region_epoch`, store and key checks). */
  private check(c: RequestContext, keys: readonly Uint8Array[]): Peer {
    if (c.peer !== undefined && c.peer.storeId !== 0 && c.peer.storeId !== this.ctx.storeId) {
      throw new StoreNotMatchError({ requestStoreId: c.peer.storeId, actualStoreId: this.ctx.storeId });
    }
    const peer = this.store.peers.get(c.regionId);
    if (peer === undefined || peer.destroyed || !peer.isInitialized) throw new RegionNotFoundError({ regionId: c.regionId });
    if (c.peer !== undefined && c.peer.id !== 0 && c.peer.id !== peer.peerId) {
      throw new MismatchPeerIdError({ requestPeerId: c.peer.id, storePeerId: peer.peerId });
    }
    this.checkEpoch(peer, c);
    for (const k of keys) {
      if (!regionContainsKey(peer.region, k)) {
        throw new KeyNotInRegionError({ key: Uint8Array.from(k), regionId: peer.regionId, startKey: peer.region.startKey, endKey: peer.region.endKey });
      }
    }
    return peer;
  }

  /**
   * Data requests check the epoch's `version` only (TiKV `check_region_epoch` for non-admin
   * commands, reference §2.9): a membership change does not move a key, so it must not fail
   * every request in flight.
   */
  private checkEpoch(peer: Peer, c: RequestContext): void {
    const e = c.regionEpoch;
    const cur = peer.region.regionEpoch;
    if (e === undefined || e.version !== cur.version) {
      throw new EpochNotMatchError({ currentRegions: this.neighbours(peer.region) });
    }
  }

  /** The region and its local neighbours: after a split the client learns the new ranges at once. */
  private neighbours(region: Region): Region[] {
    const all = this.ctx.meta.index.all();
    const i = all.findIndex((r) => r.id === region.id);
    if (i < 0) return [region];
    return all.slice(Math.max(0, i - 1), i + 2).map((r) => r);
  }

  /** Waits until a read on `peer` is linearizable, then re-checks the region. */
  private async readable(c: RequestContext, keys: readonly Uint8Array[], signal: AbortSignal | undefined): Promise<Peer> {
    const peer = this.check(c, keys);
    // A region being merged may already belong to its target elsewhere: no reads (clients retry).
    if (peer.merging !== undefined) throw new ProposalInMergingModeError({ regionId: peer.regionId });
    if (!c.replicaRead) {
      if (!peer.isLeader) throw new NotLeaderError(leaderHint(peer));
      if (peer.canLeaseRead(this.ctx.clock.nowMs())) {
        this.ctx.counters.leaseReads++;
        peer.leaseReadSinceTick = true;
        return peer;
      }
    }
    await this.call<number>(
      c,
      signal,
      (done) => ({ type: 'readIndex', cb: (r) => (r.ok ? done(undefined, r.index) : done(r.error)) }),
      // A read that timed out changed nothing: say so, the client retries it elsewhere.
      () => new ReadIndexNotReadyError({ reason: `read index not ready within ${this.timeoutMs(c)} ms`, regionId: c.regionId }),
    );
    return this.check(c, keys);
  }

  /** Mails the peer a message whose callback settles the returned promise (with timeout and abort). */
  private call<T>(
    c: RequestContext,
    signal: AbortSignal | undefined,
    make: (done: (err: Error | undefined, v?: T) => void) => PeerMsg,
    onTimeout?: () => Error,
  ): Promise<T> {
    signal?.throwIfAborted();
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const finish = (err: Error | undefined, v?: T) => {
        if (settled) return;
        settled = true;
        timer.cancel();
        signal?.removeEventListener('abort', onAbort);
        if (err !== undefined) reject(err);
        else resolve(v as T);
      };
      const onAbort = () => finish(signal!.reason instanceof Error ? signal!.reason : new Error('aborted'));
      const timer = this.store.timers.after(this.timeoutMs(c), () =>
        finish(onTimeout?.() ?? new UndeterminedResultError({ detail: `no answer from region ${c.regionId} within ${this.timeoutMs(c)} ms` })),
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      if (!this.store.send(c.regionId, make(finish))) finish(new RegionNotFoundError({ regionId: c.regionId }));
    });
  }

  private async write(c: RequestContext, keys: readonly Uint8Array[], requests: DataRequest[], signal: AbortSignal | undefined): Promise<CmdResult & { ok: true }> {
    const peer = this.check(c, keys);
    if (!peer.isLeader) throw new NotLeaderError(leaderHint(peer));
    let bytes = 0;
    for (const r of requests) bytes += r.t === 'deleteRange' ? r.start.length + r.end.length : r.key.length + (r.t === 'delete' ? 0 : r.value.length) + 8;
    return this.call(c, signal, (done) => ({
      type: 'write',
      requests,
      bytes,
      diskFullOpt: c.diskFullOpt,
      cb: (r) => (r.ok ? done(undefined, r) : done(r.error)),
    }));
  }

  async rawGet(c: RequestContext, key: Uint8Array, signal?: AbortSignal): Promise<Uint8Array | undefined> {
    await this.readable(c, [key], signal);
    return this.ctx.kvEngine.get(dataKey(key));
  }

  async rawBatchGet(c: RequestContext, keys: readonly Uint8Array[], signal?: AbortSignal): Promise<KvPair[]> {
    await this.readable(c, keys, signal);
    const values = await this.ctx.kvEngine.multiGet(keys.map((k) => dataKey(k)));
    const out: KvPair[] = [];
    keys.forEach((key, i) => {
      const value = values[i];
      if (value !== undefined) out.push({ key, value });
    });
    return out;
  }

  async rawPut(c: RequestContext, key: Uint8Array, value: Uint8Array, signal?: AbortSignal): Promise<void> {
    await this.write(c, [key], [{ t: 'put', key, value }], signal);
  }

  async rawBatchPut(c: RequestContext, pairs: readonly KvPair[], signal?: AbortSignal): Promise<void> {
    await this.write(
      c,
      pairs.map((p) => p.key),
      pairs.map((p) => ({ t: 'put', key: p.key, value: p.value })),
      signal,
    );
  }

  async rawDelete(c: RequestContext, key: Uint8Array, signal?: AbortSignal): Promise<void> {
    await this.write(c, [key], [{ t: 'delete', key }], signal);
  }

  async rawBatchDelete(c: RequestContext, keys: readonly Uint8Array[], signal?: AbortSignal): Promise<void> {
    await this.write(c, keys, keys.map((key) => ({ t: 'delete', key })), signal);
  }

  async rawDeleteRange(c: RequestContext, startKey: Uint8Array, endKey: Uint8Array, signal?: AbortSignal): Promise<void> {
    await this.write(c, [], [{ t: 'deleteRange', start: startKey, end: endKey }], signal);
  }

  async rawScan(c: RequestContext, o: RawScanOptions, signal?: AbortSignal): Promise<KvPair[]> {
    const peer = await this.readable(c, [], signal);
    const r = peer.region;
    // Forward: [start, end); reverse: walks down from `start` (exclusive) to `end` (reference §1.3).
    const [lo, hi] = o.reverse ? clamp(r, o.endKey, o.startKey) : clamp(r, o.startKey, o.endKey);
    if (hi !== undefined && compareBytes(lo, hi) >= 0) return [];
    const pairs = await this.ctx.kvEngine.scan({
      start: dataKey(lo),
      end: hi === undefined ? dataEndKey(EMPTY) : dataKey(hi),
      limit: o.limit,
      reverse: o.reverse,
      keysOnly: o.keyOnly,
    });
    return pairs.map((p) => ({ key: p.key.subarray(1), value: o.keyOnly ? EMPTY : p.value }));
  }

  async rawCompareAndSwap(c: RequestContext, o: RawCasOptions, signal?: AbortSignal): Promise<RawCasResult> {
    const res = await this.write(
      c,
      [o.key],
      [{ t: 'cas', key: o.key, value: o.value, previousValue: o.previousValue, previousNotExist: o.previousNotExist, delete: o.delete }],
      signal,
    );
    const r = res.responses[0];
    if (r === undefined) throw new Error('compare-and-swap without a result');
    return r;
  }

  async splitRegion(c: RequestContext, splitKeys: readonly Uint8Array[], signal?: AbortSignal): Promise<Region[]> {
    const peer = this.check(c, splitKeys);
    if (!peer.isLeader) throw new NotLeaderError(leaderHint(peer));
    signal?.throwIfAborted();
    return new Promise<Region[]>((resolve, reject) => {
      let settled = false;
      const finish = (err: Error | undefined, regions?: Region[]) => {
        if (settled) return;
        settled = true;
        timer.cancel();
        signal?.removeEventListener('abort', onAbort);
        if (err !== undefined) reject(err);
        else resolve(regions ?? []);
      };
      const onAbort = () => finish(signal!.reason instanceof Error ? signal!.reason : new Error('aborted'));
      const timer = this.store.timers.after(this.timeoutMs(c), () =>
        finish(new UndeterminedResultError({ detail: `split of region ${c.regionId} not answered within ${this.timeoutMs(c)} ms` })),
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      askSplit(peer, this.ctx, splitKeys, (r) => (r.ok ? finish(undefined, [...(r.regions ?? [])]) : finish(r.error)));
    });
  }

  async readIndex(c: RequestContext, signal?: AbortSignal): Promise<number> {
    this.check(c, []);
    return this.call<number>(
      c,
      signal,
      (done) => ({ type: 'readIndex', cb: (r) => (r.ok ? done(undefined, r.index) : done(r.error)) }),
      () => new ReadIndexNotReadyError({ reason: `read index not ready within ${this.timeoutMs(c)} ms`, regionId: c.regionId }),
    );
  }
}

function leaderHint(peer: Peer): { regionId: number; leader?: import('@mrkv/proto').Peer } {
  const leader = peer.leaderMeta();
  return leader === undefined ? { regionId: peer.regionId } : { regionId: peer.regionId, leader };
}

/** `[lo, hi)` of a request range within the region; `hi` undefined = +∞. */
function clamp(r: Region, start: Uint8Array, end: Uint8Array): [Uint8Array, Uint8Array | undefined] {
  const lo = compareBytes(start, r.startKey) > 0 ? start : r.startKey;
  let hi: Uint8Array | undefined = end.length > 0 ? end : undefined;
  if (r.endKey.length > 0 && (hi === undefined || compareBytes(hi, r.endKey) > 0)) hi = r.endKey;
  return [lo, hi];
}
