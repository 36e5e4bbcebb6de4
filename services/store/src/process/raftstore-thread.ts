/**
 * The raftstore on its own thread, main side: a `RaftstoreBackend` whose engines, bootstrap
 * helpers and raftstore all live in one worker thread (raftstore-worker.ts), while the main thread
 * keeps gRPC, the PD client, the raft transport and the store heartbeats (docs/architecture.md §4).
 *
 * What main hands the worker, and what it keeps answering for it (shapes: thread-protocol.ts):
 *
 * - RawKV: each call is posted with its arguments (byte views copied out of the gRPC frame) and
 *   settles with the worker's answer; an abort rejects at once and the worker drops the answer.
 *   Errors come back as the same classes (region errors, request errors, invariant violations).
 * - Inbound raft traffic: a BatchRaft frame's messages are packed into one buffer and transferred;
 *   a snapshot stream is collected here and sent as one buffer (head + data).
 * - Outbound raft traffic, PD calls and region heartbeats come from the worker and are served by
 *   the process's `RaftClient` and PD client; PD's operators are forwarded to the worker.
 * - `regionCount`, `storeStats` and `metricsText` are read synchronously, so they answer from the
 *   latest snapshot the worker posts (every second, and at start and stop).
 *
 * A thread that dies (an uncaught error, or an exit nobody asked for) — or hangs: no stats
 * snapshot for `hungAfterMs` once started (a watchdog on main) — fails every pending call and
 * calls `onFailure`, which in the process logs the error and exits non-zero: its engines may hold
 * acknowledged writes that nothing can reach any more, so the store must not go on serving.
 */
import type { Worker } from 'node:worker_threads';
import { MrkvError, startWorker, type Logger, type LogLevel } from '@mrkv/common';
import type { Region, RequestContext } from '@mrkv/proto';
import type {
  KvPair,
  RaftMessageSink,
  RaftstoreConfig,
  RawCasOptions,
  RawCasResult,
  RawKvApi,
  RawScanOptions,
} from '@mrkv/raftstore';
import type { RaftstoreBackend, RaftstoreStartDeps, RunningRaftstore } from './backend.js';
import type { BootstrapEngines } from './bootstrap.js';
import type { DataDirLayout } from './data-dir.js';
import { ThreadChannel, type Handlers } from './thread-channel.js';
import {
  packBytes,
  packSnapshot,
  RaftstoreThreadCodes,
  unpackBytes,
  type MainApi,
  type MainNote,
  type RaftstoreThreadFailpoints,
  type RaftstoreWorkerData,
  type StatsSnapshot,
  type WorkerApi,
  type WorkerNote,
} from './thread-protocol.js';

type Channel = ThreadChannel<MainApi, WorkerApi, WorkerNote, MainNote>;

/** Options of {@link openRaftstoreThread}. */
export interface RaftstoreThreadOptions {
  readonly config: RaftstoreConfig;
  readonly layout: DataDirLayout;
  readonly storeId: number;
  /** The process's log settings, for the worker's own pino. */
  readonly log: { readonly level: LogLevel; readonly file: string };
  readonly logger: Logger;
  /**
   * Called once when the thread dies after it opened its engines (the error is already logged at
   * fatal). The process exits non-zero ({@link exitOnThreadFailure}); tests record it.
   */
  readonly onFailure: (err: MrkvError) => void;
  /** How often the worker posts its stats (default 1000 ms). */
  readonly statsIntervalMs?: number;
  /**
   * Once started, a thread that posts no stats for this long is hung and handled as a dead one
   * (default 60 s, `raftstore.thread-hung-ms`; 0: no watchdog).
   */
  readonly hungAfterMs?: number;
  /** Data bytes per chunk of an outbound snapshot (default 1 MiB). */
  readonly snapChunkSize?: number;
  readonly failpoints?: RaftstoreThreadFailpoints;
}

/** The production `onFailure`: the store cannot go on without its raftstore; exit 1 (logs flush at exit). */
export function exitOnThreadFailure(): void {
  process.exit(1);
}

/** Starts the raftstore thread and opens the engines in it. Rejects (thread ended) if they do not open. */
export async function openRaftstoreThread(opts: RaftstoreThreadOptions): Promise<RaftstoreBackend> {
  const t = new RaftstoreThread(opts);
  try {
    await t.channel.call('open', []);
  } catch (err) {
    await t.terminate();
    throw err;
  }
  t.opened = true;
  return t.backend();
}

class RaftstoreThread {
  readonly channel: Channel;
  private readonly worker: Worker;
  private readonly logger: Logger;
  /** Set by `start`; the worker calls PD and the transport only after that. */
  private deps: RaftstoreStartDeps | undefined;
  private stats: StatsSnapshot = { regionCount: 0, storeStats: {}, metricsText: '' };
  /** The engines are open: a death from now on is a process failure, not a failed open. */
  opened = false;
  private ending = false;
  private failure: MrkvError | undefined;
  /** When the last stats snapshot arrived (monotonic ms), for the hang watchdog. */
  private lastStatsAt = 0;
  private watchdog: NodeJS.Timeout | undefined;

