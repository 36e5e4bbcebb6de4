/**
 * The wire shapes between the store's main thread and its raftstore thread (raftstore-thread.ts
 * main side, raftstore-worker.ts worker side), like piscina's `types.ts`: everything that crosses
 * the worker's port is declared here.
 *
 * - Calls go both ways as `{ t: 'call', id, method, args }` and are answered by
 *   `{ t: 'reply', id, ok, value | error }` (thread-channel.ts). Main calls {@link WorkerApi}
 *   (RawKV, bootstrap helpers, snapshots, lifecycle); the worker calls {@link MainApi} (PD and
 *   snapshot sends).
 * - One-way notes: {@link MainNote} (raft messages in, unreachable stores, PD operators, cancels)
 *   and {@link WorkerNote} (raft messages out, region heartbeats, stats snapshots).
 * - Byte lists travel packed into one `ArrayBuffer` ({@link PackedBytes}) that is transferred, so
 *   a batch of raft messages costs one copy and no clone of the frames they were cut from.
 * - Errors travel as {@link ThreadError} and are revived as the same classes: region errors
 *   through `reviveRegionError`, other mrkv errors as `MrkvError` with their code and details,
 *   invariant violations as `InvariantViolation` (still a bug on the main side), anything else as
 *   a plain `Error` with the worker's stack.
 */
import { assertNever, InvariantViolation, isMrkvError, MrkvError, type LogLevel, type WireError } from '@mrkv/common';
import { reviveRegionError, type Region, type RequestContext, type Store } from '@mrkv/proto';
import type { DiskFailpointSettings } from '@mrkv/engine';
import type { KvPair, PdHeartbeatResponse, RaftstoreConfig, RawCasOptions, RawCasResult, RawScanOptions, RegionHeartbeat, StoreStats } from '@mrkv/raftstore';
import type { DataDirLayout } from './data-dir.js';

/** Error codes of the raftstore thread boundary (TiKV `KV:Server:` naming). */
export const RaftstoreThreadCodes = {
  /** The raftstore thread died (uncaught error or exit); persistence can no longer be trusted. */
  THREAD_FAILED: 'KV:Server:RaftstoreThreadFailed',
  /** The raftstore thread posted nothing for `raftstore.thread-hung-ms`: stuck, treated as dead. */
  THREAD_HUNG: 'KV:Server:RaftstoreThreadHung',
  /** A call to the raftstore thread after it stopped or failed. */
  THREAD_STOPPED: 'KV:Server:RaftstoreThreadStopped',
  /** A message on the port that is not one of the shapes below (a bug on the other side). */
  BAD_MESSAGE: 'KV:Server:RaftstoreThreadBadMessage',
} as const;

export type RaftstoreThreadCode = (typeof RaftstoreThreadCodes)[keyof typeof RaftstoreThreadCodes];

/** What the worker needs to start (its `workerData`). All plain, cloneable values. */
export interface RaftstoreWorkerData {
  readonly config: RaftstoreConfig;
  readonly layout: DataDirLayout;
  readonly storeId: number;
  /** The process's log settings: the worker builds its own pino with them (a logger cannot cross threads). */
  readonly log: { readonly level: LogLevel; readonly file: string };
  /** How often the worker posts a {@link StatsSnapshot}. */
  readonly statsIntervalMs: number;
  /** Fault injection for tests (`MRKV_FAILPOINTS`, see failpoints.ts). */
  readonly failpoints?: RaftstoreThreadFailpoints;
}

/** Faults the raftstore (thread) can be told to inject (failpoints.ts parses them). */
export interface RaftstoreThreadFailpoints {
  /** Hex of a key: a RawPut of it crashes the thread with an uncaught error. */
  readonly crashOnPutKey?: string;
  /** Hex of a key: a RawPut of it makes the thread spin forever (a hung, not crashed, thread). */
  readonly hangOnPutKey?: string;
  /** Disk failpoints of both engines from start-up (`@mrkv/engine` `DiskFailpoints`). */
  readonly disk?: DiskFailpointSettings;
  /** A file the engines' thread polls for disk failpoints at runtime (`MRKV_FAILPOINTS_WATCH=1`). */
  readonly watchFile?: string;
}

