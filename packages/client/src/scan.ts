/**
 * `scan` as an async iterator over `[start, end)`, region by region, in batches (client-go
 * `rawkv.Scan` / `ReverseScan`, reference §1.3 for the RawScan bounds):
 *
 * - forward: from `start` upward. Each RawScan covers `[cur, min(end, region end))`; a full batch
 *   continues in the same region after the last key returned, a short one moves to the next
 *   region; it stops at `end`, at the last region, or after `limit` pairs;
 * - reverse: from `end` (exclusive; empty = +inf) downward. RawScan takes the upper bound as
 *   `start_key` and the lower as `end_key` (TiKV's reverse convention); a full batch continues
 *   below the last key returned, a short one moves to the region before.
 *
 * Each batch is fetched under its own call scope (the per-call deadline covers one fetch, not
 * the consumer's pace); the caller's signal ends the iteration. Region errors re-locate from the
 * current position, so keys are neither skipped nor repeated when regions split or move.
 */
import { compareBytes } from '@mrkv/common';
import type { CallScope } from './call-scope.js';
import type { CachedRegion, RegionCache } from './region-cache.js';
import type { RegionRequestSender } from './region-request.js';
import { checkError } from './errors.js';
import type { KvPair } from './types.js';

/** What a scan needs from its client. */
export interface ScanDeps {
  readonly cache: RegionCache;
  readonly sender: RegionRequestSender;
  readonly newScope: () => CallScope;
  /** The error a failed fetch rejects with (ClientError). */
  readonly wrap: (e: unknown, scope: CallScope) => unknown;
}

export interface ScanParams {
  readonly limit: number;
  readonly keyOnly: boolean;
  readonly reverse: boolean;
  readonly batchSize: number;
  readonly replicaRead: boolean;
}

/** The validated range: `start` undefined means the range is empty. */
export type RangeThunk = () => { start: Uint8Array | undefined; end: Uint8Array; params: ScanParams };

interface Batch {
  readonly pairs: KvPair[];
  readonly region: CachedRegion;
}

/** The async iterator of one scan. Validation errors surface on the first `next()`. */
export async function* scanRange(deps: ScanDeps, range: RangeThunk): AsyncGenerator<KvPair> {
  const { start, end, params } = range();
  if (start === undefined) return;
  if (params.limit <= 0) return;
  yield* params.reverse ? reverse(deps, start, end, params) : forward(deps, start, end, params);
}

async function* forward(deps: ScanDeps, start: Uint8Array, end: Uint8Array, p: ScanParams): AsyncGenerator<KvPair> {
  let cur = start;
  let left = p.limit;
  while (left > 0) {
    const want = Math.min(p.batchSize, left);
    const { pairs, region } = await fetch(deps, p, want, (cache, scope) => cache.locateKey(cur, scope), (r) => ({
      startKey: cur,
      endKey: minEnd(end, r.region.endKey),
      reverse: false,
    }));
    for (const kv of pairs) yield kv;
    left -= pairs.length;
    if (pairs.length >= want) {
      cur = nextKey(pairs[pairs.length - 1]!.key);
      if (end.length > 0 && compareBytes(cur, end) >= 0) return;
      continue;
    }
    const rEnd = region.region.endKey;
    if (rEnd.length === 0 || (end.length > 0 && compareBytes(rEnd, end) >= 0)) return;
    cur = rEnd;
  }
}

async function* reverse(deps: ScanDeps, start: Uint8Array, end: Uint8Array, p: ScanParams): AsyncGenerator<KvPair> {
  let upper = end;
  let left = p.limit;
  while (left > 0) {
    const want = Math.min(p.batchSize, left);
    const { pairs, region } = await fetch(deps, p, want, (cache, scope) => cache.locateEndKey(upper, scope), (r) => ({
      startKey: minEnd(upper, r.region.endKey),
      endKey: compareBytes(start, r.region.startKey) > 0 ? start : r.region.startKey,
      reverse: true,
    }));
    for (const kv of pairs) yield kv;
    left -= pairs.length;
    if (pairs.length >= want) {
      upper = pairs[pairs.length - 1]!.key;
      if (compareBytes(upper, start) <= 0) return;
      continue;
    }
    const rStart = region.region.startKey;
    if (rStart.length === 0 || compareBytes(rStart, start) <= 0) return;
    upper = rStart;
  }
}

/** One RawScan on the region `locate` finds, re-locating until a region answers. */
async function fetch(
  deps: ScanDeps,
  p: ScanParams,
  limit: number,
  locate: (cache: RegionCache, scope: CallScope) => Promise<CachedRegion>,
  bounds: (r: CachedRegion) => { startKey: Uint8Array; endKey: Uint8Array; reverse: boolean },
): Promise<Batch> {
  const scope = deps.newScope();
  try {
    for (;;) {
      const region = await locate(deps.cache, scope);
      const b = bounds(region);
      const res = await deps.sender.send(
        region,
        (c, context) => c.send('RawScan', { context, ...b, limit, keyOnly: p.keyOnly }, scope),
        scope,
        { replicaRead: p.replicaRead, readOnly: true },
      );
      if (res === undefined) continue;
      const pairs: KvPair[] = [];
      for (const kv of res.kvs) {
        checkError(kv.error?.abort ?? '');
        pairs.push({ key: new Uint8Array(kv.key), value: p.keyOnly ? new Uint8Array() : new Uint8Array(kv.value) });
      }
      return { pairs, region };
    }
  } catch (e) {
    throw deps.wrap(e, scope);
  } finally {
    scope.dispose();
  }
}

/** The smaller of two exclusive upper bounds, where empty means +infinity. */
function minEnd(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  return compareBytes(a, b) <= 0 ? a : b;
}

/** The smallest key after `k`. */
function nextKey(k: Uint8Array): Uint8Array {
  const out = new Uint8Array(k.length + 1);
  out.set(k);
  return out;
}
