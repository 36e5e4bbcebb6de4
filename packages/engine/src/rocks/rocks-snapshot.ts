/**
 * A consistent view of a RocksDB engine. The binding exposes RocksDB snapshots only through
 * iterators (each takes one when created), so a snapshot is two unbounded native iterators, one
 * per direction, created together while no write was in flight (RocksKvEngine.snapshot). Every
 * read is a seek on one of them followed by chunked reads, serialized per snapshot.
 */
import { ChunkedIterator } from '../chunked-iterator.js';
import { EngineError, EngineErrorCodes } from '../errors.js';
import { checkKeyArg, checkKeys, checkScan, type Scan } from '../scan-options.js';
import type { KvIterator, KvPair, KvSnapshot, ScanOptions } from '../traits/index.js';
import { END_OF_KEYS } from '../write-batch.js';
import { NativeDb, type NativeIterator } from './native.js';
import { nextChunk } from './rocks-iterators.js';
import type { RocksKvEngine } from './rocks-kv-engine.js';

const FIRST_KEY = Buffer.from([0x00]);
/** Pairs a snapshot cursor returns per fetch, at most. */
const CHUNK = 1024;

export class RocksSnapshot implements KvSnapshot {
  private readonly fwd: NativeIterator;
  private readonly rev: NativeIterator;
  private released = false;
  /** Reads on the shared native iterators run one at a time. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly engine: RocksKvEngine) {
    this.fwd = engine.newSnapshotIterator(false);
    this.rev = engine.newSnapshotIterator(true);
  }

  private serial<T>(f: () => Promise<T>): Promise<T> {
    const run = this.tail.then(() => {
      if (this.released) throw new EngineError(EngineErrorCodes.CLOSED, 'snapshot was released');
      return f();
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  private next(it: NativeIterator): Promise<{ pairs: KvPair[]; finished: boolean }> {
    return this.engine.trackSnapshotRead(nextChunk(it));
  }

  private async getOne(k: Buffer): Promise<Uint8Array | undefined> {
    NativeDb.iteratorSeek(this.fwd, k);
    const { pairs } = await this.next(this.fwd);
    const p = pairs[0];
    return p !== undefined && Buffer.compare(p.key, k) === 0 ? p.value : undefined;
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    const k = checkKeyArg(key);
    return this.serial(() => this.getOne(k));
  }

  async multiGet(keys: readonly Uint8Array[]): Promise<Array<Uint8Array | undefined>> {
    const ks = checkKeys(keys);
    return this.serial(async () => {
      const out: Array<Uint8Array | undefined> = [];
      for (const k of ks) out.push(await this.getOne(k));
      return out;
    });
  }

  /**
   * Reads up to `max` pairs of scan `s` that come after `after` (exclusive; from the scan's
   * start when undefined). `done` is true when the scan has nothing more.
   */
  private async read(s: Scan, after: Buffer | undefined, max: number): Promise<{ pairs: KvPair[]; done: boolean }> {
    const it = s.reverse ? this.rev : this.fwd;
    const target = s.reverse ? (after ?? s.end ?? END_OF_KEYS) : (after ?? s.start ?? FIRST_KEY);
    // Reverse seeks land on the largest key ≤ target: the exclusive end must be skipped too.
    const skip = s.reverse ? (after ?? s.end) : after;
    NativeDb.iteratorSeek(it, target);
    const out: KvPair[] = [];
    for (let calls = 0; ; calls++) {
      const { pairs, finished } = await this.next(it);
      for (const p of pairs) {
        if (skip !== undefined && Buffer.compare(p.key, skip) === 0) continue;
        const outside = s.reverse ? s.start !== undefined && Buffer.compare(p.key, s.start) < 0 : s.end !== undefined && Buffer.compare(p.key, s.end) >= 0;
        if (outside) return { pairs: out, done: true };
        out.push(s.keysOnly ? { key: p.key, value: Buffer.alloc(0) } : p);
        if (out.length >= max) return { pairs: out, done: false };
      }
      if (finished) return { pairs: out, done: true };
      // The first call after a seek returns one pair; the second a full chunk. Stop after that
      // unless nothing usable came yet.
      if (calls >= 1 && out.length > 0) return { pairs: out, done: false };
    }
  }

  async scan(options: ScanOptions): Promise<KvPair[]> {
    const s = checkScan(options);
    return this.serial(async () => {
      const out: KvPair[] = [];
      let after: Buffer | undefined;
      while (out.length < s.limit) {
        const { pairs, done } = await this.read(s, after, Math.min(s.limit - out.length, CHUNK));
        for (const p of pairs) out.push(p);
        if (done || pairs.length === 0) break;
        after = pairs[pairs.length - 1]!.key as Buffer;
      }
      return out;
    });
  }

  iterator(options: ScanOptions): KvIterator {
    const s = checkScan(options);
    if (this.released) throw new EngineError(EngineErrorCodes.CLOSED, 'snapshot was released');
    let after: Buffer | undefined;
    let left = s.limit;
    let done = false;
    return new ChunkedIterator({
      fetch: () =>
        this.serial(async () => {
          if (done || left <= 0) return [];
          const r = await this.read(s, after, Math.min(left, CHUNK));
          done = r.done;
          left -= r.pairs.length;
          if (r.pairs.length > 0) after = r.pairs[r.pairs.length - 1]!.key as Buffer;
          else done = true;
          return r.pairs;
        }),
      release: () => Promise.resolve(),
    });
  }

  async release(): Promise<void> {
    if (this.released) return;
    await this.serial(() => Promise.resolve());
    this.released = true;
    await Promise.all([this.engine.endIterator(this.fwd), this.engine.endIterator(this.rev)]);
  }
}
