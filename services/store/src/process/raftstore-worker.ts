/**
 * The raftstore thread's entry (started by raftstore-thread.ts). It owns everything the raftstore
 * touches: both RocksDB engines (opened, used and closed only here — the one-thread-per-RocksDB
 * rule of docs/architecture.md §3), the bootstrap helpers, and `Raftstore` with its raft and apply
 * pollers. Main reaches it only through the port (thread-protocol.ts):
 *
 * - `open` → engines; `preparedRegion` … `clearPreparedRegion` → the bootstrap helpers;
 * - `start(clusterId)` → the raftstore, with a transport and a PD client that post to main;
 *   a stats snapshot (region count, store stats, metrics text) is posted every second;
 * - RawKV calls run on `RaftstoreRawKv` (a call main abandoned finishes here; its answer is dropped);
 * - `stop` drains the pollers; `close` closes the engines; main then terminates the thread.
 *
 * An uncaught error here (a bug, or the raftstore's fatal I/O path, which rethrows) ends the
 * thread; main sees the error event and ends the process. Logs go through this thread's own pino
 * (same level and destination as the process's; a logger cannot cross threads) with
 * `thread: 'raftstore'` and `storeId` bindings; peers add `regionId` and `peerId`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import { CommonCodes, MrkvError, systemClock, type Logger } from '@mrkv/common';
import { openRocksKvEngine, openRocksRaftLogEngine, type KvEngine, type RaftLogEngine } from '@mrkv/engine';
import { bootstrapEngines, Raftstore, RaftstoreRawKv, type PdApi, type PdHeartbeatResponse, type RaftTransport } from '@mrkv/raftstore';
import { raftEngineDir } from './data-dir.js';
import { StatfsDiskSpace } from './disk-space.js';
import { openDiskFailpoints, type OpenedDiskFailpoints } from './failpoints.js';
import { ThreadChannel, type Handlers } from './thread-channel.js';
import {
  packBytes,
  packSnapshot,
  RaftstoreThreadCodes,
  unpackBytes,
  type MainApi,
  type MainNote,
  type RaftstoreWorkerData,
  type StatsSnapshot,
  type WorkerApi,
  type WorkerNote,
} from './thread-protocol.js';

type Channel = ThreadChannel<WorkerApi, MainApi, MainNote, WorkerNote>;

/** This thread's root logger: the process's settings, synchronous writes (nothing lost on a crash). */
function workerLogger(data: RaftstoreWorkerData): Logger {
  const dest = pino.destination({ dest: data.log.file === '' ? 1 : data.log.file, mkdir: true, append: true, sync: true });
  const p = pino(
    {
      level: data.log.level,
      base: { service: 'store', pid: process.pid, thread: 'raftstore', storeId: data.storeId },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    dest,
  );
  return p as unknown as Logger;
}

/** The raftstore's outbound traffic, posted to main (which owns the gRPC RaftClient). */
function portTransport(channel: Channel): RaftTransport {
  return {
    send(toStoreId, msgs) {
      const packed = packBytes(msgs);
      channel.notify({ t: 'send', storeId: toStoreId, msgs: packed }, [packed.buf]);
    },
    async sendSnapshot(toStoreId, head, chunks) {
      const parts: Uint8Array[] = [];
      for await (const c of chunks) parts.push(c);
      const packed = packSnapshot(head, parts);
      await channel.call('sendSnapshot', [toStoreId, packed], { transfer: [packed.buf] });
    },
  };
}

/** PD, reached through main's PD client. Operators come back as `pdResponse` notes. */
class PortPd implements PdApi {
  private listener: ((resp: PdHeartbeatResponse) => void) | undefined;

  constructor(private readonly channel: Channel) {}

  storeHeartbeat(stats: Parameters<PdApi['storeHeartbeat']>[0]): Promise<void> {
    return this.channel.call('storeHeartbeat', [stats]);
  }
  regionHeartbeat(hb: Parameters<PdApi['regionHeartbeat']>[0]): void {
    this.channel.notify({ t: 'regionHeartbeat', hb });
  }
  onHeartbeatResponse(cb: (resp: PdHeartbeatResponse) => void): void {
    this.listener = cb;
  }
  askBatchSplit(region: Parameters<PdApi['askBatchSplit']>[0], count: number): ReturnType<PdApi['askBatchSplit']> {
    return this.channel.call('askBatchSplit', [region, count]);
  }
  reportBatchSplit(regions: Parameters<PdApi['reportBatchSplit']>[0]): Promise<void> {
    return this.channel.call('reportBatchSplit', [regions]);
  }
  getStore(storeId: number): ReturnType<PdApi['getStore']> {
    return this.channel.call('getStore', [storeId]);
  }
  allocId(): Promise<number> {
    return this.channel.call('allocId', []);
  }

  /** An operator PD sent back on main's heartbeat stream. */
  deliver(resp: PdHeartbeatResponse): void {
    this.listener?.(resp);
  }
}

/** The worker's state: engines once opened, the raftstore once started. */
class RaftstoreWorker {
  private kv: KvEngine | undefined;
  private raft: RaftLogEngine | undefined;
  /** Disk failpoints of the engines (tests; `MRKV_FAILPOINTS`), and their file watcher. */
  private disk: OpenedDiskFailpoints | undefined;
  private store: Raftstore | undefined;
  /** The data directory's free space, polled for the raftstore's disk usage. */
  private diskSpace: StatfsDiskSpace | undefined;
  private rawKv: RaftstoreRawKv | undefined;
  private statsTimer: NodeJS.Timeout | undefined;
  private readonly pd: PortPd;
  readonly channel: Channel;

  constructor(
    private readonly data: RaftstoreWorkerData,
    private readonly logger: Logger,
    port: NonNullable<typeof parentPort>,
  ) {
    this.channel = new ThreadChannel<WorkerApi, MainApi, MainNote, WorkerNote>({
      port,
      handlers: this.handlers(),
      onNote: (n) => this.onNote(n),
      onProblem: (err) => this.logger.error({ err }, 'raftstore thread port problem'),
    });
    this.pd = new PortPd(this.channel);
  }

  private onNote(n: MainNote): void {
    switch (n.t) {
      case 'raft':
        // Before start (or after stop) there is no raftstore: raft resends.
        this.store?.onRaftMessages(unpackBytes(n.msgs));
        return;
      case 'unreachable':
        this.store?.onStoreUnreachable(n.storeId);
        return;
      case 'pdResponse':
        this.pd.deliver(n.resp);
        return;
      default:
        this.logger.error({ note: (n as { t?: unknown }).t }, 'unknown note from main dropped');
    }
  }

  private engines(): { kv: KvEngine; raft: RaftLogEngine } {
    if (this.kv === undefined || this.raft === undefined) throw new MrkvError(RaftstoreThreadCodes.THREAD_STOPPED, 'engines are not open');
    return { kv: this.kv, raft: this.raft };
  }

  private api(): RaftstoreRawKv {
    if (this.rawKv === undefined) throw new MrkvError(CommonCodes.UNAVAILABLE, 'raftstore is not running');
    return this.rawKv;
  }

  private bootstrap() {
    const { kv, raft } = this.engines();
    return bootstrapEngines(kv, raft);
  }

  private handlers(): Handlers<WorkerApi> {
    return {
      open: () => this.open(),
      preparedRegion: () => this.bootstrap().preparedRegion(),
      prepareBootstrap: (region) => this.bootstrap().prepareBootstrap(region),
      clearPrepareBootstrap: () => this.bootstrap().clearPrepareBootstrap(),
      clearPreparedRegion: (region) => this.bootstrap().clearPreparedRegion(region),
      start: (clusterId) => this.start(clusterId),
      rawGet: (ctx, key) => this.api().rawGet(ctx, key),
      rawBatchGet: (ctx, keys) => this.api().rawBatchGet(ctx, keys),
      rawPut: (ctx, key, value) => (this.crashesOn(key) ? this.crash() : this.hangsOn(key) ? this.hang() : this.api().rawPut(ctx, key, value)),
      rawBatchPut: (ctx, pairs) => this.api().rawBatchPut(ctx, pairs),
      rawDelete: (ctx, key) => this.api().rawDelete(ctx, key),
      rawBatchDelete: (ctx, keys) => this.api().rawBatchDelete(ctx, keys),
      rawDeleteRange: (ctx, start, end) => this.api().rawDeleteRange(ctx, start, end),
      rawScan: (ctx, opts) => this.api().rawScan(ctx, opts),
      rawCompareAndSwap: (ctx, opts) => this.api().rawCompareAndSwap(ctx, opts),
      splitRegion: (ctx, keys) => this.api().splitRegion(ctx, keys),
      readIndex: (ctx) => this.api().readIndex(ctx),
      snapshot: (parts) => this.snapshot(parts),
      stop: () => this.stop(),
      close: () => this.close(),
    };
  }

  private async open(): Promise<void> {
    const { layout } = this.data;
    this.disk = openDiskFailpoints(this.data.failpoints, this.logger.child({ component: 'failpoints' }));
    const failpoints = this.disk.failpoints;
    const kv = await openRocksKvEngine({ path: layout.kvDir, logger: this.logger, failpoints });
    try {
      this.raft = await openRocksRaftLogEngine({ path: raftEngineDir(layout, 0), logger: this.logger, failpoints });
    } catch (err) {
      await kv.close();
      throw err;
    }
    this.kv = kv;
  }

  private async start(clusterId: number): Promise<StatsSnapshot> {
    const { kv, raft } = this.engines();
    const diskSpace = new StatfsDiskSpace({ path: this.data.layout.root, logger: this.logger, failpoints: this.disk?.failpoints });
    await diskSpace.start();
    this.diskSpace = diskSpace;
    const store = new Raftstore({
      storeId: this.data.storeId,
      cfg: this.data.config,
      kvEngine: kv,
      raftEngine: raft,
      transport: portTransport(this.channel),
      pd: this.pd,
      logger: this.logger.child({ component: 'raftstore' }),
      clock: systemClock,
      diskSpace,
    });
    await store.start();
    this.store = store;
    this.rawKv = new RaftstoreRawKv(store);
    this.statsTimer = setInterval(() => this.channel.notify({ t: 'stats', stats: this.stats() }), this.data.statsIntervalMs);
    this.logger.info({ clusterId }, 'raftstore thread serving');
    return this.stats();
  }

  private stats(): StatsSnapshot {
    const s = this.store;
    if (s === undefined) return { regionCount: 0, storeStats: {}, metricsText: '' };
    return { regionCount: s.regionCount(), storeStats: s.storeStats(), metricsText: s.metricsText() };
  }

  private async snapshot(parts: Parameters<WorkerApi['snapshot']>[0]): Promise<void> {
    const [head, data] = unpackBytes(parts);
    if (head === undefined || data === undefined) throw new MrkvError(RaftstoreThreadCodes.BAD_MESSAGE, 'snapshot parts must be [head, data]');
    const store = this.store;
    if (store === undefined) throw new MrkvError(CommonCodes.UNAVAILABLE, 'raftstore is not running; snapshot refused');
    await store.onSnapshot(head, (async function* () {
      yield data;
    })());
  }

  private async stop(): Promise<void> {
    clearInterval(this.statsTimer);
    this.diskSpace?.stop();
    const store = this.store;
    if (store === undefined) return;
    await store.stop();
    this.channel.notify({ t: 'stats', stats: this.stats() });
    this.rawKv = undefined;
  }

  private async close(): Promise<void> {
    clearInterval(this.statsTimer);
    this.diskSpace?.stop();
    this.disk?.stop();
    const raft = this.raft;
    const kv = this.kv;
    this.raft = undefined;
    this.kv = undefined;
    this.store = undefined;
    try {
      await raft?.close();
    } finally {
      await kv?.close();
    }
    this.logger.info('raftstore thread closed its engines');
  }

  /** Failpoint `crashOnPutKey`: is `key` the one a RawPut of crashes this thread? */
  private crashesOn(key: Uint8Array): boolean {
    const fp = this.data.failpoints?.crashOnPutKey;
    return fp !== undefined && Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('hex') === fp;
  }

  /** Failpoint `hangOnPutKey`: is `key` the one a RawPut of hangs this thread? */
  private hangsOn(key: Uint8Array): boolean {
    const fp = this.data.failpoints?.hangOnPutKey;
    return fp !== undefined && Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('hex') === fp;
  }

  /** Spins this thread forever (an endless loop, as a bug would): nothing it owns answers again. */
  private hang(): Promise<never> {
    this.logger.warn({ failpoint: 'hangOnPutKey' }, 'failpoint: hanging the raftstore thread');
    setImmediate(() => {
      for (;;) {
        // spin: timers, messages and the engines' callbacks never run again on this thread
      }
    });
    return new Promise<never>(() => {});
  }

  /** Ends this thread with an uncaught error; the call that triggered it is never answered. */
  private crash(): Promise<never> {
    this.logger.warn({ failpoint: 'crashOnPutKey' }, 'failpoint: crashing the raftstore thread');
    setImmediate(() => {
      throw new MrkvError(CommonCodes.INTERNAL, 'failpoint crashOnPutKey: raftstore thread crashed on purpose');
    });
    return new Promise<never>(() => {});
  }
}

if (parentPort === null) {
  throw new MrkvError(CommonCodes.INTERNAL, 'raftstore-worker.ts must run as a worker thread (raftstore-thread.ts starts it)');
}
const port = parentPort;
const data = workerData as RaftstoreWorkerData;
const worker = new RaftstoreWorker(data, workerLogger(data), port);
port.on('message', (batch: unknown) => worker.channel.receive(batch));
