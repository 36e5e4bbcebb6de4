/**
 * Raftstore: one store's region peers, driven by a raft batch system (peer FSMs, group-committed
 * raft-log writes) and an apply batch system (apply FSMs, kv writes), plus routing of inbound
 * raft traffic, peer creation, ticks and PD operators. RawKV on top of it is raw-kv.ts.
 *
 * Threads: in this version both systems are pollers on the thread that owns the store (the main
 * thread of `mrkv-store`, or the simulator's single thread), each with its own engine: the raft
 * system alone writes the raft-log engine, the apply system alone writes the kv engine. See
 * docs/architecture.md ("Threads") for why and what moves to worker threads next.
 */
import { CommonCodes, MrkvError, SeededRng, type Clock, type Logger } from '@mrkv/common';
import type { KvEngine, RaftLogEngine } from '@mrkv/engine';
import { MessageType } from '@mrkv/raft';
import { findPeerOnStore, ServerIsBusyError, type Region } from '@mrkv/proto';
import { ApplyFsm } from '../apply/apply-fsm.js';
import { ApplyPollHandler } from '../apply/apply-poll.js';
import { RAFT_INIT_LOG_INDEX, RAFT_INIT_LOG_TERM } from '../apply/admin.js';
import { Poller } from '../batch/poller.js';
import { immediateScheduler, type Scheduler } from '../batch/scheduler.js';
import type { RaftstoreConfig } from '../config.js';
import type { ApplyMsg, PeerMsg } from '../fsm/msgs.js';
import { RaftPollHandler } from '../fsm/raft-poll.js';
import { operatorEpochMatches } from '../operation/pd.js';
import { DISK_USAGES, diskThresholds, refreshStoreDiskUsage, type DiskSpace, type DiskSpaceReading, type DiskUsage } from '../operation/disk-usage.js';
import { confStateFromRegion } from '../peer/conf-state.js';
import { Peer } from '../peer/peer.js';
import { PeerStorage } from '../peer/peer-storage.js';
import type { PdApi, RaftMessageSink, RaftTransport, StoreStats } from './api.js';
import { newCounters, newRound, type StoreContext } from './context.js';
import { StoreMeta } from './meta.js';
import { ObserverRegistry, type RaftstoreObserver } from './observer.js';
import { recoverRegions } from './recover.js';
import { decodeSnapshotData } from '../wire/local-state.js';
import { decodeStoreRaftMessage, type StoreRaftMessage } from '../wire/raft-message.js';

/** Repeating timers (real ones in production, virtual ones under simulation). */
export interface Timers {
  every(ms: number, fn: () => void): { cancel(): void };
  after(ms: number, fn: () => void): { cancel(): void };
}

export const realTimers: Timers = {
  every(ms, fn) {
    const t = setInterval(fn, ms);
    t.unref?.();
    return { cancel: () => clearInterval(t) };
  },
  after(ms, fn) {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  },
};

/** Timers on a deterministic scheduler's virtual time (simulation). */
export function simTimers(sim: { setTimer(delayMs: number, fn: () => void): { cancel(): void } }): Timers {
  return {
    every(ms, fn) {
      let cancelled = false;
      let t = sim.setTimer(ms, function tick() {
        if (cancelled) return;
        t = sim.setTimer(ms, tick);
        fn();
      });
      return {
        cancel: () => {
          cancelled = true;
          t.cancel();
        },
      };
    },
    after: (ms, fn) => sim.setTimer(ms, fn),
  };
}

export interface RaftstoreOptions {
  storeId: number;
  cfg: RaftstoreConfig;
  kvEngine: KvEngine;
  raftEngine: RaftLogEngine;
  transport: RaftTransport;
  pd?: PdApi | undefined;
  logger: Logger;
  clock: Clock;
  scheduler?: Scheduler;
  timers?: Timers;
  /** Seed of the peers' election-timeout randomness (fixed in tests and simulation). */
  seed?: number;
  /** Called on a fatal I/O failure (default: rethrow, which ends the process). */
  onFatal?: (err: unknown) => void;
  /**
   * Free and total space of the data directory, read every store tick (operation/disk-usage.ts).
   * Absent: the disk is not watched and the store's usage stays Normal.
   */
  diskSpace?: DiskSpace | undefined;
}

