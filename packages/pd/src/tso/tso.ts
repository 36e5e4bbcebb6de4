/**
 * The timestamp oracle (PD `pkg/tso/tso.go`): a timestamp is `physical_ms << 18 | logical`,
 * strictly increasing across every call and every restart.
 *
 * How it never goes backwards:
 * - An upper bound `savedBound` (wall ms) is persisted ahead of time; no timestamp ever has
 *   `physical >= savedBound`. Before serving a physical time within {@link TSO_SAVE_GUARD_MS} of
 *   the bound, the bound moves to `physical + saveInterval` and is persisted (synced) first.
 * - At start, physical begins at `max(wall now, savedBound + 1)` (PD `SyncTimestamp`), so the
 *   first timestamp after a restart is above everything handed out before, even if the wall
 *   clock went back.
 * - Physical time follows the wall clock when it moves forward and stands still when it moves
 *   back. When the logical counter of one millisecond runs out, physical moves one millisecond
 *   ahead of the wall clock instead of waiting (PD waits for the next tick; this borrows time
 *   and stays below the saved bound).
 *
 * Calls are serialized on one promise chain.
 */
import type { Clock } from '@mrkv/common';
import { PdError, PdErrorCodes } from '../errors.js';
import type { MetaStorage } from '../storage/meta-storage.js';

/** Bits of the logical part. */
export const LOGICAL_BITS = 18;
/** Logical values per physical millisecond. */
export const MAX_LOGICAL = 1 << LOGICAL_BITS;
/** Default distance of the persisted bound ahead of the served physical time (PD: 3 s). */
export const TSO_SAVE_INTERVAL_MS = 3000;
/** The bound is moved when physical comes this close to it (PD: 1 ms). */
export const TSO_SAVE_GUARD_MS = 1;

/** One timestamp: physical wall ms and the logical counter. */
export interface Timestamp {
  readonly physical: number;
  readonly logical: number;
}

/** `physical << 18 | logical` as a 64-bit integer. */
export function composeTs(ts: Timestamp): bigint {
  return (BigInt(ts.physical) << BigInt(LOGICAL_BITS)) | BigInt(ts.logical);
}

/** The inverse of {@link composeTs}. */
export function parseTs(value: bigint): Timestamp {
  return { physical: Number(value >> BigInt(LOGICAL_BITS)), logical: Number(value & BigInt(MAX_LOGICAL - 1)) };
}

export interface TsoOptions {
  readonly clock: Clock;
  readonly saveIntervalMs?: number;
}

export class Tso {
  private physical = 0;
  private logical = 0;
  private savedBound = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly clock: Clock;
  private readonly saveIntervalMs: number;

  private constructor(
    private readonly storage: MetaStorage,
    opts: TsoOptions,
  ) {
    this.clock = opts.clock;
    this.saveIntervalMs = opts.saveIntervalMs ?? TSO_SAVE_INTERVAL_MS;
  }

  /** Loads the saved bound and starts strictly above it (persisting the next bound first). */
  static async open(storage: MetaStorage, opts: TsoOptions): Promise<Tso> {
    const t = new Tso(storage, opts);
    const last = await storage.loadTsoBound();
    t.physical = Math.max(Math.floor(opts.clock.wallMs()), last + 1);
    t.logical = 0;
    t.savedBound = last;
    await t.saveBound(t.physical + t.saveIntervalMs);
    return t;
  }

  /** The persisted upper bound (wall ms); every timestamp served is below it. */
  get bound(): number {
    return this.savedBound;
  }

  /**
   * Reserves `count` (1..2^18-1) consecutive timestamps; resolves with the LARGEST, as pdpb Tso
   * answers (the batch is `logical-count+1 … logical` at the same physical time).
   */
  next(count = 1): Promise<Timestamp> {
    if (!Number.isSafeInteger(count) || count < 1 || count >= MAX_LOGICAL) {
      return Promise.reject(new PdError(PdErrorCodes.INVALID_VALUE, `tso count must be in 1..${MAX_LOGICAL - 1}, got ${count}`, { details: { count } }));
    }
    const run = this.chain.then(() => this.nextNow(count));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async nextNow(count: number): Promise<Timestamp> {
    const now = Math.floor(this.clock.wallMs());
    let physical = this.physical;
    let logical = this.logical;
    if (now > physical) {
      physical = now;
      logical = 0;
    }
    if (logical + count >= MAX_LOGICAL) {
      physical += 1;
      logical = 0;
    }
    if (physical >= this.savedBound - TSO_SAVE_GUARD_MS) await this.saveBound(physical + this.saveIntervalMs);
    this.physical = physical;
    this.logical = logical + count;
    return { physical, logical: this.logical };
  }

  private async saveBound(bound: number): Promise<void> {
    try {
      await this.storage.saveTsoBound(bound);
    } catch (cause) {
      throw new PdError(PdErrorCodes.PERSIST, 'cannot persist the TSO bound', { cause });
    }
    this.savedBound = bound;
  }
}