  constructor(private readonly opts: RaftstoreThreadOptions) {
    this.logger = opts.logger.child({ component: 'raftstore-thread' });
    const workerData: RaftstoreWorkerData = {
      config: opts.config,
      layout: opts.layout,
      storeId: opts.storeId,
      log: opts.log,
      statsIntervalMs: opts.statsIntervalMs ?? 1000,
      ...(opts.failpoints ? { failpoints: opts.failpoints } : {}),
    };
    this.worker = startWorker(new URL('./raftstore-worker.js', import.meta.url), import.meta.url, { workerData, name: 'raftstore' });
    this.channel = new ThreadChannel<MainApi, WorkerApi, WorkerNote, MainNote>({
      port: this.worker,
      handlers: this.handlers(),
      onNote: (n) => this.onNote(n),
      onProblem: (err) => this.logger.error({ err }, 'raftstore thread port problem'),
    });
    this.worker.on('message', (batch: unknown) => this.channel.receive(batch));
    this.worker.on('messageerror', (err) => this.logger.error({ err }, 'a message from the raftstore thread could not be read'));
    this.worker.on('error', (err) => this.died(err));
    this.worker.on('exit', (code) => {
      if (!this.ending) this.died(new MrkvError(RaftstoreThreadCodes.THREAD_FAILED, `raftstore thread exited with code ${code}`, { details: { exitCode: code } }));
    });
  }

  private died(cause: unknown, code: string = RaftstoreThreadCodes.THREAD_FAILED): void {
    if (this.failure !== undefined || this.ending) return;
    this.stopWatchdog();
    const message = cause instanceof Error ? cause.message : String(cause);
    const err = new MrkvError(code, `raftstore thread failed: ${message}`, { cause });
    this.failure = err;
    this.channel.fail(err);
    if (!this.opened) return; // the open call rejects with it
    this.logger.fatal({ err: cause }, 'raftstore thread failed; persistence can no longer be trusted, exiting');
    this.opts.onFailure(err);
  }

  /** Watches the stats snapshots; a thread silent for `hungAfterMs` is taken as dead. */
  private startWatchdog(): void {
    const hungAfterMs = this.opts.hungAfterMs ?? 60_000;
    if (hungAfterMs <= 0) return;
    this.lastStatsAt = performance.now();
    this.watchdog = setInterval(() => {
      const silentMs = performance.now() - this.lastStatsAt;
      if (silentMs <= hungAfterMs) return;
      const err = new MrkvError(RaftstoreThreadCodes.THREAD_HUNG, `no sign of life for ${Math.round(silentMs)} ms (raftstore.thread-hung-ms = ${hungAfterMs})`, {
        details: { silentMs: Math.round(silentMs), hungAfterMs },
      });
      this.died(err, RaftstoreThreadCodes.THREAD_HUNG);
      // A spinning thread never exits by itself; terminate() interrupts it.
      this.ending = true;
      void this.worker.terminate();
    }, Math.max(10, Math.min(1_000, hungAfterMs / 4)));
    this.watchdog.unref();
  }

  private stopWatchdog(): void {
    if (this.watchdog !== undefined) clearInterval(this.watchdog);
    this.watchdog = undefined;
  }

  /** Ends the thread on purpose (after `close`, or when opening failed). */
  async terminate(): Promise<void> {
    this.stopWatchdog();
    if (this.ending) return;
    this.ending = true;
    this.channel.flush();
    this.channel.fail(new MrkvError(RaftstoreThreadCodes.THREAD_STOPPED, 'raftstore thread closed'));
    await this.worker.terminate();
  }

  private requireDeps(what: string): RaftstoreStartDeps {
    if (this.deps === undefined) throw new MrkvError(RaftstoreThreadCodes.BAD_MESSAGE, `${what} before the raftstore started`);
    return this.deps;
  }

  private handlers(): Handlers<MainApi> {
    const pd = (what: string) => this.requireDeps(what).pd;
    return {
      storeHeartbeat: (stats) => pd('storeHeartbeat').storeHeartbeat(stats),
      askBatchSplit: (region, count) => pd('askBatchSplit').askBatchSplit(region, count),
      reportBatchSplit: (regions) => pd('reportBatchSplit').reportBatchSplit(regions),
      getStore: (storeId) => pd('getStore').getStore(storeId),
      allocId: () => pd('allocId').allocId(),
      sendSnapshot: (toStoreId, parts) => {
        const [head, data] = unpackBytes(parts);
        if (head === undefined || data === undefined) throw new MrkvError(RaftstoreThreadCodes.BAD_MESSAGE, 'snapshot parts must be [head, data]');
        return this.requireDeps('sendSnapshot').transport.sendSnapshot(toStoreId, head, chunked(data, this.opts.snapChunkSize ?? 1 << 20));
      },
    };
  }

  private onNote(n: WorkerNote): void {
    switch (n.t) {
      case 'send':
        this.deps?.transport.send(n.storeId, unpackBytes(n.msgs));
        return;
      case 'regionHeartbeat':
        this.deps?.pd.regionHeartbeat(n.hb);
        return;
      case 'stats':
        this.stats = n.stats;
        this.lastStatsAt = performance.now();
        return;
      default:
        this.logger.error({ note: (n as { t?: unknown }).t }, 'unknown note from the raftstore thread dropped');
    }
  }