const EMPTY = new Uint8Array(0);

/** Message types that may create a peer for an unknown region (TiKV `is_initial_msg`). */
const CREATING = new Set<number>([MessageType.MsgApp, MessageType.MsgHeartbeat, MessageType.MsgSnap, MessageType.MsgVote, MessageType.MsgPreVote]);

export class Raftstore implements RaftMessageSink {
  readonly ctx: StoreContext;
  readonly peers = new Map<number, Peer>();
  private readonly raftPoller: Poller<Peer, PeerMsg, null, never>;
  private readonly applyPoller: Poller<ApplyFsm, ApplyMsg, null, never>;
  private readonly rng: SeededRng;
  readonly timers: Timers;
  private tick: { cancel(): void } | undefined;
  private stopped = false;
  private killed = false;
  /** Snapshot streams in flight (capped by snapMaxConcurrentSends / snapMaxConcurrentRecvs). */
  private snapSending = 0;
  private snapReceiving = 0;
  readonly startTime: number;

  constructor(private readonly opts: RaftstoreOptions) {
    this.rng = new SeededRng(opts.seed ?? opts.storeId * 7919 + 17);
    this.timers = opts.timers ?? realTimers;
    const scheduler = opts.scheduler ?? immediateScheduler;
    this.startTime = opts.clock.wallMs();
    this.ctx = {
      storeId: opts.storeId,
      cfg: opts.cfg,
      clock: opts.clock,
      logger: opts.logger,
      rng: this.rng,
      kvEngine: opts.kvEngine,
      raftEngine: opts.raftEngine,
      transport: opts.transport,
      pd: opts.pd,
      meta: new StoreMeta(),
      observers: new ObserverRegistry(opts.logger),
      counters: newCounters(),
      disk: { space: opts.diskSpace, usage: 'Normal', reading: undefined },
      round: newRound(),
      sendPeer: (id, msg) => this.raftPoller.send(id, msg),
      sendApply: (id, msg) => this.applyPoller.send(id, msg),
      applyProgress: (id) => {
        const f = this.applyPoller.get(id);
        if (f === undefined || f.destroyed || f.merged) return undefined;
        return { appliedIndex: f.applyState.appliedIndex, region: f.region, markMerged: () => f.markMerged() };
      },
      sendSnapshot: (regionId, toPeerId, toStoreId, head, data) => this.sendSnapshot(regionId, toPeerId, toStoreId, head, data),
      removePeer: (id) => {
        this.peers.delete(id);
        this.raftPoller.deregister(id);
      },
      createSplitPeer: (region, campaign) => this.createSplitPeer(region, campaign),
      fatal: (err) => {
        if (this.killed) return;
        opts.logger.fatal({ err }, 'raftstore I/O failed; stopping');
        if (opts.onFatal !== undefined) opts.onFatal(err);
        else throw err;
      },
    };
    const pollerCfg = { maxBatchSize: opts.cfg.maxBatchSize, messagesPerTick: opts.cfg.messagesPerTick };
    this.raftPoller = new Poller(new RaftPollHandler(this.ctx), null, scheduler, pollerCfg);
    this.applyPoller = new Poller(new ApplyPollHandler(this.ctx, (id) => void this.applyPoller.deregister(id)), null, scheduler, pollerCfg);
  }

  get storeId(): number {
    return this.opts.storeId;
  }

