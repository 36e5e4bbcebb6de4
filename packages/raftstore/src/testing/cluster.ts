/**
 * An in-process test cluster (TiKV `test_raftstore::Cluster`): N stores with memory engines on
 * simulated disks (a crash drops what was not synced), a simulated network with filters, and an
 * in-process PD. Helpers find leaders, retry requests the way a client does, crash and restart
 * stores, and change membership.
 */
import { systemClock, noopLogger, type Clock, type Logger } from '@mrkv/common';
import type { SimScheduler } from '../batch/sim-scheduler.js';
import { MemoryDisk, openMemoryKvEngine, openMemoryRaftLogEngine, type KvEngine, type RaftLogEngine } from '@mrkv/engine';
import { isRegionError, type Peer, type Region, type RequestContext } from '@mrkv/proto';
import { testRaftstoreConfig, type RaftstoreConfig } from '../config.js';
import { writeInitialRegion } from '../store/bootstrap.js';
import { Raftstore, simTimers } from '../store/raftstore.js';
import { RaftstoreRawKv } from '../store/raw-kv.js';
import type { RawKvApi } from '../store/api.js';
import { InProcessPd } from './fake-pd.js';
import type { CmdResult } from '../fsm/msgs.js';
import type { AdminCmd } from '../wire/raft-cmd.js';
import { SimNetwork } from './sim-network.js';
import { SkewedClock } from './sim-clock.js';
import { withSlowSync } from './slow-disk.js';
import { FakeDiskSpace } from './fake-disk-space.js';

export interface ClusterOptions {
  stores?: number;
  cfg?: Partial<RaftstoreConfig>;
  logger?: Logger;
  /**
   * Run every store on this deterministic scheduler's virtual time (clock, poll rounds, ticks,
   * timeouts and network deliveries), so one seed gives one schedule. Default: real time.
   */
  sim?: SimScheduler;
  /**
   * Opens a store's engines (default: memory engines on the store's simulated disks). With a
   * factory — e.g. RocksDB in a temp dir for benchmarks — `crash` closes the engines instead of
   * dropping unsynced writes.
   */
  engines?: (storeId: number) => Promise<{ kv: KvEngine; raft: RaftLogEngine }>;
  /**
   * Seed of a store's election randomness for its `generation`-th start (default: a fixed
   * function of the store id). The simulator derives it from the run's seed.
   */
  storeSeed?: (storeId: number, generation: number) => number;
  /**
   * Called when a store hits a fatal I/O error (a failed raft-log or kv write). With it, the
   * cluster first stops the store as a crash would (kill -9: unsynced writes lost), as the store
   * process exits in production; without it the error is rethrown (the default of `Raftstore`).
   */
  onFatal?: (storeId: number, err: unknown) => void;
}

interface StoreSlot {
  readonly id: number;
  readonly kvDisk: MemoryDisk;
  readonly raftDisk: MemoryDisk;
  kv: KvEngine | undefined;
  raft: RaftLogEngine | undefined;
  store: Raftstore | undefined;
  rawKv: RawKvApi | undefined;
  /** The store's own clock (simulation only; rate-skewable). */
  readonly clock: SkewedClock | undefined;
  /** Delay of each synced write in ms (simulation only; slow fsync). */
  syncDelayMs: number;
  /** Starts so far. */
  generation: number;
  /** The store's free/total disk space as its raftstore sees it (`setDiskAvailable`). */
  readonly diskSpace: FakeDiskSpace;
}

export class TestCluster {
  readonly pd = new InProcessPd();
  readonly net: SimNetwork;
  readonly sim: SimScheduler | undefined;
  readonly clock: Clock;
  readonly cfg: RaftstoreConfig;
  readonly stores = new Map<number, StoreSlot>();
  private readonly logger: Logger;
  private readonly engineFactory: ClusterOptions['engines'];
  private readonly storeSeed: ClusterOptions['storeSeed'];
  private readonly onFatal: ClusterOptions['onFatal'];

