/**
 * Fixtures the conformance suite runs against: an open engine plus a way to reopen the same
 * storage (the persistence tests) and to throw it away. Any implementation of the traits can be
 * checked by writing one `OpenFixture` for it; the two below cover this package's engines.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryDisk } from '../memory/memory-disk.js';
import { openMemoryKvEngine, openMemoryRaftLogEngine } from '../memory/open.js';
import { openRocksKvEngine, openRocksRaftLogEngine } from '../rocks/open.js';
import type { KvEngine, RaftLogEngine } from '../traits/index.js';

/** An open engine under test, on storage that outlives it. */
export interface EngineFixture<E> {
  /** The engine as last opened (`reopen` replaces it). */
  readonly engine: E;
  /** Closes the current engine and opens the same storage again (a clean restart). */
  reopen(): Promise<E>;
  /** Closes the engine and removes its storage. Idempotent. */
  destroy(): Promise<void>;
}

/** Creates a fresh, empty engine for one test. */
export type OpenFixture<E> = () => Promise<EngineFixture<E>>;

interface Closable {
  close(): Promise<void>;
}

function fixture<E extends Closable>(first: E, open: () => Promise<E>, remove: () => void): EngineFixture<E> {
  let engine = first;
  let destroyed = false;
  return {
    get engine() {
      return engine;
    },
    async reopen() {
      await engine.close();
      engine = await open();
      return engine;
    },
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      await engine.close();
      remove();
    },
  };
}

/** A temporary directory for one fixture (removed by `destroy`). */
export function tempDir(prefix = 'mrkv-engine-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A memory kv engine on a fresh `MemoryDisk`; reopening keeps the disk (everything written). */
export const memoryKvFixture: OpenFixture<KvEngine> = () => {
  const disk = new MemoryDisk();
  return Promise.resolve(fixture<KvEngine>(openMemoryKvEngine(disk), () => Promise.resolve(openMemoryKvEngine(disk)), () => undefined));
};

/** A memory raft-log engine on a fresh `MemoryDisk`. */
export const memoryRaftLogFixture: OpenFixture<RaftLogEngine> = async () => {
  const disk = new MemoryDisk();
  return fixture<RaftLogEngine>(await openMemoryRaftLogEngine(disk), () => openMemoryRaftLogEngine(disk), () => undefined);
};

/** A RocksDB kv engine in a temporary directory. */
export const rocksKvFixture: OpenFixture<KvEngine> = async () => {
  const path = tempDir();
  const open = () => openRocksKvEngine({ path });
  return fixture<KvEngine>(await open(), open, () => rmSync(path, { recursive: true, force: true }));
};

/** A RocksDB raft-log engine in a temporary directory. */
export const rocksRaftLogFixture: OpenFixture<RaftLogEngine> = async () => {
  const path = tempDir();
  const open = () => openRocksRaftLogEngine({ path });
  return fixture<RaftLogEngine>(await open(), open, () => rmSync(path, { recursive: true, force: true }));
};