  /** Loads the regions from the engines, starts their peers, the tick and the PD listener. */
  async start(): Promise<void> {
    refreshStoreDiskUsage(this.ctx);
    const rec = await recoverRegions(this.opts.kvEngine, this.opts.raftEngine, this.storeId, this.opts.logger);
    for (const [id, t] of rec.tombstones) this.ctx.meta.tombstones.set(id, t);
    const reset = this.opts.raftEngine.newBatch();
    for (const r of rec.regions) {
      if (r.resetLog) {
        reset.reset(r.region.id, r.applyState.truncatedIndex, r.applyState.truncatedTerm);
        reset.setHardState(r.region.id, r.hardState);
      }
    }
    if (!reset.isEmpty()) await this.opts.raftEngine.write(reset, { sync: true });
    for (const r of rec.regions) {
      const mine = findPeerOnStore(r.region, this.storeId)!;
      const peer = this.addPeer(r.region, mine.id, {
        hardState: r.hardState,
        truncated: { index: r.applyState.truncatedIndex, term: r.applyState.truncatedTerm },
        entries: r.entries,
        appliedIndex: r.applyState.appliedIndex,
        appliedTerm: r.appliedTerm,
      });
      if (r.mergeState !== undefined) {
        peer.merging = r.mergeState;
        const apply = this.applyPoller.get(r.region.id);
        if (apply !== undefined) apply.merging = r.mergeState;
      }
    }
    this.opts.logger.info({ regions: rec.regions.length, tombstones: rec.tombstones.size }, 'raftstore started');
    this.tick = this.timers.every(this.opts.cfg.raftBaseTickMs, () => this.onTick());
    this.opts.pd?.onHeartbeatResponse((resp) => {
      const peer = this.peers.get(resp.regionId);
      if (peer === undefined || !operatorEpochMatches(peer, resp.regionEpoch)) return;
      this.raftPoller.send(resp.regionId, { type: 'pdOperator', op: resp.operator });
    });
    // Single-peer regions elect themselves at once instead of after an election timeout.
    for (const p of this.peers.values()) if (p.region.peers.length === 1) this.raftPoller.send(p.regionId, { type: 'campaign' });
  }

  private onTick(): void {
    if (this.stopped) return;
    refreshStoreDiskUsage(this.ctx);
    for (const id of this.peers.keys()) this.raftPoller.send(id, { type: 'tick' });
  }

  private addPeer(
    region: Region,
    peerId: number,
    s: { hardState: import('@mrkv/raft').HardState; truncated: { index: number; term: number }; entries: import('@mrkv/raft').Entry[]; appliedIndex: number; appliedTerm: number },
  ): Peer {
    const regionId = region.id;
    const logger = this.opts.logger.child({ regionId, peerId });
    const storage = new PeerStorage(
      { hardState: s.hardState, confState: confStateFromRegion(region), truncated: s.truncated, entries: s.entries },
      () => this.applyPoller.send(regionId, { type: 'genSnapshot' }),
    );
    const peer = new Peer({
      storeId: this.storeId,
      region,
      peerId,
      storage,
      appliedIndex: s.appliedIndex,
      appliedTerm: s.appliedTerm,
      cfg: this.opts.cfg,
      seed: this.rng.nextInt(2 ** 31),
      logger,
    });
    const apply = new ApplyFsm(region, { appliedIndex: s.appliedIndex, truncatedIndex: s.truncated.index, truncatedTerm: s.truncated.term }, s.appliedTerm, logger);
    this.peers.set(regionId, peer);
    this.raftPoller.register(regionId, peer);
    if (this.applyPoller.has(regionId)) this.applyPoller.deregister(regionId);
    this.applyPoller.register(regionId, apply);
    this.ctx.meta.setRegion(region);
    this.ctx.observers.regionChange(region, 'create');
    return peer;
  }