/** The raftstore's synchronously-read figures, posted by the worker and cached by main. */
export interface StatsSnapshot {
  readonly regionCount: number;
  readonly storeStats: Partial<StoreStats>;
  readonly metricsText: string;
}

/** Encoded byte strings packed into one transferable buffer: item i is `buf[ends[i-1] .. ends[i])`. */
export interface PackedBytes {
  readonly buf: ArrayBuffer;
  readonly ends: readonly number[];
}

/** Methods main calls on the worker (argument lists as sent; signals travel as cancel notes). */
export interface WorkerApi {
  /** Opens both engines (kv/ and raft/0/). */
  open(): void;
  preparedRegion(): Region | undefined;
  prepareBootstrap(region: Region): void;
  clearPrepareBootstrap(): void;
  clearPreparedRegion(region: Region): void;
  /** Starts the raftstore; answers the first stats snapshot. */
  start(clusterId: number): StatsSnapshot;
  rawGet(ctx: RequestContext, key: Uint8Array): Uint8Array | undefined;
  rawBatchGet(ctx: RequestContext, keys: readonly Uint8Array[]): KvPair[];
  rawPut(ctx: RequestContext, key: Uint8Array, value: Uint8Array): void;
  rawBatchPut(ctx: RequestContext, pairs: readonly KvPair[]): void;
  rawDelete(ctx: RequestContext, key: Uint8Array): void;
  rawBatchDelete(ctx: RequestContext, keys: readonly Uint8Array[]): void;
  rawDeleteRange(ctx: RequestContext, startKey: Uint8Array, endKey: Uint8Array): void;
  rawScan(ctx: RequestContext, opts: RawScanOptions): KvPair[];
  rawCompareAndSwap(ctx: RequestContext, opts: RawCasOptions): RawCasResult;
  splitRegion(ctx: RequestContext, splitKeys: readonly Uint8Array[]): Region[];
  readIndex(ctx: RequestContext): number;
  /** An inbound snapshot: the head RaftMessage and the whole data (packed: [head, data]). */
  snapshot(parts: PackedBytes): void;
  /** Stops the raft and apply systems (pending proposals fail); engines stay open. */
  stop(): void;
  /** Closes the engines (after `stop`, or instead of `start`). */
  close(): void;
}

/** Methods the worker calls on main. */
export interface MainApi {
  storeHeartbeat(stats: StoreStats): void;
  askBatchSplit(region: Region, count: number): Array<{ newRegionId: number; newPeerIds: number[] }>;
  reportBatchSplit(regions: readonly Region[]): void;
  getStore(storeId: number): Store;
  allocId(): number;
  /** Streams a snapshot (packed: [head, data]) to a store; resolves when the receiver accepted it. */
  sendSnapshot(toStoreId: number, parts: PackedBytes): void;
}

/** One-way messages main → worker. */
export type MainNote =
  | { readonly t: 'raft'; readonly msgs: PackedBytes }
  | { readonly t: 'unreachable'; readonly storeId: number }
  | { readonly t: 'pdResponse'; readonly resp: PdHeartbeatResponse };

/** One-way messages worker → main. */
export type WorkerNote =
  | { readonly t: 'send'; readonly storeId: number; readonly msgs: PackedBytes }
  | { readonly t: 'regionHeartbeat'; readonly hb: RegionHeartbeat }
  | { readonly t: 'stats'; readonly stats: StatsSnapshot };

/** An error in its cloneable form. */
export type ThreadError =
  | { readonly kind: 'mrkv'; readonly wire: WireError }
  | { readonly kind: 'invariant'; readonly message: string; readonly fields: Record<string, unknown> }
  | { readonly kind: 'error'; readonly name: string; readonly message: string; readonly stack: string | undefined };

/** What travels on the port: always an array of these (one post per event-loop turn). */
export type Envelope =
  | { readonly t: 'call'; readonly id: number; readonly method: string; readonly args: readonly unknown[] }
  | { readonly t: 'reply'; readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly t: 'reply'; readonly id: number; readonly ok: false; readonly error: ThreadError }
  | { readonly t: 'cancel'; readonly id: number }
  | { readonly t: 'note'; readonly note: { readonly t: string } };

