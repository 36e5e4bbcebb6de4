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
}

interface StoreSlot {
  readonly id: number;
  readonly kvDisk: MemoryDisk;
  readonly raftDisk: MemoryDisk;
  kv: KvEngine | undefined;
  raft: RaftLogEngine | undefined;
  store: Raftstore | undefined;
  rawKv: RawKvApi | undefined;
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

  constructor(opts: ClusterOptions = {}) {
    this.cfg = testRaftstoreConfig({ raftBaseTickMs: 20, maxLeaderLeaseMs: 150, leaseReadMarginMs: 10, ...opts.cfg });
    this.logger = opts.logger ?? noopLogger;
    this.sim = opts.sim;
    this.engineFactory = opts.engines;
    this.clock = opts.sim ?? systemClock;
    const sim = opts.sim;
    this.net = new SimNetwork(sim === undefined ? undefined : (ms, fn) => void sim.setTimer(ms, fn));
    const n = opts.stores ?? 3;
    for (let id = 1; id <= n; id++) this.stores.set(id, { id, kvDisk: new MemoryDisk(), raftDisk: new MemoryDisk(), kv: undefined, raft: undefined, store: undefined, rawKv: undefined });
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
    s.kv = openMemoryKvEngine(s.kvDisk);
    s.raft = await openMemoryRaftLogEngine(s.raftDisk);
  }

  private async run(s: StoreSlot): Promise<void> {
    const store = new Raftstore({
      storeId: s.id,
      cfg: this.cfg,
      kvEngine: s.kv!,
      raftEngine: s.raft!,
      transport: this.net.transport(s.id),
      pd: this.pd.forStore(s.id),
      logger: this.logger.child({ storeId: s.id }),
      clock: this.clock,
      seed: s.id * 1009,
      ...(this.sim === undefined ? {} : { scheduler: this.sim, timers: simTimers(this.sim) }),
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

  /** Stops a store as kill -9 would: unsynced writes are lost. */
  async crash(id: number): Promise<void> {
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
      s.kvDisk.crash();
      s.raftDisk.crash();
    }
    s.kv = undefined;
    s.raft = undefined;
  }

  /** Starts a crashed or stopped store again from its disks. */
  async restart(id: number): Promise<void> {
    const s = this.stores.get(id)!;
    await this.open(s);
    await this.run(s);
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