  /** Creates the local peer of a region produced by a split (operation/split.ts). */
  private createSplitPeer(region: Region, campaign: boolean): void {
    const mine = findPeerOnStore(region, this.storeId);
    if (mine === undefined || this.ctx.meta.tombstones.has(region.id) || this.ctx.meta.destroying.has(region.id)) return;
    const existing = this.peers.get(region.id);
    if (existing !== undefined && existing.isInitialized) return;
    let hs = { term: RAFT_INIT_LOG_TERM, vote: 0, commit: RAFT_INIT_LOG_INDEX };
    if (existing !== undefined) {
      // Keep the term and vote an uninitialized peer may have given away.
      const old = existing.storage.hardState;
      if (old.term >= RAFT_INIT_LOG_TERM) hs = { term: old.term, vote: old.vote, commit: RAFT_INIT_LOG_INDEX };
      existing.destroyed = true;
      this.peers.delete(region.id);
      this.raftPoller.deregister(region.id);
    }
    const batch = (this.ctx.round.batch ??= this.opts.raftEngine.newBatch());
    batch.reset(region.id, RAFT_INIT_LOG_INDEX, RAFT_INIT_LOG_TERM);
    batch.setHardState(region.id, hs);
    this.ctx.round.sync = true;
    this.addPeer(region, mine.id, {
      hardState: hs,
      truncated: { index: RAFT_INIT_LOG_INDEX, term: RAFT_INIT_LOG_TERM },
      entries: [],
      appliedIndex: RAFT_INIT_LOG_INDEX,
      appliedTerm: RAFT_INIT_LOG_TERM,
    });
    if (campaign) this.raftPoller.send(region.id, { type: 'campaign' });
    const vote = this.ctx.meta.pendingVotes.get(region.id) as StoreRaftMessage | undefined;
    if (vote !== undefined) {
      this.ctx.meta.pendingVotes.delete(region.id);
      if (vote.toPeer.id === mine.id) this.raftPoller.send(region.id, { type: 'raft', msg: vote });
    }
  }

  /** An uninitialized peer for a region this store learns of from a raft message. */
  private maybeCreatePeer(m: StoreRaftMessage): boolean {
    if (m.toPeer.storeId !== this.storeId || m.isTombstone || !CREATING.has(m.message.msgType)) return false;
    const t = this.ctx.meta.tombstones.get(m.regionId);
    if (t !== undefined && m.toPeer.id <= t.peerId) return false;
    // The previous peer of this region is still being cleaned up; the sender will retry.
    if (this.ctx.meta.destroying.has(m.regionId)) return false;
    // A range that overlaps a local region: either a stale message, or a split child whose parent
    // has not split here yet — the split creates that peer; until then the leader retries
    // (TiKV maybe_create_peer). Nobody can make this store allocate peers over its own ranges.
    if (this.ctx.meta.index.overlapping(m.startKey, m.endKey).length > 0) {
      const t = m.message.msgType;
      if ((t === MessageType.MsgVote || t === MessageType.MsgPreVote) && this.ctx.meta.pendingVotes.size < 1024) this.ctx.meta.pendingVotes.set(m.regionId, m);
      return false;
    }
    const region: Region = { id: m.regionId, startKey: EMPTY, endKey: EMPTY, regionEpoch: { confVer: 0, version: 0 }, peers: [] };
    this.addPeer(region, m.toPeer.id, { hardState: { term: 0, vote: 0, commit: 0 }, truncated: { index: 0, term: 0 }, entries: [], appliedIndex: 0, appliedTerm: 0 });
    this.opts.logger.info({ regionId: m.regionId, peerId: m.toPeer.id, from: m.fromPeer.id }, 'created an uninitialized peer');
    return true;
  }

  // ---- RaftMessageSink ----

  onRaftMessages(msgs: readonly Uint8Array[]): void {
    for (const bytes of msgs) {
      let m: StoreRaftMessage;
      try {
        m = decodeStoreRaftMessage(bytes);
      } catch (err) {
        this.opts.logger.warn({ err }, 'undecodable raft message dropped');
        continue;
      }
      this.route(m);
    }
  }

