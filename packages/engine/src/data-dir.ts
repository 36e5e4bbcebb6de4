/**
 * Hygiene of an engine directory: a format marker, an exclusive lock, crash leftovers.
 *
 * ```
 * <dir>/
 *   FORMAT      {"format":"mrkv-engine","version":1,"kind":"raft","clusterId":…,"storeId":…}
 *               written atomically (temp file, fsync, rename, fsync of the directory)
 *   mrkv.lock   "<pid> <start time>" of the process that has the engine open
 *   db/         the RocksDB database
 *   *.tmp       leftovers of an interrupted atomic write; removed at open
 * ```
 *
 * The lock. A second open of the directory — from another process or from this one — is refused
 * with `KV:Engine:DataDirLocked`. The lock file is created exclusively and holds the owner's pid
 * and its start time (from /proc on Linux), so a lock left by a killed process (kill -9) is
 * recognised as stale — its pid is gone, or now names a process that started later — and taken
 * over. Underneath, RocksDB's own `db/LOCK` (an fcntl lock the kernel drops when a process dies)
 * is the last word: if two processes ever both took over a stale lock file, the second RocksDB
 * open still fails, and is reported as the same `DataDirLocked`.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { noopLogger, type Logger } from '@mrkv/common';
import { EngineError, EngineErrorCodes } from './errors.js';

export const ENGINE_FORMAT = 'mrkv-engine';
/** The on-disk format this build writes and reads (key layout, record versions). */
export const ENGINE_FORMAT_VERSION = 1;
export const FORMAT_FILE = 'FORMAT';
export const LOCK_FILE = 'mrkv.lock';
export const DB_DIR = 'db';

/** Which engine a directory holds. */
export type EngineKind = 'kv' | 'raft';

/** The contents of FORMAT. Ids are absent until the store knows them (before bootstrap). */
export interface FormatMarker {
  readonly format: typeof ENGINE_FORMAT;
  readonly version: number;
  readonly kind: EngineKind;
  readonly clusterId?: number | undefined;
  readonly storeId?: number | undefined;
}

export interface EngineDirOptions {
  readonly path: string;
  readonly kind: EngineKind;
  /** Refuse a directory of another cluster; record the id in a directory that has none yet. */
  readonly clusterId?: number | undefined;
  /** Refuse a directory of another store; record the id in a directory that has none yet. */
  readonly storeId?: number | undefined;
  /**
   * Open without writing anything: no lock is taken (but a live owner is refused), nothing is
   * created or cleaned, and the marker must exist.
   */
  readonly readOnly?: boolean | undefined;
  readonly logger?: Logger | undefined;
}

/** Lock files this process holds (a second open in the same process is refused too). */
const heldLocks = new Set<string>();

/** An engine directory, checked and (unless read-only) locked. */
export class EngineDir {
  private released = false;

  private constructor(
    readonly path: string,
    readonly marker: FormatMarker,
    readonly readOnly: boolean,
    private readonly lockPath: string | undefined,
  ) {}

  /** The RocksDB directory inside. */
  get dbPath(): string {
    return join(this.path, DB_DIR);
  }

