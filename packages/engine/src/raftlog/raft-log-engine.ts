/**
 * The raft-log engine, written once over any `KvEngine` (RocksDB for stores, memory for the
 * simulator), the way TiKV implements `RaftEngine` on top of a RocksDB engine.
 *
 * Write path (the group-commit primitive of the raft batch system). `write(batch)` queues the
 * batch; batches queued while one is being written are written together. For each batch the
 * engine replays its operations on copies of the affected regions' `RegionLog`s, producing the
 * KV operations — entry puts, deletes of overwritten or compacted entries, and one state record
 * per touched region — into ONE kv write batch with one fsync. Only when that write resolves do
 * the new `RegionLog`s become the engine's state, so `state`/`term` always answer what is
 * durable. A batch that fails validation is refused alone; the rest of its group is written.
 *
 * Read path. Bounds and terms come from memory. Entries are read with one multi-get (short
 * ranges) or a chunked scan, and each record's checksum is verified.
 */
import { noopLogger, readU64BE, type Logger } from '@mrkv/common';
import { EngineError, EngineErrorCodes, invalidArgument } from '../errors.js';
import { raftLogKey, raftStateKey } from '../keys.js';
import type { KvEngine, RaftEntry, RaftLogBatch, RaftLogEngine, RaftLogState, WriteOptions } from '../traits/index.js';
import { OpWriteBatch } from '../write-batch.js';
import { WriteQueue, type PendingWrite } from '../write-queue.js';
import { LogBatch, type RegionOp } from './log-batch.js';
import { decodeEntry, encodeState, entryPayloadSize } from './record.js';
import { corruption, recoverLogs, type RecoveryReport, type VerifyMode } from './recovery.js';
import { RegionLog } from './region-log.js';

/** Marks a region removed by the batch being written (its state key is deleted). */
const REMOVED = Symbol('removed');

/** Ranges up to this many entries are read with one multi-get; longer ones with a scan. */
const MULTI_GET_MAX = 64;

export interface RaftLogEngineOptions {
  /** How much of the logs to verify at open (default `full`; see recovery.ts). */
  readonly verify?: VerifyMode | undefined;
  /** Do not repair (the kv engine was opened read-only). */
  readonly readOnly?: boolean | undefined;
  readonly logger?: Logger | undefined;
}

export class KvRaftLogEngine implements RaftLogEngine {
  private readonly queue = new WriteQueue<LogBatch>((group) => this.flush(group));
  private closing: Promise<void> | undefined;

  private constructor(
    /** The kv engine holding the logs; owned by this engine (closed with it). */
    readonly kv: KvEngine,
    private readonly logs: Map<number, RegionLog>,
    /** What the open found and repaired. */
    readonly recovery: RecoveryReport,
    private readonly readOnly: boolean,
    private readonly label: string,
  ) {}

  /** Recovers the logs held by `kv` (see recovery.ts) and takes ownership of it. */
  static async open(kv: KvEngine, options: RaftLogEngineOptions = {}): Promise<KvRaftLogEngine> {
    const label = kv.path ?? 'memory engine';
    try {
      const { logs, report } = await recoverLogs(kv, {
        mode: options.verify ?? 'full',
        readOnly: options.readOnly === true,
        path: label,
        logger: options.logger ?? noopLogger,
      });
      return new KvRaftLogEngine(kv, logs, report, options.readOnly === true, label);
    } catch (e) {
      await kv.close();
      throw e;
    }
  }

  get path(): string | undefined {
    return this.kv.path;
  }

  newBatch(): RaftLogBatch {
    return new LogBatch();
  }

