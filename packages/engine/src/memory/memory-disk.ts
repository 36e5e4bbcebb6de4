/**
 * The "disk" of the memory engine: what survives a simulated crash. It models a machine that
 * loses power, the failure RocksDB's `sync` guards against:
 *
 * - every write lands in the page cache at once (reads see it);
 * - a synced write (or `sync()`) makes it, and everything before it, durable;
 * - `crash()` keeps the durable state plus, optionally, a prefix of the unsynced writes (a WAL is
 *   written in order, so a crash can cut it anywhere but cannot reorder it), and kills the open
 *   engine: its calls fail with `KV:Engine:Closed`.
 *
 * Faults for the simulator: `setWriteFault` can fail any write with a typed error (e.g. ENOSPC
 * as `KV:Engine:NoSpace`); a failed write changes nothing.
 *
 * Everything here is synchronous and deterministic: no timers, no I/O.
 */
import type { MrkvError } from '@mrkv/common';
import { EngineError, EngineErrorCodes } from '../errors.js';
import type { EngineKind } from '../data-dir.js';
import type { BatchOp } from '../write-batch.js';
import { PriorityGen, treeDeleteRange, treeInsert, treeRemove, type Root } from './sorted-tree.js';

/** What a write fault hook is told about each write. */
export interface WriteInfo {
  readonly ops: number;
  readonly bytes: number;
  readonly sync: boolean;
}

/** Returns an error to fail the write with, or undefined to let it through. */
export type WriteFault = (info: WriteInfo) => MrkvError | undefined;

/** How many unsynced writes a crash can keep at most (older unsynced states are not retained). */
export const MAX_UNSYNCED_VERSIONS = 64;

export class MemoryDisk {
  /** Current contents (what reads see). */
  root: Root = null;
  /** Contents as of the last sync. */
  private durable: Root = null;
  /** Contents after each write since the last sync, oldest first (at most MAX_UNSYNCED_VERSIONS). */
  private unsynced: Root[] = [];
  /** Writes since the last sync, including ones no longer in `unsynced`. */
  private unsyncedWrites = 0;
  private readonly prio = new PriorityGen();
  private fault: WriteFault | undefined;
  /** The engine currently open on this disk (a token), if any. */
  private owner: object | undefined;
  /** Which engine kind first opened this disk (the memory twin of the FORMAT marker). */
  kind: EngineKind | undefined;
  /** Number of crashes so far. */
  crashes = 0;

  /** Takes the disk for an engine; a second open while one is open is refused. */
  attach(owner: object, kind: EngineKind): void {
    if (this.owner !== undefined) throw new EngineError(EngineErrorCodes.LOCKED, 'memory disk is already open by another engine');
    if (this.kind !== undefined && this.kind !== kind) {
      throw new EngineError(EngineErrorCodes.KIND_MISMATCH, `memory disk holds a ${this.kind} engine, not a ${kind} engine`, { details: { kind: this.kind, wanted: kind } });
    }
    this.kind = kind;
    this.owner = owner;
  }

  /** Releases the disk if `owner` holds it. */
  detach(owner: object): void {
    if (this.owner === owner) this.owner = undefined;
  }

  /** True while `owner` is the open engine (false after a crash). */
  isOwner(owner: object): boolean {
    return this.owner === owner;
  }

  /** Installs (or with undefined, removes) a hook that can fail writes. */
  setWriteFault(fault: WriteFault | undefined): void {
    this.fault = fault;
  }

  /** Fails the next `n` writes with `KV:Engine:NoSpace`, then lets writes through again. */
  failNextWrites(n: number): void {
    let left = n;
    this.fault = () => {
      if (left <= 0) return undefined;
      left--;
      if (left === 0) this.fault = undefined;
      return new EngineError(EngineErrorCodes.NO_SPACE, 'injected fault: no space left on device');
    };
  }

  /** Applies ops atomically (throws the injected fault, if any, before changing anything). */
  apply(ops: readonly BatchOp[], bytes: number, sync: boolean): void {
    const err = this.fault?.({ ops: ops.length, bytes, sync });
    if (err !== undefined) throw err;
    let root = this.root;
    for (const op of ops) {
      switch (op.type) {
        case 'put':
          root = treeInsert(root, Buffer.from(op.key), Buffer.from(op.value), this.prio.next());
          break;
        case 'del':
          root = treeRemove(root, op.key);
          break;
        case 'deleteRange':
          root = treeDeleteRange(root, op.start, op.end);
          break;
      }
    }
    this.root = root;
    if (sync) {
      this.sync();
    } else {
      this.unsynced.push(root);
      this.unsyncedWrites++;
      if (this.unsynced.length > MAX_UNSYNCED_VERSIONS) this.unsynced.shift();
    }
  }

  /** Makes everything written so far durable. */
  sync(): void {
    this.durable = this.root;
    this.unsynced = [];
    this.unsyncedWrites = 0;
  }

  /** Writes since the last sync (what a crash may lose). */
  get pendingUnsynced(): number {
    return this.unsyncedWrites;
  }

  /**
   * Simulates a power loss: keeps the durable state plus the first `keepUnsynced` unsynced
   * writes (0 by default), and closes the open engine. Only the newest MAX_UNSYNCED_VERSIONS
   * unsynced states are retained; asking for an older one keeps the durable state instead (also a
   * state a real crash can leave). Reopen an engine on the disk to continue.
   */
  crash(options: { keepUnsynced?: number } = {}): void {
    const keep = Math.max(0, Math.floor(options.keepUnsynced ?? 0));
    const dropped = this.unsyncedWrites - this.unsynced.length; // oldest writes no longer retained
    let root = this.durable;
    if (keep > 0) {
      const idx = Math.min(keep - dropped, this.unsynced.length) - 1;
      root = idx >= 0 ? this.unsynced[idx]! : this.durable;
    }
    this.root = root;
    this.sync();
    this.owner = undefined;
    this.crashes++;
  }
}
