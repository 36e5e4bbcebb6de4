/**
 * The store's data directory: where each kind of state lives, and the lock that keeps two store
 * processes off the same directory.
 *
 * ```
 * <data-dir>/
 *   LOCK          pid of the process using the directory (created exclusively, removed on exit)
 *   store-ident   raft_serverpb.StoreIdent {cluster_id, store_id, api_version}, written once,
 *                 atomically (temp file, fsync, rename, fsync of the directory)
 *   kv/           the kv engine (RocksDB): user data under `z`, region and apply states
 *   raft/<n>/     the raft-log engine of raft worker n (one RocksDB per worker)
 *   snap/         snapshot files being generated, sent or received
 * ```
 *
 * A LOCK left by a process that no longer exists (kill -9) is taken over; a LOCK held by a live
 * process fails with `KV:Server:DataDirLocked`. RocksDB keeps its own LOCK files inside the engine
 * directories as a second line of defence.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from '@mrkv/common';
import { StoreError, StoreErrorCodes } from '../errors.js';

/** Paths inside a data directory. */
export interface DataDirLayout {
  readonly root: string;
  readonly lockFile: string;
  readonly storeIdent: string;
  readonly kvDir: string;
  /** Parent of the per-worker raft-log engine directories. */
  readonly raftRoot: string;
  readonly snapDir: string;
}

export function dataDirLayout(dir: string): DataDirLayout {
  const root = resolve(dir);
  return {
    root,
    lockFile: join(root, 'LOCK'),
    storeIdent: join(root, 'store-ident'),
    kvDir: join(root, 'kv'),
    raftRoot: join(root, 'raft'),
    snapDir: join(root, 'snap'),
  };
}

/** The raft-log engine directory of raft worker `worker`. */
export function raftEngineDir(layout: DataDirLayout, worker: number): string {
  return join(layout.raftRoot, String(worker));
}

/** An open, locked data directory. */
export class DataDir {
  private released = false;

  private constructor(readonly layout: DataDirLayout) {}

  /** Creates the layout if needed and takes the lock. */
  static open(dir: string, logger: Logger): DataDir {
    const layout = dataDirLayout(dir);
    try {
      for (const d of [layout.root, layout.kvDir, layout.raftRoot, layout.snapDir]) mkdirSync(d, { recursive: true });
    } catch (cause) {
      throw new StoreError(StoreErrorCodes.DATA_DIR_INCONSISTENT, `cannot create data directory ${layout.root}: ${(cause as Error).message}`, { cause });
    }
    takeLock(layout.lockFile, logger);
    return new DataDir(layout);
  }

  /** True if an engine directory already holds files (a store ident must then exist too). */
  hasEngineData(): boolean {
    const nonEmpty = (d: string) => existsSync(d) && readdirSync(d).length > 0;
    return nonEmpty(this.layout.kvDir) || nonEmpty(this.layout.raftRoot);
  }

  /** Removes the lock. Idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    if (readLockPid(this.layout.lockFile) === process.pid) rmSync(this.layout.lockFile, { force: true });
  }
}

function takeLock(lockFile: string, logger: Logger): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockFile, 'wx');
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new StoreError(StoreErrorCodes.DATA_DIR_INCONSISTENT, `cannot create ${lockFile}: ${(e as Error).message}`, { cause: e });
      }
    }
    const holder = readLockPid(lockFile);
    if (holder !== undefined && holder !== process.pid && isAlive(holder)) {
      throw new StoreError(StoreErrorCodes.DATA_DIR_LOCKED, `data directory is in use by process ${holder} (${lockFile})`, {
        details: { pid: holder, lockFile },
      });
    }
    logger.warn({ lockFile, stalePid: holder }, 'taking over a stale data directory lock');
    rmSync(lockFile, { force: true });
  }
  throw new StoreError(StoreErrorCodes.DATA_DIR_LOCKED, `could not take ${lockFile}: another process keeps creating it`);
}

function readLockPid(lockFile: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(lockFile, 'utf8').trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