  write(batch: RaftLogBatch, options: WriteOptions = {}): Promise<void> {
    if (!(batch instanceof LogBatch)) return Promise.reject(invalidArgument('raft log batch was not created by this engine'));
    if (this.closing !== undefined) return Promise.reject(new EngineError(EngineErrorCodes.CLOSED, `raft log engine ${this.label} is closed`));
    if (this.readOnly) return Promise.reject(new EngineError(EngineErrorCodes.READ_ONLY, `raft log engine ${this.label} is open read-only`));
    if (batch.isEmpty() && !options.sync) return Promise.resolve();
    return this.queue.submit(batch, options.sync === true);
  }

  private async flush(group: Array<PendingWrite<LogBatch>>): Promise<void> {
    const wb = new OpWriteBatch();
    /** Next states of the regions touched by accepted batches (REMOVED: the region is gone). */
    const next = new Map<number, RegionLog | typeof REMOVED>();
    /** What `next` held before each change of the current batch, to undo a refused batch. */
    const undo: Array<[number, RegionLog | typeof REMOVED | undefined]> = [];
    const accepted: Array<PendingWrite<LogBatch>> = [];
    let sync = false;
    for (const p of group) {
      undo.length = 0;
      wb.setSavePoint();
      try {
        for (const op of p.item.ops) {
          const r = op.regionId;
          const pending = next.get(r);
          const log = pending === undefined ? this.logs.get(r) : pending === REMOVED ? undefined : pending;
          undo.push([r, pending]);
          next.set(r, applyOp(op, log ?? RegionLog.empty(r), wb) ?? REMOVED);
        }
      } catch (e) {
        wb.rollbackToSavePoint();
        for (let i = undo.length - 1; i >= 0; i--) {
          const [r, prev] = undo[i]!;
          if (prev === undefined) next.delete(r);
          else next.set(r, prev);
        }
        p.reject(e);
        continue;
      }
      wb.popSavePoint();
      accepted.push(p);
      sync ||= p.sync;
    }
    if (accepted.length === 0) return;
    for (const [r, l] of next) {
      if (l === REMOVED) wb.deleteTrusted(raftStateKey(r));
      else wb.putTrusted(l.stateKey, encodeState(l.toRecord()));
    }
    await this.kv.write(wb, { sync });
    for (const [r, l] of next) {
      if (l === REMOVED) this.logs.delete(r);
      else this.logs.set(r, l);
    }
    for (const p of accepted) p.resolve();
  }

  regionIds(): number[] {
    return [...this.logs.keys()].sort((a, b) => a - b);
  }

  state(regionId: number): RaftLogState | undefined {
    return this.logs.get(regionId)?.toState();
  }

  term(regionId: number, index: number): number {
    if (!Number.isSafeInteger(index) || index < 0) throw invalidArgument(`log index must be a non-negative integer, got ${String(index)}`);
    const log = this.logs.get(regionId) ?? RegionLog.empty(regionId);
    const t = log.termOf(index);
    if (t !== undefined) return t;
    if (index > log.last) throw unavailable(regionId, index, log);
    throw compacted(regionId, index, log);
  }

  async entries(regionId: number, low: number, high: number, maxBytes = Infinity): Promise<RaftEntry[]> {
    if (!Number.isSafeInteger(low) || !Number.isSafeInteger(high) || low < 0 || high < low) throw invalidArgument(`bad entry range [${String(low)}, ${String(high)})`, { regionId });
    if (!(maxBytes >= 0)) throw invalidArgument(`maxBytes must be ≥ 0, got ${String(maxBytes)}`);
    for (;;) {
      const current = this.logs.get(regionId);
      const log = current ?? RegionLog.empty(regionId);
      if (low < log.first) throw compacted(regionId, low, log);
      if (high > log.last + 1) throw unavailable(regionId, high - 1, log);
      if (low === high) return [];
      const read = await this.read(regionId, low, high, maxBytes);
      if (Array.isArray(read)) return read;
      // An entry was missing. A write that compacted or truncated the log may have raced the
      // read: once writes in flight have landed, an unchanged region (every write installs a new
      // RegionLog object) means real corruption.
      await this.queue.idle();
      if (this.logs.get(regionId) === current) throw corruption(this.label, regionId, read.missing, 'entry is missing');
    }
  }