  /** Routes a message to its peer (creating one if allowed); false when it was dropped. */
  private route(m: StoreRaftMessage): boolean {
    if (this.stopped) return false;
    if (m.message.msgType === MessageType.MsgSnap && !this.snapshotFits(m)) return false;
    if (this.raftPoller.send(m.regionId, { type: 'raft', msg: m })) return true;
    return this.maybeCreatePeer(m) && this.raftPoller.send(m.regionId, { type: 'raft', msg: m });
  }

  /** Refuses a snapshot whose range overlaps another local region (that region must split or go first). */
  private snapshotFits(m: StoreRaftMessage): boolean {
    const snap = m.message.snapshot;
    if (snap === undefined) return false;
    let region: Region;
    try {
      region = decodeSnapshotData(snap.data).region;
    } catch (err) {
      this.opts.logger.warn({ err, regionId: m.regionId }, 'snapshot with undecodable data refused');
      return false;
    }
    if (region.id !== m.regionId) return false;
    const others = this.ctx.meta.index.overlapping(region.startKey, region.endKey).filter((r) => r.id !== region.id);
    if (others.length > 0) {
      this.opts.logger.info({ regionId: m.regionId, overlaps: others.map((r) => r.id) }, 'snapshot overlaps local regions; dropped');
      return false;
    }
    return true;
  }

  async onSnapshot(head: Uint8Array, chunks: AsyncIterable<Uint8Array>): Promise<void> {
    const m = decodeStoreRaftMessage(head);
    if (this.snapReceiving >= this.opts.cfg.snapMaxConcurrentRecvs) {
      throw new ServerIsBusyError({ reason: 'too many snapshots being received', backoffMs: 1000, estimatedWaitMs: 0, appliedIndex: 0 });
    }
    this.snapReceiving++;
    const parts: Uint8Array[] = [];
    let size = 0;
    try {
      for await (const c of chunks) {
        size += c.length;
        if (size > this.opts.cfg.snapMaxSize) {
          throw new MrkvError(CommonCodes.INVALID_ARGUMENT, `snapshot for region ${m.regionId} larger than ${this.opts.cfg.snapMaxSize} bytes`);
        }
        parts.push(c);
      }
    } finally {
      this.snapReceiving--;
    }
    if (m.message.snapshot === undefined) throw new Error('snapshot stream head carries no snapshot');
    const data = Buffer.concat(parts, size);
    const routed = this.route({ ...m, message: { ...m.message, snapshot: { ...m.message.snapshot, data: new Uint8Array(data.buffer, data.byteOffset, data.length) } } });
    if (!routed) throw new MrkvError(CommonCodes.INVALID_ARGUMENT, `snapshot for region ${m.regionId} refused (bad data, overlapping range, or no such peer)`, { details: { regionId: m.regionId } });
  }

  private sendSnapshot(regionId: number, toPeerId: number, toStoreId: number, head: Uint8Array, data: Uint8Array): void {
    if (this.snapSending >= this.opts.cfg.snapMaxConcurrentSends) {
      // Raft retries after the failure report (the follower stays in Snapshot state until then).
      this.raftPoller.send(regionId, { type: 'snapshotStatus', toPeerId, ok: false });
      return;
    }
    this.snapSending++;
    const chunkSize = 1 << 20;
    async function* chunks(): AsyncIterable<Uint8Array> {
      for (let off = 0; off < data.length; off += chunkSize) yield data.subarray(off, Math.min(data.length, off + chunkSize));
      if (data.length === 0) yield data;
    }
    this.opts.transport.sendSnapshot(toStoreId, head, chunks()).then(
      () => {
        this.snapSending--;
        this.raftPoller.send(regionId, { type: 'snapshotStatus', toPeerId, ok: true });
      },
      (err: unknown) => {
        this.snapSending--;
        this.opts.logger.warn({ err, regionId, toStoreId }, 'sending snapshot failed');
        this.raftPoller.send(regionId, { type: 'snapshotStatus', toPeerId, ok: false });
      },
    );
  }

