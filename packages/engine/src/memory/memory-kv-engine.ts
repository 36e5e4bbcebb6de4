/**
 * The in-memory `KvEngine`, for tests and the deterministic simulator. Same contract as the
 * RocksDB engine (one conformance suite runs against both); its storage is a `MemoryDisk`, which
 * survives the engine and models crashes that lose unsynced writes.
 *
 * Every call completes synchronously and reports through an already-settled promise, so under a
 * deterministic scheduler the engine adds no nondeterminism: no timers, no threads.
 */
import type { EngineKind } from '../data-dir.js';
import { ChunkedIterator } from '../chunked-iterator.js';
import { EngineError, EngineErrorCodes } from '../errors.js';
import { checkKeyArg, checkKeys, checkRange, checkScan, type Scan } from '../scan-options.js';
import type { KeyRange, KvEngine, KvIterator, KvPair, KvSnapshot, RangeStats, ScanOptions, WriteBatch, WriteOptions } from '../traits/index.js';
import { OpWriteBatch, opsOf } from '../write-batch.js';
import { MemoryDisk } from './memory-disk.js';
import { TreeCursor, treeGet, treeRangeStats, type Root } from './sorted-tree.js';

const CHUNK = 256;

function copyOut(b: Buffer): Buffer {
  return Buffer.from(b);
}

/** Reads against one fixed root (the engine's current root, a snapshot's, an iterator's). */
function readScan(root: Root, s: Scan): KvPair[] {
  const out: KvPair[] = [];
  if (s.limit === 0) return out;
  const cur = new TreeCursor(root, s.start, s.end, s.reverse);
  for (let n = cur.next(); n !== undefined; n = cur.next()) {
    out.push({ key: copyOut(n.key), value: s.keysOnly ? Buffer.alloc(0) : copyOut(n.value) });
    if (out.length >= s.limit) break;
  }
  return out;
}

function iteratorOver(root: Root, s: Scan, alive: () => void): KvIterator {
  const cur = new TreeCursor(root, s.start, s.end, s.reverse);
  let left = s.limit;
  return new ChunkedIterator({
    fetch: () => {
      alive();
      const out: KvPair[] = [];
      while (left > 0 && out.length < CHUNK) {
        const n = cur.next();
        if (n === undefined) {
          left = 0;
          break;
        }
        out.push({ key: copyOut(n.key), value: s.keysOnly ? Buffer.alloc(0) : copyOut(n.value) });
        left--;
      }
      return Promise.resolve(out);
    },
    release: () => Promise.resolve(),
  });
}

/** Runs `f` and reports its result or error through a settled promise. */
function settle<T>(f: () => T): Promise<T> {
  try {
    return Promise.resolve(f());
  } catch (e) {
    return Promise.reject(e);
  }
}

export interface MemoryKvEngineOptions {
  /** Which engine kind the disk holds (default 'kv'); a raft-log engine opens its disk as 'raft'. */
  readonly kind?: EngineKind;
}

export class MemoryKvEngine implements KvEngine {
  readonly path = undefined;
  private closed = false;

  private constructor(readonly disk: MemoryDisk) {}

  /** Opens an engine on `disk` (a fresh disk if none is given). */
  static open(disk: MemoryDisk = new MemoryDisk(), options: MemoryKvEngineOptions = {}): MemoryKvEngine {
    const engine = new MemoryKvEngine(disk);
    disk.attach(engine, options.kind ?? 'kv');
    return engine;
  }

  private alive(): void {
    if (this.closed || !this.disk.isOwner(this)) {
      throw new EngineError(EngineErrorCodes.CLOSED, this.closed ? 'memory engine is closed' : 'memory engine was lost in a simulated crash');
    }
  }

  get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return settle(() => {
      const k = checkKeyArg(key);
      this.alive();
      const v = treeGet(this.disk.root, k);
      return v === undefined ? undefined : copyOut(v);
    });
  }

  multiGet(keys: readonly Uint8Array[]): Promise<Array<Uint8Array | undefined>> {
    return settle(() => {
      const ks = checkKeys(keys);
      this.alive();
      const root = this.disk.root;
      return ks.map((k) => {
        const v = treeGet(root, k);
        return v === undefined ? undefined : copyOut(v);
      });
    });
  }

  scan(options: ScanOptions): Promise<KvPair[]> {
    return settle(() => {
      const s = checkScan(options);
      this.alive();
      return readScan(this.disk.root, s);
    });
  }

  iterator(options: ScanOptions): KvIterator {
    const s = checkScan(options);
    this.alive();
    return iteratorOver(this.disk.root, s, () => this.alive());
  }

  newWriteBatch(): WriteBatch {
    return new OpWriteBatch();
  }

  write(batch: WriteBatch, options: WriteOptions = {}): Promise<void> {
    return settle(() => {
      const b = opsOf(batch);
      this.alive();
      if (b.isEmpty() && !options.sync) return;
      this.disk.apply(b.ops, b.dataSize, options.sync === true);
    });
  }

  snapshot(): Promise<KvSnapshot> {
    return settle(() => {
      this.alive();
      return new MemorySnapshot(this.disk.root, () => this.alive());
    });
  }

  approximateStats(range: KeyRange): Promise<RangeStats> {
    return settle(() => {
      const { start, end } = checkRange(range);
      this.alive();
      const s = treeRangeStats(this.disk.root, start, end);
      return { bytes: s.bytes, keys: s.count, exact: true };
    });
  }

  sync(): Promise<void> {
    return settle(() => {
      this.alive();
      this.disk.sync();
    });
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.disk.detach(this);
    }
    return Promise.resolve();
  }
}

/** A snapshot is a root pointer: the tree is persistent, so nothing is ever copied. */
class MemorySnapshot implements KvSnapshot {
  private released = false;

  constructor(
    private readonly root: Root,
    private readonly engineAlive: () => void,
  ) {}

  private alive(): void {
    if (this.released) throw new EngineError(EngineErrorCodes.CLOSED, 'snapshot was released');
    this.engineAlive();
  }

  get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return settle(() => {
      const k = checkKeyArg(key);
      this.alive();
      const v = treeGet(this.root, k);
      return v === undefined ? undefined : copyOut(v);
    });
  }

  multiGet(keys: readonly Uint8Array[]): Promise<Array<Uint8Array | undefined>> {
    return settle(() => {
      const ks = checkKeys(keys);
      this.alive();
      return ks.map((k) => {
        const v = treeGet(this.root, k);
        return v === undefined ? undefined : copyOut(v);
      });
    });
  }

  scan(options: ScanOptions): Promise<KvPair[]> {
    return settle(() => {
      const s = checkScan(options);
      this.alive();
      return readScan(this.root, s);
    });
  }

  iterator(options: ScanOptions): KvIterator {
    const s = checkScan(options);
    this.alive();
    return iteratorOver(this.root, s, () => this.alive());
  }

  release(): Promise<void> {
    this.released = true;
    return Promise.resolve();
  }
}
