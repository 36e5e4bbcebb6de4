/**
 * The `KvEngine` on the npm `rocksdb` binding: the engine mrkv persists with.
 *
 * - Writes go through a group-commit queue (write-queue.ts): writes that arrive while one is in
 *   flight are sent together as one native batch, with one fsync if any asked for `sync`. A batch
 *   without range deletes goes to the binding as is. The binding has no DeleteRange, so a range
 *   delete is expanded, when its group is written, into deletes of the keys the range holds at
 *   that moment (the queue guarantees no other write runs in between). NB: that costs a scan of
 *   the range; TiKV also deletes small ranges key by key.
 * - Reads are one native call each: `get`/`multiGet` through the binding's multi-get, scans
 *   through native iterators read in chunks of up to 64 KiB.
 * - A snapshot is a pair of native iterators (forward and reverse) created in the same tick while
 *   no write is in flight, so both pin the same RocksDB sequence number; reads on it are seeks.
 * - Disk failpoints (failpoints.ts: disk-full, slow-fsync, crash before/after a sync), for tests,
 *   act at the one native write call of `flush`; without them a write checks one boolean.
 */
import { noopLogger, type Logger } from '@mrkv/common';
import { ChunkedIterator } from '../chunked-iterator.js';
import { EngineDir, rocksLockedError, type EngineKind } from '../data-dir.js';
import { EngineError, EngineErrorCodes } from '../errors.js';
import { checkKeyArg, checkKeys, checkRange, checkScan, type Scan } from '../scan-options.js';
import type { KeyRange, KvEngine, KvIterator, KvPair, KvSnapshot, RangeStats, ScanOptions, WriteBatch, WriteOptions } from '../traits/index.js';
import { END_OF_KEYS, OpWriteBatch, RESERVED_KEY_PREFIX, opsOf, type BatchOp } from '../write-batch.js';
import { WriteQueue, type PendingWrite } from '../write-queue.js';
import { closedError, rocksError } from './errors.js';
import type { DiskFailpoints } from './failpoints.js';
import { NativeDb, type NativeIterator, type RocksOpenOptions } from './native.js';
import { ITERATOR_HIGH_WATER_MARK, nextChunk } from './rocks-iterators.js';
import { RocksSnapshot } from './rocks-snapshot.js';

/** RocksDB settings an operator may tune (the binding's `open` options). */
export type RocksTuning = Pick<RocksOpenOptions, 'cacheSize' | 'writeBufferSize' | 'compression' | 'blockSize' | 'maxOpenFiles' | 'maxFileSize'>;

/**
 * Defaults an engine opens with, where `rocks` does not say otherwise. The binding's own defaults
 * (4 MiB memtable, 8 MiB block cache) are LevelDB's: a raft-log engine taking 100 KiB per poll
 * round would flush a memtable every 40 rounds and stall writes on L0 compactions. TiKV uses
 * 128 MiB memtables for its raft and default column families; 64 MiB keeps three engines per
 * store within a few hundred MiB.
 */
export const DEFAULT_ROCKS_TUNING: Readonly<RocksTuning> = { writeBufferSize: 64 << 20, cacheSize: 32 << 20 };

export interface RocksEngineOptions {
  /** The engine directory (created if missing; see data-dir.ts for its layout). */
  readonly path: string;
  readonly clusterId?: number | undefined;
  readonly storeId?: number | undefined;
  /** Open for reading only: nothing is written, locked or repaired. */
  readonly readOnly?: boolean | undefined;
  readonly logger?: Logger | undefined;
  readonly rocks?: RocksTuning | undefined;
  /**
   * Disk failpoints for tests (failpoints.ts), shared with the store's other engine. Absent in
   * production; when present but switched off a write checks one boolean.
   */
  readonly failpoints?: DiskFailpoints | undefined;
}

/** A write that touches nothing but still has to reach the disk: a tombstone of a reserved key. */
const SYNC_OPS: readonly BatchOp[] = [{ type: 'del', key: Buffer.from([RESERVED_KEY_PREFIX, 0x73, 0x79, 0x6e, 0x63]) }];
const FIRST_KEY = Buffer.from([0x00]);
const INT32_MAX = 0x7fffffff;

export class RocksKvEngine implements KvEngine {
  private readonly queue = new WriteQueue<OpWriteBatch>((group) => this.flush(group));
  private closed = false;
  private closing: Promise<void> | undefined;
  private inflight = 0;
  private drainWaiters: Array<() => void> = [];
  /** Open native iterators (scans and snapshots), ended at close. */
  private readonly iterators = new Set<NativeIterator>();
  readonly logger: Logger;

  private constructor(
    readonly dir: EngineDir,
    private readonly db: NativeDb,
    logger: Logger,
    private readonly failpoints: DiskFailpoints | undefined,
  ) {
    this.logger = logger;
  }

  /** Opens (creating if needed) a kv engine directory. */
  static open(options: RocksEngineOptions): Promise<RocksKvEngine> {
    return RocksKvEngine.openKind(options, 'kv');
  }

