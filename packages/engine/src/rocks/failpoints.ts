/**
 * Disk failpoints of the RocksDB engines (TiKV `fail_point!`s at its engine's persistence points),
 * for tests that need a disk to fail under a real store process:
 *
 * - `diskFull`: every write and sync fails before anything reaches RocksDB, with the error a real
 *   ENOSPC gives (`KV:Engine:NoSpace`, made by the same `rocksError` from the same message text).
 *   Nothing of the failed write is applied. Switching it off lets writes through again.
 * - `slowFsyncMs`: a synced write (or `sync()`) reaches the disk as usual, then its completion is
 *   delayed that long, as a slow fsync would. The native write already ran on libuv's pool, so the
 *   delay is a timer: the event loop keeps running, and only writes queued behind it wait (the
 *   engine's group-commit queue is serial, as RocksDB's write thread is).
 * - `crashBeforeSync` / `crashAfterSync` (n ≥ 1): the n-th synced write from when it was set kills
 *   the process (SIGKILL, like kill -9) before the write is issued (so it is not durable) or after
 *   it is durable and before anyone hears of it (durable, never acknowledged).
 *
 * - `diskFree` (bytes): not an engine fault — the free space the store's disk-space watcher reports
 *   instead of the file system's, so a test makes a store "low on space" (the DiskFull protection
 *   path, before any write fails) without filling a disk. Writes are unaffected.
 *
 * One `DiskFailpoints` is shared by the engines of a store (they share a disk) and can be changed
 * at any time (`set`, `clear`); a write checks the one boolean `armed` when none is set.
 */
import { rocksError } from './errors.js';

/** The failpoint settings (all off when absent). Plain and cloneable: they cross threads. */
export interface DiskFailpointSettings {
  /** Writes and syncs fail with `KV:Engine:NoSpace`. */
  readonly diskFull?: boolean | undefined;
  /** Extra milliseconds before each synced write completes (0: off). */
  readonly slowFsyncMs?: number | undefined;
  /** The n-th synced write kills the process before it is issued (0 or absent: off). */
  readonly crashBeforeSync?: number | undefined;
  /** The n-th synced write kills the process after it is durable, before it resolves (0 or absent: off). */
  readonly crashAfterSync?: number | undefined;
  /** Free bytes the disk-space watcher reports instead of the file system's (absent: off). */
  readonly diskFree?: number | undefined;
}

/** Where a crash failpoint fired. */
export type CrashPoint = 'before-sync' | 'after-sync';

/** What a crash failpoint does (default: SIGKILL of this process). Tests may observe it instead. */
export type CrashAction = (point: CrashPoint) => void;

const killSelf: CrashAction = () => {
  process.kill(process.pid, 'SIGKILL');
};

export class DiskFailpoints {
  /** True when any failpoint is set; the only check a write makes otherwise. */
  armed = false;
  private diskFull = false;
  private slowFsyncMs = 0;
  /** Synced writes left before the crash (0: off). */
  private crashBeforeSync = 0;
  private crashAfterSync = 0;
  private diskFreeBytes: number | undefined;

  constructor(
    settings: DiskFailpointSettings = {},
    private readonly crash: CrashAction = killSelf,
  ) {
    this.set(settings);
  }

  /** Replaces every setting (absent ones are switched off). */
  set(s: DiskFailpointSettings): void {
    this.diskFull = s.diskFull === true;
    this.slowFsyncMs = Math.max(0, s.slowFsyncMs ?? 0);
    this.crashBeforeSync = Math.max(0, s.crashBeforeSync ?? 0);
    this.crashAfterSync = Math.max(0, s.crashAfterSync ?? 0);
    this.diskFreeBytes = s.diskFree === undefined ? undefined : Math.max(0, s.diskFree);
    // `diskFree` changes no write, so it does not arm the engines' checks.
    this.armed = this.diskFull || this.slowFsyncMs > 0 || this.crashBeforeSync > 0 || this.crashAfterSync > 0;
  }

  /** Switches everything off. */
  clear(): void {
    this.set({});
  }

  /** The current settings (what is on). */
  settings(): DiskFailpointSettings {
    return {
      ...(this.diskFull ? { diskFull: true } : {}),
      ...(this.slowFsyncMs > 0 ? { slowFsyncMs: this.slowFsyncMs } : {}),
      ...(this.crashBeforeSync > 0 ? { crashBeforeSync: this.crashBeforeSync } : {}),
      ...(this.crashAfterSync > 0 ? { crashAfterSync: this.crashAfterSync } : {}),
      ...(this.diskFreeBytes === undefined ? {} : { diskFree: this.diskFreeBytes }),
    };
  }

  /** The free bytes the disk-space watcher should report, when the `diskFree` failpoint is set. */
  diskFree(): number | undefined {
    return this.diskFreeBytes;
  }

  /**
   * Called by an engine before it issues a write (only when `armed`). Throws the engine's
   * NoSpace error for `diskFull`; runs a due `crashBeforeSync`.
   */
  beforeWrite(dbPath: string, sync: boolean): void {
    if (this.diskFull) {
      throw rocksError(new Error('IO error: No space left on device (failpoint disk-full)'), sync ? 'write (sync)' : 'write', dbPath, false);
    }
    if (sync && this.crashBeforeSync > 0 && --this.crashBeforeSync === 0) {
      this.refreshArmed();
      this.crash('before-sync');
    }
  }

  /** Called by an engine after a synced write is durable, before it resolves (only when `armed`). */
  async afterSync(): Promise<void> {
    if (this.crashAfterSync > 0 && --this.crashAfterSync === 0) {
      this.refreshArmed();
      this.crash('after-sync');
    }
    const ms = this.slowFsyncMs;
    if (ms > 0) await new Promise<void>((resolve) => setTimeout(resolve, ms));
  }

  private refreshArmed(): void {
    this.set(this.settings());
  }
}
