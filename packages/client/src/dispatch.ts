/**
 * Spreading a request over regions and re-spreading it when regions change under it:
 *
 * - `onKey`: locate the key's region, send; re-locate and resend while the sender says so.
 * - `onKeys`: group keys by region, cut each group into chunks (`maxBatchKeys`, `maxBatchBytes`),
 *   send all chunks concurrently; a chunk whose region changed is regrouped on its own (its keys
 *   may now span several regions) and the rest is not resent.
 * - `onRange`: cut `[start, end)` at region boundaries, send the pieces concurrently; a piece
 *   whose region changed is cut again.
 *
 * Results come back per chunk or piece, with the indexes of the keys they cover.
 */
import type { errorpb } from '@mrkv/proto';
import type { CallScope } from './call-scope.js';
import type { CachedRegion, RegionCache } from './region-cache.js';
import type { RegionRequestSender, SendOptions, Transmit } from './region-request.js';

type WithRegionError = { regionError: errorpb.Error__Output | null };

/** Limits of one batch request. */
export interface ChunkLimits {
  readonly maxBatchKeys: number;
  readonly maxBatchBytes: number;
}

export class Dispatcher {
  constructor(
    private readonly cache: RegionCache,
    private readonly sender: RegionRequestSender,
    private readonly limits: ChunkLimits,
  ) {}

  /** Sends a single-key request built by `transmit` to the region holding `key`. */
  async onKey<R extends WithRegionError>(key: Uint8Array, transmit: Transmit<R>, scope: CallScope, opts: SendOptions): Promise<R> {
    for (;;) {
      const entry = await this.cache.locateKey(key, scope);
      const res = await this.sender.send(entry, transmit, scope, opts);
      if (res !== undefined) return res;
    }
  }

  /**
   * Sends `keys` (by index) grouped per region: `build(indexes)` makes the transmit for one chunk.
   * `sizeOf(i)` is the byte size of key `i` (and its value) for chunking.
   */
  async onKeys<R extends WithRegionError>(
    keys: readonly Uint8Array[],
    indexes: readonly number[],
    sizeOf: (i: number) => number,
    build: (indexes: readonly number[]) => Transmit<R>,
    scope: CallScope,
    opts: SendOptions,
  ): Promise<Array<{ indexes: readonly number[]; res: R }>> {
    const groups = await this.cache.groupKeys(
      indexes.map((i) => keys[i]!),
      scope,
    );
    const jobs: Array<Promise<Array<{ indexes: readonly number[]; res: R }>>> = [];
    for (const [entry, local] of groups) {
      for (const chunk of this.chunks(
        local.map((j) => indexes[j]!),
        sizeOf,
      )) {
        jobs.push(this.sendChunk(entry, keys, chunk, sizeOf, build, scope, opts));
      }
    }
    return (await settleAll(jobs)).flat();
  }

  /**
   * Sends one request per region piece of `[start, end)` (empty `end` = +inf):
   * `build(pieceStart, pieceEnd)` makes the transmit of a piece.
   */
  async onRange<R extends WithRegionError>(
    start: Uint8Array,
    end: Uint8Array,
    build: (pieceStart: Uint8Array, pieceEnd: Uint8Array) => Transmit<R>,
    scope: CallScope,
    opts: SendOptions,
  ): Promise<R[]> {
    const entries = await this.cache.locateRange(start, end, scope);
    const pieces = entries.map((entry, i) => {
      const rEnd = entry.region.endKey;
      const last = i === entries.length - 1;
      return { entry, start: i === 0 ? start : entry.region.startKey, end: last ? end : rEnd };
    });
    const jobs = pieces.map(async (p): Promise<R[]> => {
      const res = await this.sender.send(p.entry, build(p.start, p.end), scope, opts);
      return res !== undefined ? [res] : this.onRange(p.start, p.end, build, scope, opts);
    });
    return (await settleAll(jobs)).flat();
  }

  private async sendChunk<R extends WithRegionError>(
    entry: CachedRegion,
    keys: readonly Uint8Array[],
    chunk: readonly number[],
    sizeOf: (i: number) => number,
    build: (indexes: readonly number[]) => Transmit<R>,
    scope: CallScope,
    opts: SendOptions,
  ): Promise<Array<{ indexes: readonly number[]; res: R }>> {
    const res = await this.sender.send(entry, build(chunk), scope, opts);
    if (res !== undefined) return [{ indexes: chunk, res }];
    return this.onKeys(keys, chunk, sizeOf, build, scope, opts);
  }

  /** Cuts a group into chunks of at most `maxBatchKeys` keys and about `maxBatchBytes` bytes. */
  private *chunks(indexes: readonly number[], sizeOf: (i: number) => number): Generator<number[]> {
    let cur: number[] = [];
    let bytes = 0;
    for (const i of indexes) {
      const size = sizeOf(i);
      if (cur.length > 0 && (cur.length >= this.limits.maxBatchKeys || bytes + size > this.limits.maxBatchBytes)) {
        yield cur;
        cur = [];
        bytes = 0;
      }
      cur.push(i);
      bytes += size;
    }
    if (cur.length > 0) yield cur;
  }
}

/**
 * Like Promise.all, but waits for every job to settle before rejecting (so no request of a
 * failed call is still running when the call rejects), and rejects with the first failure.
 */
async function settleAll<T>(jobs: ReadonlyArray<Promise<T>>): Promise<T[]> {
  const results = await Promise.allSettled(jobs);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}