  /** Entries `[low, high)` within `maxBytes`, or the first index found missing. */
  private async read(regionId: number, low: number, high: number, maxBytes: number): Promise<RaftEntry[] | { missing: number }> {
    const out: RaftEntry[] = [];
    let bytes = 0;
    /** True: taken; false: over the byte limit, stop; object: missing. */
    const take = (index: number, v: Uint8Array | undefined): boolean | { missing: number } => {
      if (v === undefined) return { missing: index };
      const e = decodeEntry(v, index);
      if (typeof e === 'string') throw corruption(this.label, regionId, index, e);
      bytes += entryPayloadSize(e);
      if (out.length > 0 && bytes > maxBytes) return false;
      out.push(e);
      return true;
    };
    if (high - low <= MULTI_GET_MAX) {
      const keys: Buffer[] = [];
      for (let i = low; i < high; i++) keys.push(raftLogKey(regionId, i));
      const values = await this.kv.multiGet(keys);
      for (let i = 0; i < values.length; i++) {
        const r = take(low + i, values[i]);
        if (r !== true) return r === false ? out : r;
      }
      return out;
    }
    const it = this.kv.iterator({ start: raftLogKey(regionId, low), end: raftLogKey(regionId, high) });
    try {
      let expect = low;
      for (let chunk = await it.nextChunk(); chunk.length > 0; chunk = await it.nextChunk()) {
        for (const { key, value } of chunk) {
          const index = readU64BE(key, 11);
          if (index !== expect) return { missing: expect };
          const r = take(index, value);
          if (r !== true) return r === false ? out : r;
          expect++;
        }
      }
      return expect === high ? out : { missing: expect };
    } finally {
      await it.close();
    }
  }

  sync(): Promise<void> {
    if (this.readOnly) return Promise.resolve();
    return this.kv.sync();
  }

  close(): Promise<void> {
    this.closing ??= this.queue.idle().then(() => this.kv.close());
    return this.closing;
  }
}

/** Replays one region operation on `log`, adding its kv operations (except the state record) to `wb`. */
function applyOp(op: RegionOp, log: RegionLog, wb: OpWriteBatch): RegionLog | undefined {
  const r = op.regionId;
  switch (op.type) {
    case 'append': {
      const next = log.withAppend(op.entries);
      for (let i = 0; i < op.entries.length; i++) wb.putTrusted(raftLogKey(r, op.entries[i]!.index), op.records[i]!);
      for (let i = next.last + 1; i <= log.last; i++) wb.deleteTrusted(raftLogKey(r, i));
      return next;
    }
    case 'hardState':
      return log.withHardState(op.hardState);
    case 'compact': {
      const next = log.withCompact(op.compactTo);
      for (let i = log.first; i < next.first; i++) wb.deleteTrusted(raftLogKey(r, i));
      return next;
    }
    case 'reset': {
      for (let i = log.first; i <= log.last; i++) wb.deleteTrusted(raftLogKey(r, i));
      return log.withReset(op.index, op.term);
    }
    case 'remove':
      for (let i = log.first; i <= log.last; i++) wb.deleteTrusted(raftLogKey(r, i));
      return undefined;
  }
}

function compacted(regionId: number, index: number, log: RegionLog): EngineError {
  return new EngineError(EngineErrorCodes.ENTRIES_COMPACTED, `region ${regionId}: index ${index} is compacted (first index ${log.first})`, {
    details: { regionId, index, firstIndex: log.first },
  });
}

function unavailable(regionId: number, index: number, log: RegionLog): EngineError {
  return new EngineError(EngineErrorCodes.ENTRIES_UNAVAILABLE, `region ${regionId}: index ${index} is beyond last index ${log.last}`, {
    details: { regionId, index, lastIndex: log.last },
  });
}