/** Packs `items` into one new buffer (the copy that frees them from the frames they came in). */
export function packBytes(items: readonly Uint8Array[]): PackedBytes {
  let size = 0;
  for (const b of items) size += b.byteLength;
  const out = new Uint8Array(size);
  const ends: number[] = new Array<number>(items.length);
  let off = 0;
  for (let i = 0; i < items.length; i++) {
    out.set(items[i]!, off);
    off += items[i]!.byteLength;
    ends[i] = off;
  }
  return { buf: out.buffer, ends };
}

/**
 * The items of a packed buffer, as views into it (no copy). Throws a typed error if `ends` does
 * not describe `buf` (a bug on the sending side, never user input).
 */
export function unpackBytes(p: PackedBytes): Uint8Array[] {
  const out: Uint8Array[] = new Array<Uint8Array>(p.ends.length);
  let start = 0;
  for (let i = 0; i < p.ends.length; i++) {
    const end = p.ends[i]!;
    if (!Number.isInteger(end) || end < start || end > p.buf.byteLength) {
      throw new MrkvError(RaftstoreThreadCodes.BAD_MESSAGE, `packed bytes: item ${i} ends at ${end}, outside ${start}..${p.buf.byteLength}`);
    }
    out[i] = new Uint8Array(p.buf, start, end - start);
    start = end;
  }
  return out;
}

/**
 * Packs a snapshot for the port: item 0 is the head RaftMessage, item 1 the data, copied once
 * from its chunks into the same buffer.
 */
export function packSnapshot(head: Uint8Array, chunks: readonly Uint8Array[]): PackedBytes {
  let size = head.byteLength;
  for (const c of chunks) size += c.byteLength;
  const out = new Uint8Array(size);
  out.set(head, 0);
  let off = head.byteLength;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return { buf: out.buffer, ends: [head.byteLength, size] };
}

/**
 * A compact copy of `b` when it is a view into a larger buffer (a gRPC frame, Node's Buffer
 * pool): structured clone copies a view's whole underlying buffer, not just the view.
 * (`Buffer#slice` would be another view, hence the copy constructor.)
 */
export function compact(b: Uint8Array): Uint8Array {
  return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? b : new Uint8Array(b);
}

/**
 * `v` with every byte view inside it (arrays and plain objects, at any depth) made compact;
 * shares everything that needed no copy (copy on write).
 */
export function compactDeep<T>(v: T): T {
  if (v instanceof Uint8Array) return compact(v) as T;
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const c = compactDeep(v[i] as unknown);
      if (c !== v[i]) (out ??= v.slice())[i] = c;
    }
    return (out ?? v) as T;
  }
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    let out: Record<string, unknown> | undefined;
    for (const [k, x] of Object.entries(v)) {
      const c = compactDeep(x);
      if (c !== x) (out ??= { ...(v as Record<string, unknown>) })[k] = c;
    }
    return (out ?? v) as T;
  }
  return v;
}

/** The cloneable form of any thrown value. */
export function errorToThread(err: unknown): ThreadError {
  if (isMrkvError(err)) return { kind: 'mrkv', wire: err.toWire() };
  if (err instanceof InvariantViolation) return { kind: 'invariant', message: err.message, fields: err.fields };
  if (err instanceof Error) return { kind: 'error', name: err.name, message: err.message, stack: err.stack };
  return { kind: 'error', name: 'Error', message: String(err), stack: undefined };
}

/** Rebuilds a thrown value from its {@link ThreadError} form (module comment). */
export function errorFromThread(e: ThreadError): Error {
  switch (e.kind) {
    case 'mrkv':
      return reviveRegionError(e.wire) ?? MrkvError.fromWire(e.wire);
    case 'invariant': {
      const v = new InvariantViolation('', e.fields);
      // The message already carries "invariant violated: …" and the fields.
      v.message = e.message;
      return v;
    }
    case 'error': {
      const err = new Error(e.message);
      err.name = e.name;
      if (e.stack !== undefined) err.stack = e.stack;
      return err;
    }
    default:
      return assertNever(e, 'thread error kind');
  }
}