  backend(): RaftstoreBackend {
    const ch = this.channel;
    const bootstrap: BootstrapEngines = {
      preparedRegion: () => ch.call('preparedRegion', []),
      prepareBootstrap: (region) => ch.call('prepareBootstrap', [region]),
      clearPrepareBootstrap: () => ch.call('clearPrepareBootstrap', []),
      clearPreparedRegion: (region) => ch.call('clearPreparedRegion', [region]),
    };
    return {
      bootstrap,
      start: (deps) => this.start(deps),
      close: async () => {
        if (this.ending) return; // closed already (idempotent)
        try {
          if (this.failure === undefined) await ch.call('close', []);
        } finally {
          await this.terminate();
        }
      },
    };
  }

  private async start(deps: RaftstoreStartDeps): Promise<RunningRaftstore> {
    this.deps = deps;
    deps.pd.onHeartbeatResponse((resp) => this.channel.notify({ t: 'pdResponse', resp }));
    this.stats = await this.channel.call('start', [deps.clusterId]);
    this.startWatchdog();
    const ch = this.channel;
    const sink: RaftMessageSink = {
      onRaftMessages(msgs) {
        if (msgs.length === 0) return;
        const packed = packBytes(msgs);
        ch.notify({ t: 'raft', msgs: packed }, [packed.buf]);
      },
      async onSnapshot(head, chunks) {
        const parts: Uint8Array[] = [];
        for await (const c of chunks) parts.push(c);
        const packed = packSnapshot(head, parts);
        await ch.call('snapshot', [packed], { transfer: [packed.buf] });
      },
    };
    return {
      rawKv: new ThreadRawKv(ch),
      raftSink: sink,
      onStoreUnreachable: (storeId) => ch.notify({ t: 'unreachable', storeId }),
      regionCount: () => this.stats.regionCount,
      storeStats: () => this.stats.storeStats,
      metricsText: () => this.stats.metricsText,
      stop: () => {
        this.stopWatchdog(); // a stopping raftstore posts no more stats
        return this.failure === undefined ? ch.call('stop', []) : Promise.resolve();
      },
    };
  }
}

/** `data` as chunks of at most `size` bytes (views, no copy); one empty chunk for empty data. */
async function* chunked(data: Uint8Array, size: number): AsyncIterable<Uint8Array> {
  if (data.length === 0) yield data;
  for (let off = 0; off < data.length; off += size) yield data.subarray(off, Math.min(data.length, off + size));
}

/** RawKV answered by the raftstore thread. */
class ThreadRawKv implements RawKvApi {
  constructor(private readonly ch: Channel) {}

  rawGet(ctx: RequestContext, key: Uint8Array, signal?: AbortSignal): Promise<Uint8Array | undefined> {
    return this.ch.call('rawGet', [ctx, key], { signal });
  }
  rawBatchGet(ctx: RequestContext, keys: readonly Uint8Array[], signal?: AbortSignal): Promise<KvPair[]> {
    return this.ch.call('rawBatchGet', [ctx, keys], { signal });
  }
  rawPut(ctx: RequestContext, key: Uint8Array, value: Uint8Array, signal?: AbortSignal): Promise<void> {
    return this.ch.call('rawPut', [ctx, key, value], { signal });
  }
  rawBatchPut(ctx: RequestContext, pairs: readonly KvPair[], signal?: AbortSignal): Promise<void> {
    return this.ch.call('rawBatchPut', [ctx, pairs], { signal });
  }
  rawDelete(ctx: RequestContext, key: Uint8Array, signal?: AbortSignal): Promise<void> {
    return this.ch.call('rawDelete', [ctx, key], { signal });
  }
  rawBatchDelete(ctx: RequestContext, keys: readonly Uint8Array[], signal?: AbortSignal): Promise<void> {
    return this.ch.call('rawBatchDelete', [ctx, keys], { signal });
  }
  rawDeleteRange(ctx: RequestContext, startKey: Uint8Array, endKey: Uint8Array, signal?: AbortSignal): Promise<void> {
    return this.ch.call('rawDeleteRange', [ctx, startKey, endKey], { signal });
  }
  rawScan(ctx: RequestContext, opts: RawScanOptions, signal?: AbortSignal): Promise<KvPair[]> {
    return this.ch.call('rawScan', [ctx, opts], { signal });
  }
  rawCompareAndSwap(ctx: RequestContext, opts: RawCasOptions, signal?: AbortSignal): Promise<RawCasResult> {
    return this.ch.call('rawCompareAndSwap', [ctx, opts], { signal });
  }
  splitRegion(ctx: RequestContext, splitKeys: readonly Uint8Array[], signal?: AbortSignal): Promise<Region[]> {
    return this.ch.call('splitRegion', [ctx, splitKeys], { signal });
  }
  readIndex(ctx: RequestContext, signal?: AbortSignal): Promise<number> {
    return this.ch.call('readIndex', [ctx], { signal });
  }
}