  /** The transport could not reach a store: its peers back off (raft reportUnreachable). */
  onStoreUnreachable(storeId: number): void {
    for (const id of this.peers.keys()) this.raftPoller.send(id, { type: 'storeUnreachable', storeId });
  }

  /** Registers observer hooks; returns the function that unregisters them. */
  observe(o: RaftstoreObserver): () => void {
    return this.ctx.observers.register(o);
  }

  /** Mails a peer (tests, admin API). */
  send(regionId: number, msg: PeerMsg): boolean {
    return this.raftPoller.send(regionId, msg);
  }

  regionCount(): number {
    return this.peers.size;
  }

  /** The store's disk usage as of the last tick, with the reading it came from (status, metrics). */
  diskUsage(): { usage: DiskUsage; reading: DiskSpaceReading | undefined } {
    return { usage: this.ctx.disk.usage, reading: this.ctx.disk.reading };
  }

  /**
   * The raftstore's part of the store heartbeat. `capacity` and `available` come from the disk
   * reading the usage is judged on (the `disk-free` failpoint included), `available` net of
   * `storage.reserve-space`: the reserve is kept for the raft log and admin work, not for new
   * replicas, so PD sees 0 once the store refuses writes (as TiKV's reserve placeholder file is
   * counted as used). Absent until the first reading.
   */
  storeStats(): Partial<StoreStats> {
    const reading = this.ctx.disk.reading;
    const space =
      reading === undefined ? {} : { capacity: reading.capacity, available: Math.max(0, reading.available - diskThresholds(reading, this.ctx.cfg).reserve) };
    return {
      ...space,
      diskUsage: this.ctx.disk.usage,
      regionCount: this.peers.size,
      isBusy: false,
      startTime: Math.floor(this.startTime / 1000),
      sendingSnapCount: this.snapSending,
      receivingSnapCount: this.snapReceiving,
    };
  }

  metricsText(): string {
    const lines: string[] = [];
    for (const [k, v] of Object.entries(this.ctx.counters)) {
      const name = `mrkv_raftstore_${k.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase())}_total`;
      lines.push(`# TYPE ${name} counter`, `${name} ${v}`);
    }
    let leaders = 0;
    for (const p of this.peers.values()) if (p.isLeader) leaders++;
    lines.push('# TYPE mrkv_raftstore_regions gauge', `mrkv_raftstore_regions ${this.peers.size}`);
    lines.push('# TYPE mrkv_raftstore_leaders gauge', `mrkv_raftstore_leaders ${leaders}`);
    lines.push(
      '# HELP mrkv_store_disk_usage Disk usage of the store: 0 Normal, 1 AlmostFull, 2 AlreadyFull (client writes refused from 1 or 2, see storage.reserve-space).',
      '# TYPE mrkv_store_disk_usage gauge',
      `mrkv_store_disk_usage ${DISK_USAGES.indexOf(this.ctx.disk.usage)}`,
    );
    const reading = this.ctx.disk.reading;
    if (reading !== undefined) {
      lines.push('# TYPE mrkv_store_disk_available_bytes gauge', `mrkv_store_disk_available_bytes ${reading.available}`);
      lines.push('# TYPE mrkv_store_disk_capacity_bytes gauge', `mrkv_store_disk_capacity_bytes ${reading.capacity}`);
    }
    return lines.join('\n') + '\n';
  }

  /** Resolves when both systems have nothing to do (tests). */
  async whenIdle(): Promise<void> {
    await Promise.all([this.raftPoller.whenIdle(), this.applyPoller.whenIdle()]);
  }

  /** Stops everything at once, as kill -9 would (tests): no more rounds, failures ignored. */
  kill(): void {
    this.killed = true;
    this.stopped = true;
    this.tick?.cancel();
    this.raftPoller.stop();
    this.applyPoller.stop();
  }

  /** Stops ticking and routing and waits for the systems to drain. Engines stay open. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.tick?.cancel();
    await this.whenIdle();
  }
}
