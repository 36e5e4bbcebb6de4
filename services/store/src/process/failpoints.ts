/**
 * Fault injection for tests (TiKV's `fail_point!`s, switched by env and at runtime):
 *
 * - `MRKV_FAILPOINTS`: `name[=value]` items separated by `;`, read once at start-up:
 *   - `raftstore-thread-crash-on-put=<key hex>`: a RawPut of that key crashes the raftstore
 *     thread (`raftstore.thread = worker`);
 *   - `raftstore-thread-hang-on-put=<key hex>`: a RawPut of that key makes the raftstore thread
 *     spin forever (`raftstore.thread = worker`; the watchdog, `raftstore.thread-hung-ms`, ends it);
 *   - `disk-full`: every write and sync of both engines fails with `KV:Engine:NoSpace`, the error
 *     a real ENOSPC gives (`@mrkv/engine` `DiskFailpoints`);
 *   - `slow-fsync=<ms>`: every synced write of both engines completes that much later;
 *   - `disk-free=<bytes>`: the store's disk-space watcher (disk-space.ts) reports that much free
 *     space instead of the file system's: below `storage.reserve-space` the store refuses client
 *     writes with DiskFull (the protection path), while its engines keep writing normally;
 *   - `crash-before-sync[=<n>]` / `crash-after-sync[=<n>]`: the n-th synced write (default 1)
 *     SIGKILLs the process before it is issued / after it is durable and before it is answered.
 *   An unknown or malformed item is a start-up error naming it, so a typo never silently
 *   disables a test's fault.
 * - `MRKV_FAILPOINTS_WATCH=1`: the thread owning the engines also polls `<data-dir>/failpoints`
 *   (every 100 ms). While that file exists, its content (same format, disk
 *   failpoints only) replaces the disk failpoints of `MRKV_FAILPOINTS`; when it is removed the
 *   env's settings apply again. A malformed file is logged and ignored (the settings stay).
 *   A test turns disk-full on and off in a running store by writing and removing the file.
 *
 * Production sets neither: the engines get no `DiskFailpoints` at all and check nothing.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CommonCodes, MrkvError, type Logger } from '@mrkv/common';
import { DiskFailpoints, type DiskFailpointSettings } from '@mrkv/engine';
import type { DataDirLayout } from './data-dir.js';
import type { RaftstoreThreadFailpoints } from './thread-protocol.js';

/** The file under the data directory that switches disk failpoints at runtime. */
export const FAILPOINTS_FILE = 'failpoints';

/** How often the failpoints file is polled (ms). */
export const FAILPOINTS_POLL_MS = 100;

type MutableDisk = { -readonly [K in keyof DiskFailpointSettings]: DiskFailpointSettings[K] };

/**
 * Parses a `MRKV_FAILPOINTS` spec (format above). Undefined for an empty spec; throws
 * `InvalidConfig` naming the first unknown or malformed item.
 */
export function parseFailpoints(spec: string | undefined): RaftstoreThreadFailpoints | undefined {
  if (spec === undefined || spec.trim() === '') return undefined;
  let crashOnPutKey: string | undefined;
  let hangOnPutKey: string | undefined;
  const disk: MutableDisk = {};
  for (const item of spec.split(';').map((s) => s.trim()).filter((s) => s !== '')) {
    const eq = item.indexOf('=');
    const name = eq < 0 ? item : item.slice(0, eq);
    const value = eq < 0 ? undefined : item.slice(eq + 1);
    const count = value === undefined ? 1 : /^[1-9][0-9]{0,8}$/.test(value) ? Number(value) : undefined;
    if (name === 'raftstore-thread-crash-on-put' && value !== undefined && /^([0-9a-f]{2})+$/i.test(value)) crashOnPutKey = value.toLowerCase();
    else if (name === 'raftstore-thread-hang-on-put' && value !== undefined && /^([0-9a-f]{2})+$/i.test(value)) hangOnPutKey = value.toLowerCase();
    else if (name === 'disk-full' && value === undefined) disk.diskFull = true;
    else if (name === 'slow-fsync' && value !== undefined && /^[0-9]{1,7}$/.test(value)) disk.slowFsyncMs = Number(value);
    else if (name === 'disk-free' && value !== undefined && /^[0-9]{1,15}$/.test(value)) disk.diskFree = Number(value);
    else if (name === 'crash-before-sync' && count !== undefined) disk.crashBeforeSync = count;
    else if (name === 'crash-after-sync' && count !== undefined) disk.crashAfterSync = count;
    else throw new MrkvError(CommonCodes.INVALID_CONFIG, `MRKV_FAILPOINTS: unknown or malformed failpoint ${JSON.stringify(item)}`);
  }
  return {
    ...(crashOnPutKey === undefined ? {} : { crashOnPutKey }),
    ...(hangOnPutKey === undefined ? {} : { hangOnPutKey }),
    ...(Object.keys(disk).length === 0 ? {} : { disk }),
  };
}