  /** Opens an engine directory of the given kind (the raft-log engine opens 'raft'). */
  static async openKind(options: RocksEngineOptions, kind: EngineKind): Promise<RocksKvEngine> {
    const logger = (options.logger ?? noopLogger).child({ component: 'engine', kind });
    const dir = EngineDir.open({ path: options.path, kind, clusterId: options.clusterId, storeId: options.storeId, readOnly: options.readOnly, logger });
    let db: NativeDb;
    try {
      db = await NativeDb.open(dir.dbPath, { createIfMissing: !dir.readOnly, readOnly: dir.readOnly, ...DEFAULT_ROCKS_TUNING, ...options.rocks });
    } catch (e) {
      dir.release();
      const msg = (e as Error).message ?? '';
      if (/lock/i.test(msg) && !/No such file/i.test(msg)) throw rocksLockedError(dir.path, e);
      throw rocksError(e, 'open', dir.dbPath, false);
    }
    return new RocksKvEngine(dir, db, logger, options.failpoints);
  }

  get path(): string {
    return this.dir.path;
  }

  /** A RocksDB property (`rocksdb.estimate-num-keys`, `rocksdb.stats`, …). */
  property(name: string): string {
    this.alive();
    return this.db.property(name);
  }

  /** Compacts a key range (flushing the memtable first); for tests and operators. */
  compactRange(range: KeyRange): Promise<void> {
    const { start, end } = checkRange(range);
    this.alive();
    return this.track(this.db.compactRange(start ?? FIRST_KEY, end ?? END_OF_KEYS), 'compactRange');
  }

  private alive(): void {
    if (this.closed) throw closedError(this.dir.path);
  }

  private writable(): void {
    if (this.closing !== undefined) throw closedError(this.dir.path);
    if (this.dir.readOnly) throw new EngineError(EngineErrorCodes.READ_ONLY, `engine ${this.dir.path} is open read-only`, { details: { path: this.dir.path } });
  }

  /** Counts a native call in flight (close waits for them) and types its error. */
  private async track<T>(p: Promise<T>, op: string): Promise<T> {
    this.inflight++;
    try {
      return await p;
    } catch (e) {
      throw rocksError(e, op, this.dir.dbPath, this.closed);
    } finally {
      if (--this.inflight === 0 && this.drainWaiters.length > 0) {
        const ws = this.drainWaiters;
        this.drainWaiters = [];
        for (const w of ws) w();
      }
    }
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    const k = checkKeyArg(key);
    this.alive();
    const [v] = await this.track(this.db.getMany([k]), 'get');
    return v;
  }

  async multiGet(keys: readonly Uint8Array[]): Promise<Array<Uint8Array | undefined>> {
    const ks = checkKeys(keys);
    this.alive();
    if (ks.length === 0) return [];
    return this.track(this.db.getMany(ks), 'multiGet');
  }

  async scan(options: ScanOptions): Promise<KvPair[]> {
    const it = this.iterator(options);
    const out: KvPair[] = [];
    for (let chunk = await it.nextChunk(); chunk.length > 0; chunk = await it.nextChunk()) {
      for (const p of chunk) out.push(p);
    }
    return out;
  }

  iterator(options: ScanOptions): KvIterator {
    const s = checkScan(options);
    this.alive();
    return this.scanIterator(s);
  }

  private scanIterator(s: Scan, highWaterMark = ITERATOR_HIGH_WATER_MARK): KvIterator {
    if (s.limit === 0) return new ChunkedIterator({ fetch: () => Promise.resolve([]), release: () => Promise.resolve() });
    const it = this.db.iteratorInit({
      reverse: s.reverse,
      values: !s.keysOnly,
      limit: s.limit <= INT32_MAX ? s.limit : -1,
      ...(s.start === undefined ? {} : { gte: s.start }),
      ...(s.end === undefined ? {} : { lt: s.end }),
      fillCache: true,
      highWaterMark,
    });
    this.iterators.add(it);
    let finished = false;
    let left = s.limit;
    return new ChunkedIterator({
      fetch: async () => {
        if (finished || left <= 0) return [];
        this.alive();
        const chunk = await this.track(nextChunk(it), 'iterator');
        finished = chunk.finished;
        if (chunk.pairs.length > left) chunk.pairs.length = left;
        left -= chunk.pairs.length;
        return chunk.pairs;
      },
      release: () => this.endIterator(it),
    });
  }

  /** Ends a native iterator (idempotent; a closed engine has ended it already). */
  endIterator(it: NativeIterator): Promise<void> {
    if (!this.iterators.delete(it) || this.closed) return Promise.resolve();
    return this.track(NativeDb.iteratorEnd(it), 'iterator end');
  }

  /** Creates an unbounded native iterator for a snapshot, registered for close. */
  newSnapshotIterator(reverse: boolean): NativeIterator {
    const it = this.db.iteratorInit({ reverse, fillCache: true, highWaterMark: ITERATOR_HIGH_WATER_MARK });
    this.iterators.add(it);
    return it;
  }