  constructor(opts: ClusterOptions = {}) {
    this.cfg = testRaftstoreConfig({ raftBaseTickMs: 20, maxLeaderLeaseMs: 150, leaseReadMarginMs: 10, ...opts.cfg });
    this.logger = opts.logger ?? noopLogger;
    this.sim = opts.sim;
    this.engineFactory = opts.engines;
    this.storeSeed = opts.storeSeed;
    this.onFatal = opts.onFatal;
    this.clock = opts.sim ?? systemClock;
    const sim = opts.sim;
    this.net = new SimNetwork(sim === undefined ? undefined : (ms, fn) => void sim.setTimer(ms, fn));
    const n = opts.stores ?? 3;
    for (let id = 1; id <= n; id++) {
      this.stores.set(id, {
        id,
        kvDisk: new MemoryDisk(),
        raftDisk: new MemoryDisk(),
        kv: undefined,
        raft: undefined,
        store: undefined,
        rawKv: undefined,
        clock: sim === undefined ? undefined : new SkewedClock(sim),
        syncDelayMs: 0,
        generation: 0,
        diskSpace: new FakeDiskSpace(),
      });
    }
  }

  /** Writes the first region `["", "")` with a peer on each of `storeIds` (default: all), then starts every store. */
  async start(storeIds: number[] = [...this.stores.keys()]): Promise<Region> {
    const region: Region = {
      id: this.pd.allocId(),
      startKey: new Uint8Array(),
      endKey: new Uint8Array(),
      regionEpoch: { confVer: 1, version: 1 },
      peers: storeIds.map((storeId) => ({ id: this.pd.allocId(), storeId, role: 'Voter' as const })),
    };
    for (const s of this.stores.values()) await this.open(s);
    for (const id of storeIds) {
      const s = this.stores.get(id)!;
      await writeInitialRegion(s.kv!, s.raft!, region);
    }
    this.pd.regions.set(region.id, region);
    for (const s of this.stores.values()) await this.run(s);
    return region;
  }

  private async open(s: StoreSlot): Promise<void> {
    if (this.engineFactory !== undefined) {
      const e = await this.engineFactory(s.id);
      s.kv = e.kv;
      s.raft = e.raft;
      return;
    }
    const kv = openMemoryKvEngine(s.kvDisk);
    let raft: RaftLogEngine;
    try {
      raft = await openMemoryRaftLogEngine(s.raftDisk);
    } catch (err) {
      await kv.close();
      throw err;
    }
    if (this.sim === undefined) {
      s.kv = kv;
      s.raft = raft;
      return;
    }
    const slow = withSlowSync({ kv, raft }, () => s.syncDelayMs, (ms) => this.sleep(ms));
    s.kv = slow.kv;
    s.raft = slow.raft;
  }

  private async run(s: StoreSlot): Promise<void> {
    const generation = s.generation++;
    const sim = this.sim;
    const store = new Raftstore({
      storeId: s.id,
      cfg: this.cfg,
      kvEngine: s.kv!,
      raftEngine: s.raft!,
      transport: this.net.transport(s.id),
      pd: this.pd.forStore(s.id),
      logger: this.logger.child({ storeId: s.id }),
      clock: s.clock ?? this.clock,
      seed: this.storeSeed === undefined ? s.id * 1009 : this.storeSeed(s.id, generation),
      diskSpace: s.diskSpace,
      ...(sim === undefined ? {} : { scheduler: sim, timers: s.clock === undefined ? simTimers(sim) : s.clock.timers() }),
      ...(this.onFatal === undefined ? {} : { onFatal: (err: unknown) => this.fatal(s, store, err) }),
    });
    await store.start();
    s.store = store;
    s.rawKv = new RaftstoreRawKv(store);
    this.net.attach(s.id, store);
  }

  store(id: number): Raftstore {
    const s = this.stores.get(id)?.store;
    if (s === undefined) throw new Error(`store ${id} is not running`);
    return s;
  }

  rawKv(id: number): RawKvApi {
    const r = this.stores.get(id)?.rawKv;
    if (r === undefined) throw new Error(`store ${id} is not running`);
    return r;
  }

  running(): number[] {
    return [...this.stores.values()].filter((s) => s.store !== undefined).map((s) => s.id);
  }

  /** A store's fatal I/O error: it stops as its process would exit, then the listener hears of it. */
  private fatal(s: StoreSlot, store: Raftstore, err: unknown): void {
    if (s.store !== store) return;
    void this.crash(s.id);
    this.onFatal?.(s.id, err);
  }