  static open(options: EngineDirOptions): EngineDir {
    const path = resolve(options.path);
    const logger = options.logger ?? noopLogger;
    if (options.readOnly) {
      if (!existsSync(path)) throw new EngineError(EngineErrorCodes.NOT_ENGINE_DIR, `engine directory ${path} does not exist`, { details: { path } });
      const holder = liveLockHolder(join(path, LOCK_FILE));
      if (holder !== undefined) throw lockedError(path, holder);
      const marker = readMarker(path);
      if (marker === undefined) throw new EngineError(EngineErrorCodes.NOT_ENGINE_DIR, `${path} has no ${FORMAT_FILE} marker: not an mrkv engine directory`, { details: { path } });
      checkMarker(path, marker, options);
      return new EngineDir(path, marker, true, undefined);
    }
    ensureDir(path);
    const lockPath = join(path, LOCK_FILE);
    takeLock(path, lockPath, logger);
    try {
      removeTempFiles(path, logger);
      let marker = readMarker(path);
      if (marker === undefined) {
        const foreign = readdirSync(path).filter((n) => n !== LOCK_FILE);
        if (foreign.length > 0) {
          throw new EngineError(EngineErrorCodes.NOT_ENGINE_DIR, `${path} holds ${foreign.slice(0, 5).join(', ')} but no ${FORMAT_FILE} marker: not an mrkv engine directory`, { details: { path, files: foreign.slice(0, 20) } });
        }
        marker = { format: ENGINE_FORMAT, version: ENGINE_FORMAT_VERSION, kind: options.kind, clusterId: options.clusterId, storeId: options.storeId };
        writeFileAtomic(join(path, FORMAT_FILE), JSON.stringify(marker) + '\n');
        logger.info({ path, kind: options.kind }, 'created engine directory');
      } else {
        checkMarker(path, marker, options);
        const missingIds = (options.clusterId !== undefined && marker.clusterId === undefined) || (options.storeId !== undefined && marker.storeId === undefined);
        if (missingIds) {
          marker = { ...marker, clusterId: marker.clusterId ?? options.clusterId, storeId: marker.storeId ?? options.storeId };
          writeFileAtomic(join(path, FORMAT_FILE), JSON.stringify(marker) + '\n');
        }
      }
      ensureDir(join(path, DB_DIR));
      return new EngineDir(path, marker, false, lockPath);
    } catch (e) {
      releaseLock(lockPath);
      throw e;
    }
  }

  /** Records cluster and store ids learned after open (bootstrap); refuses changing them. */
  recordIdent(ident: { clusterId: number; storeId: number }): EngineDir {
    if (this.readOnly) throw new EngineError(EngineErrorCodes.READ_ONLY, `engine directory ${this.path} is open read-only`);
    checkMarker(this.path, this.marker, { ...ident, kind: this.marker.kind });
    if (this.marker.clusterId === ident.clusterId && this.marker.storeId === ident.storeId) return this;
    const marker = { ...this.marker, ...ident };
    writeFileAtomic(join(this.path, FORMAT_FILE), JSON.stringify(marker) + '\n');
    const next = new EngineDir(this.path, marker, false, this.lockPath);
    this.released = true; // ownership of the lock moves to `next`
    return next;
  }