  /** Runs a native iterator call for a snapshot, counted and typed like every other call. */
  trackSnapshotRead<T>(p: Promise<T>): Promise<T> {
    this.alive();
    return this.track(p, 'snapshot read');
  }

  newWriteBatch(): WriteBatch {
    return new OpWriteBatch();
  }

  write(batch: WriteBatch, options: WriteOptions = {}): Promise<void> {
    let b: OpWriteBatch;
    try {
      b = opsOf(batch);
      this.writable();
    } catch (e) {
      return Promise.reject(e);
    }
    if (b.isEmpty() && !options.sync) return Promise.resolve();
    return this.queue.submit(b, options.sync === true);
  }

  private async flush(group: Array<PendingWrite<OpWriteBatch>>): Promise<void> {
    if (this.closed) throw closedError(this.dir.path);
    const sync = group.some((p) => p.sync);
    const only = group.length === 1 ? group[0]!.item : undefined;
    let ops: readonly BatchOp[] = only !== undefined && !only.hasDeleteRange ? only.ops : await this.expand(group.map((p) => p.item));
    if (ops.length === 0) {
      if (!sync) {
        for (const p of group) p.resolve();
        return;
      }
      ops = SYNC_OPS;
    }
    const fp = this.failpoints;
    if (fp !== undefined && fp.armed) {
      fp.beforeWrite(this.dir.dbPath, sync);
      await this.track(this.db.batch(ops, sync), 'write');
      if (sync) await fp.afterSync();
    } else {
      await this.track(this.db.batch(ops, sync), 'write');
    }
    for (const p of group) p.resolve();
  }

  /** The ops of several batches as one list, with each range delete expanded into key deletes. */
  private async expand(batches: OpWriteBatch[]): Promise<BatchOp[]> {
    const out: BatchOp[] = [];
    for (const b of batches) {
      for (const op of b.ops) {
        if (op.type !== 'deleteRange') {
          out.push(op);
          continue;
        }
        // Puts earlier in the group are not in the database yet: delete them too.
        for (let i = 0, n = out.length; i < n; i++) {
          const prev = out[i]!;
          if (prev.type === 'put' && Buffer.compare(prev.key, op.start) >= 0 && Buffer.compare(prev.key, op.end) < 0) {
            out.push({ type: 'del', key: prev.key });
          }
        }
        const it = this.scanIterator({ start: op.start, end: op.end, limit: Infinity, reverse: false, keysOnly: true }, 1 << 20);
        try {
          for (let chunk = await it.nextChunk(); chunk.length > 0; chunk = await it.nextChunk()) {
            for (const p of chunk) out.push({ type: 'del', key: p.key as Buffer });
          }
        } finally {
          await it.close();
        }
      }
    }
    return out;
  }

  async snapshot(): Promise<KvSnapshot> {
    this.alive();
    // Both native iterators must pin the same sequence number: create them in one tick with no
    // write in flight.
    while (this.queue.busy) await this.queue.idle();
    this.alive();
    return new RocksSnapshot(this);
  }

  async approximateStats(range: KeyRange, options: { readonly exactUpTo?: number } = {}): Promise<RangeStats> {
    const { start, end } = checkRange(range);
    this.alive();
    const exactUpTo = options.exactUpTo ?? 10_000;
    const it = this.scanIterator({ start, end, limit: exactUpTo + 1, reverse: false, keysOnly: false });
    let keys = 0;
    let bytes = 0;
    try {
      for (let chunk = await it.nextChunk(); chunk.length > 0; chunk = await it.nextChunk()) {
        for (const p of chunk) {
          keys++;
          bytes += p.key.length + p.value.length;
        }
      }
    } finally {
      await it.close();
    }
    if (keys <= exactUpTo) return { bytes, keys, exact: true };
    // Past the counted prefix, trust RocksDB's estimate from its files (it does not see the
    // memtable, hence the max with what was counted) and the average pair size seen so far.
    const files = await this.track(this.db.approximateSize(start ?? FIRST_KEY, end ?? END_OF_KEYS), 'approximateSize');
    const estBytes = Math.max(bytes, files);
    return { bytes: estBytes, keys: Math.max(keys, Math.round(estBytes / (bytes / keys))), exact: false };
  }

  sync(): Promise<void> {
    try {
      this.writable();
    } catch (e) {
      return Promise.reject(e);
    }
    return this.queue.submit(new OpWriteBatch(), true);
  }

  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    await this.queue.idle();
    this.closed = true;
    if (this.inflight > 0) await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    const its = [...this.iterators];
    this.iterators.clear();
    await Promise.all(its.map((it) => NativeDb.iteratorEnd(it).catch((e: unknown) => this.logger.warn({ err: e }, 'ending an iterator at close failed'))));
    try {
      await this.db.close();
    } catch (e) {
      throw rocksError(e, 'close', this.dir.dbPath, false);
    } finally {
      this.dir.release();
    }
  }
}