  /** The store's own clock (under simulation; skew it with `setRate`). */
  clockOf(id: number): SkewedClock {
    const c = this.stores.get(id)?.clock;
    if (c === undefined) throw new Error(`store ${id} has no simulated clock (no sim scheduler, or no such store)`);
    return c;
  }

  /** Makes every synced write of store `id` wait `ms` (virtual time; simulation only). 0 heals. */
  setSyncDelay(id: number, ms: number): void {
    const s = this.stores.get(id);
    if (s === undefined) throw new Error(`no store ${id}`);
    s.syncDelayMs = Math.max(0, ms);
  }

  /**
   * Sets the free bytes store `id` reads for its data directory (capacity 100 GiB; the default
   * reserve is 5 GiB, so e.g. 1 GiB makes it AlreadyFull). The store notices on its next tick.
   */
  setDiskAvailable(id: number, bytes: number): void {
    const s = this.stores.get(id);
    if (s === undefined) throw new Error(`no store ${id}`);
    s.diskSpace.setAvailable(bytes);
  }

  /** The simulated disks of a store (memory engines only): write faults, crash counts. */
  disks(id: number): { kv: MemoryDisk; raft: MemoryDisk } {
    const s = this.stores.get(id);
    if (s === undefined) throw new Error(`no store ${id}`);
    return { kv: s.kvDisk, raft: s.raftDisk };
  }

  /**
   * Stops a store as kill -9 would: unsynced writes are lost (with `keepUnsynced`, an ordered
   * prefix of that many unsynced writes per disk survives, as when the OS flushed part of them).
   */
  async crash(id: number, options: { keepUnsynced?: number } = {}): Promise<void> {
    const s = this.stores.get(id)!;
    this.net.detach(id);
    const st = s.store;
    s.store = undefined;
    s.rawKv = undefined;
    st?.kill();
    if (this.engineFactory !== undefined) {
      await s.kv?.close().catch(() => undefined);
      await s.raft?.close().catch(() => undefined);
    } else {
      s.kvDisk.crash(options);
      s.raftDisk.crash(options);
    }
    s.kv = undefined;
    s.raft = undefined;
  }

  /** Starts a crashed or stopped store again from its disks. */
  async restart(id: number): Promise<void> {
    const s = this.stores.get(id)!;
    if (s.store !== undefined) throw new Error(`store ${id} is already running`);
    await this.open(s);
    try {
      await this.run(s);
    } catch (err) {
      // A store that cannot start (e.g. its disk refuses the recovery write) stays down; its
      // engines are closed so that a later restart can open the disks again.
      await s.kv?.close().catch(() => undefined);
      await s.raft?.close().catch(() => undefined);
      s.kv = undefined;
      s.raft = undefined;
      throw err;
    }
  }

  async shutdown(): Promise<void> {
    for (const s of this.stores.values()) {
      this.net.detach(s.id);
      if (s.store !== undefined) await s.store.stop();
      await s.kv?.close();
      await s.raft?.close();
      s.store = undefined;
    }
  }

  /** The store whose peer of `regionId` leads, if any (the highest term wins). */
  leaderStore(regionId: number): number | undefined {
    let best: { store: number; term: number } | undefined;
    for (const id of this.running()) {
      const p = this.store(id).peers.get(regionId);
      if (p !== undefined && p.isLeader && (best === undefined || p.term > best.term)) best = { store: id, term: p.term };
    }
    return best?.store;
  }

  /** The region covering `key` as the stores know it (newest epoch). */
  regionOf(key: Uint8Array): Region | undefined {
    let best: Region | undefined;
    for (const id of this.running()) {
      const r = this.store(id).ctx.meta.index.find(key);
      if (r !== undefined && (best === undefined || r.regionEpoch.version > best.regionEpoch.version || (r.regionEpoch.version === best.regionEpoch.version && r.regionEpoch.confVer > best.regionEpoch.confVer))) best = r;
    }
    return best;
  }

  async waitLeader(regionId: number, timeoutMs = 10_000): Promise<number> {
    return this.waitFor(() => this.leaderStore(regionId), timeoutMs, `a leader for region ${regionId}`);
  }