  /** Removes the lock (if ours). Idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    if (this.lockPath !== undefined) releaseLock(this.lockPath);
  }
}

function lockedError(path: string, holder: number): EngineError {
  return new EngineError(EngineErrorCodes.LOCKED, `engine directory ${path} is in use by process ${holder}${holder === process.pid ? ' (this process)' : ''}`, {
    details: { path, pid: holder },
  });
}

/** The error to report when RocksDB's own lock refuses an open (see the module comment). */
export function rocksLockedError(path: string, cause: unknown): EngineError {
  return new EngineError(EngineErrorCodes.LOCKED, `engine directory ${path} is locked by another RocksDB handle: ${(cause as Error).message}`, { cause, details: { path } });
}

function checkMarker(path: string, m: FormatMarker, o: { kind: EngineKind; clusterId?: number | undefined; storeId?: number | undefined }): void {
  if (m.version !== ENGINE_FORMAT_VERSION) {
    throw new EngineError(EngineErrorCodes.UNSUPPORTED_FORMAT, `engine directory ${path} has format version ${String(m.version)}; this build reads version ${ENGINE_FORMAT_VERSION}`, {
      details: { path, version: m.version, supported: ENGINE_FORMAT_VERSION },
    });
  }
  if (m.kind !== o.kind) {
    throw new EngineError(EngineErrorCodes.KIND_MISMATCH, `engine directory ${path} holds a ${m.kind} engine, not a ${o.kind} engine`, { details: { path, kind: m.kind, wanted: o.kind } });
  }
  for (const field of ['clusterId', 'storeId'] as const) {
    const have = m[field];
    const want = o[field];
    if (have !== undefined && want !== undefined && have !== want) {
      throw new EngineError(EngineErrorCodes.IDENT_MISMATCH, `engine directory ${path} belongs to ${field} ${have}, not ${want}`, { details: { path, field, have, want } });
    }
  }
}

function readMarker(path: string): FormatMarker | undefined {
  const file = join(path, FORMAT_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError(`cannot read ${file}`, file, e);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (cause) {
    throw new EngineError(EngineErrorCodes.NOT_ENGINE_DIR, `${file} is not valid JSON`, { cause, details: { path: file } });
  }
  const o = v as Partial<Record<keyof FormatMarker, unknown>>;
  const idOk = (x: unknown) => x === undefined || (typeof x === 'number' && Number.isSafeInteger(x) && x > 0);
  if (typeof v !== 'object' || v === null || o.format !== ENGINE_FORMAT || typeof o.version !== 'number' || (o.kind !== 'kv' && o.kind !== 'raft') || !idOk(o.clusterId) || !idOk(o.storeId)) {
    throw new EngineError(EngineErrorCodes.NOT_ENGINE_DIR, `${file} is not an mrkv engine format marker`, { details: { path: file } });
  }
  return { format: ENGINE_FORMAT, version: o.version, kind: o.kind, clusterId: o.clusterId as number | undefined, storeId: o.storeId as number | undefined };
}

function ioError(message: string, path: string, cause: unknown): EngineError {
  return new EngineError(EngineErrorCodes.IO, `${message}: ${(cause as Error).message}`, { cause, details: { path } });
}

/** Creates `path` (and parents); fsyncs the parent of every directory it created. */
export function ensureDir(path: string): void {
  if (existsSync(path)) return;
  ensureDir(dirname(path));
  try {
    mkdirSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError(`cannot create ${path}`, path, e);
  }
  fsyncDir(dirname(path));
}

/** fsync of a directory, so a file created or renamed in it survives a power loss. */
export function fsyncDir(path: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    fsyncSync(fd);
  } catch (e) {
    throw ioError(`cannot fsync directory ${path}`, path, e);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Replaces `file` with `data` atomically and durably: temp file, fsync, rename, fsync of the directory. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw ioError(`cannot write ${file}`, file, e);
  }
  fsyncDir(dirname(file));
}

function removeTempFiles(path: string, logger: Logger): void {
  for (const name of readdirSync(path)) {
    if (!name.endsWith('.tmp')) continue;
    rmSync(join(path, name), { force: true, recursive: true });
    logger.warn({ path, file: name }, 'removed a leftover temporary file');
  }
}

/** Start time of a process (clock ticks since boot, /proc/<pid>/stat field 22), if known. */
function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: fields resume after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19];
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid that holds `lockFile` and is still running, or undefined if the lock is free or stale. */
function liveLockHolder(lockFile: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(lockFile, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError(`cannot read ${lockFile}`, lockFile, e);
  }
  const [pidText, started] = text.trim().split(/\s+/);
  const pid = Number(pidText);
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  if (pid === process.pid) return heldLocks.has(lockFile) ? pid : undefined;
  if (!isAlive(pid)) return undefined;
  if (started !== undefined && started !== '-') {
    const now = processStartTime(pid);
    if (now !== undefined && now !== started) return undefined; // the pid was reused
  }
  return pid;
}

function takeLock(path: string, lockFile: string, logger: Logger): void {
  if (heldLocks.has(lockFile)) throw lockedError(path, process.pid);
  const content = `${process.pid} ${processStartTime(process.pid) ?? '-'}\n`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(lockFile, 'wx');
      try {
        writeSync(fd, content);
      } finally {
        closeSync(fd);
      }
      heldLocks.add(lockFile);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError(`cannot create ${lockFile}`, lockFile, e);
    }
    const holder = liveLockHolder(lockFile);
    if (holder !== undefined) throw lockedError(path, holder);
    logger.warn({ path, lockFile }, 'taking over a stale engine lock (its process is gone)');
    rmSync(lockFile, { force: true });
  }
  throw new EngineError(EngineErrorCodes.LOCKED, `could not take ${lockFile}: another process keeps creating it`, { details: { path } });
}

function releaseLock(lockFile: string): void {
  if (!heldLocks.delete(lockFile)) return;
  try {
    const [pidText] = readFileSync(lockFile, 'utf8').trim().split(/\s+/);
    if (Number(pidText) === process.pid) rmSync(lockFile, { force: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(`cannot release ${lockFile}`, lockFile, e);
  }
}