/**
 * The failpoints of this process from its environment: `MRKV_FAILPOINTS`, and with
 * `MRKV_FAILPOINTS_WATCH=1` the runtime file of `layout`. Undefined when neither is set.
 */
export function failpointsFromEnv(env: NodeJS.ProcessEnv, layout: DataDirLayout): RaftstoreThreadFailpoints | undefined {
  const parsed = parseFailpoints(env.MRKV_FAILPOINTS);
  if (env.MRKV_FAILPOINTS_WATCH !== '1') return parsed;
  return { ...parsed, watchFile: join(layout.root, FAILPOINTS_FILE) };
}

/** Disk failpoints handed to the engines, and the watcher to stop when they close. */
export interface OpenedDiskFailpoints {
  /** Undefined when no disk failpoint is configured and no file is watched (production). */
  readonly failpoints: DiskFailpoints | undefined;
  /** Stops watching the file (idempotent). */
  stop(): void;
}

/**
 * Builds the engines' `DiskFailpoints` from `fp` and, when `fp.watchFile` is set, applies that
 * file now and on every change. Call on the thread that owns the engines.
 */
export function openDiskFailpoints(fp: RaftstoreThreadFailpoints | undefined, logger: Logger): OpenedDiskFailpoints {
  if (fp === undefined || (fp.disk === undefined && fp.watchFile === undefined)) return { failpoints: undefined, stop: () => {} };
  const failpoints = new DiskFailpoints(fp.disk ?? {});
  if (fp.disk !== undefined) logger.warn({ failpoints: fp.disk }, 'disk failpoints on');
  const file = fp.watchFile;
  if (file === undefined) return { failpoints, stop: () => {} };
  // Polled with statSync against the stat taken when the file was last read: fs.watchFile takes
  // its baseline asynchronously, so a change made right after opening could become the baseline
  // and never be applied.
  let seen = '';
  const signature = (): string => {
    try {
      const st = statSync(file);
      return `${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch {
      return 'missing';
    }
  };
  const apply = (): void => {
    seen = signature();
    const next = readFailpointsFile(file, fp.disk ?? {}, logger);
    if (next === undefined || JSON.stringify(next) === JSON.stringify(failpoints.settings())) return;
    failpoints.set(next);
    logger.warn({ failpoints: next, file }, 'disk failpoints changed');
  };
  apply();
  const timer = setInterval(() => {
    if (signature() !== seen) apply();
  }, FAILPOINTS_POLL_MS);
  timer.unref();
  let stopped = false;
  return {
    failpoints,
    stop: () => {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
    },
  };
}

/** The disk settings the file asks for (`fallback` when it is missing); undefined when unusable. */
function readFailpointsFile(file: string, fallback: DiskFailpointSettings, logger: Logger): DiskFailpointSettings | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return fallback;
    logger.error({ err, file }, 'failpoints file unreadable; failpoints unchanged');
    return undefined;
  }
  try {
    const parsed = parseFailpoints(text.replace(/\n/g, ';'));
    if (parsed?.crashOnPutKey !== undefined) throw new MrkvError(CommonCodes.INVALID_CONFIG, 'only disk failpoints can be switched at runtime');
    return parsed?.disk ?? {};
  } catch (err) {
    logger.error({ err, file }, 'failpoints file malformed; failpoints unchanged');
    return undefined;
  }
}