  /** A request context for the region's current leader. */
  contextFor(region: Region, storeId: number, extra: Partial<RequestContext> = {}): RequestContext {
    const peer = region.peers.find((p) => p.storeId === storeId) as Peer;
    return {
      regionId: region.id,
      regionEpoch: region.regionEpoch,
      peer,
      term: 0,
      priority: 'Normal',
      replicaRead: false,
      staleRead: false,
      maxExecutionDurationMs: 0,
      apiVersion: 'V1',
      isRetryRequest: false,
      requestSource: 'test',
      clusterId: 0,
      ...extra,
    };
  }

  /** Runs `op` on the leader of the region covering `key`, retrying region errors like a client. */
  async withLeader<T>(key: Uint8Array, op: (kv: RawKvApi, ctx: RequestContext) => Promise<T>, timeoutMs = 10_000): Promise<T> {
    const deadline = this.clock.nowMs() + timeoutMs;
    for (;;) {
      const region = this.regionOf(key);
      const leader = region === undefined ? undefined : this.leaderStore(region.id);
      if (region !== undefined && leader !== undefined) {
        const local = this.store(leader).peers.get(region.id)?.region ?? region;
        try {
          return await op(this.rawKv(leader), this.contextFor(local, leader));
        } catch (err) {
          if (!isRegionError(err) || this.clock.nowMs() > deadline) throw err;
        }
      }
      if (this.clock.nowMs() > deadline) throw new Error(`no leader for key ${Buffer.from(key).toString()} in time`);
      await this.sleep(10);
    }
  }

  /** Proposes an admin command on the region's leader and waits for it to apply. */
  async admin(regionId: number, admin: AdminCmd, timeoutMs = 10_000): Promise<CmdResult & { ok: true }> {
    const deadline = this.clock.nowMs() + timeoutMs;
    for (;;) {
      const leader = await this.waitLeader(regionId, Math.max(1, deadline - this.clock.nowMs()));
      const r = await new Promise<CmdResult>((resolve) => {
        if (!this.store(leader).send(regionId, { type: 'admin', admin, cb: resolve })) resolve({ ok: false, error: new Error('no peer') });
      });
      if (r.ok) return r;
      if (!isRegionError(r.error) || this.clock.nowMs() > deadline) throw r.error;
      await this.sleep(20);
    }
  }

  /** Adds, promotes or removes one peer. */
  changePeer(regionId: number, changeType: 'AddNode' | 'AddLearnerNode' | 'RemoveNode', peer: Peer): Promise<CmdResult & { ok: true }> {
    return this.admin(regionId, { t: 'changePeerV2', changes: [{ changeType, peer }] });
  }

  put(key: string, value: string): Promise<void> {
    const k = Buffer.from(key);
    return this.withLeader(k, (kv, ctx) => kv.rawPut(ctx, k, Buffer.from(value)));
  }

  async get(key: string): Promise<string | undefined> {
    const k = Buffer.from(key);
    const v = await this.withLeader(k, (kv, ctx) => kv.rawGet(ctx, k));
    return v === undefined ? undefined : Buffer.from(v).toString();
  }

  /** Waits `ms` of the cluster's time (virtual under simulation). */
  sleep(ms: number): Promise<void> {
    const sim = this.sim;
    if (sim === undefined) return sleep(ms);
    return new Promise((r) => void sim.setTimer(ms, r));
  }

  /** Polls `probe` on the cluster's time until it returns a value other than undefined/false. */
  async waitFor<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number, what: string): Promise<T> {
    const deadline = this.clock.nowMs() + timeoutMs;
    for (;;) {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
      if (this.clock.nowMs() > deadline) throw new Error(`timed out waiting for ${what}`);
      await this.sleep(10);
    }
  }

  /** Writes `key` straight into a store's kv engine, bypassing raft (injects a divergence). */
  async poke(storeId: number, key: string, value: string): Promise<void> {
    const s = this.stores.get(storeId)!;
    await s.kv!.write(s.kv!.newWriteBatch().put(Buffer.concat([Buffer.from('z'), Buffer.from(key)]), Buffer.from(value)), { sync: true });
  }

  /** The value of `key` in a store's kv engine, bypassing raft (for replication checks). */
  async peek(storeId: number, key: string): Promise<string | undefined> {
    const s = this.stores.get(storeId)!;
    const v = await s.kv!.get(Buffer.concat([Buffer.from('z'), Buffer.from(key)]));
    return v === undefined ? undefined : Buffer.from(v).toString();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `probe` until it returns a value other than undefined/false. */
export async function waitFor<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
