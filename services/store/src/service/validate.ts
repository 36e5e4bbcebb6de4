/**
 * Gateway validation of RawKV requests: everything that can be judged from the request alone,
 * before the raftstore sees it (reference §1.3; TiKV `src/server/service/kv.rs` and
 * `src/storage/mod.rs`). Region-level checks (store and peer ids, epoch, key range, leadership)
 * belong to the raftstore. Every function throws a typed error and never mutates its input, so a
 * rejected request has no side effect.
 */
import { compareBytes } from '@mrkv/common';
import { contextFromWire, RaftEntryTooLargeError, requestErrors, type kvrpcpb, type RequestContext } from '@mrkv/proto';
import { StoreError, StoreErrorCodes } from '../errors.js';

/** The limits the gateway enforces (the `limits` config section). */
export interface RequestLimits {
  maxKeySize: number;
  maxValueSize: number;
  maxBatchKeys: number;
  maxBatchBytes: number;
  maxScanLimit: number;
  raftEntryMaxSize: number;
}

/** Bytes a write entry spends per key beyond its key and value (command framing). */
export const ENTRY_OVERHEAD_PER_KEY = 16;

/**
 * Parses and checks `Context`: ids must fit (ProtoError otherwise), the API version must be V1,
 * and a non-zero `cluster_id` must be ours (`clusterId` 0 = not yet known, unchecked).
 */
export function checkContext(ctx: kvrpcpb.Context__Output | null | undefined, clusterId: number): RequestContext {
  const c = contextFromWire(ctx);
  if (c.apiVersion !== 'V1') throw requestErrors.apiVersionNotSupported(c.apiVersion);
  if (c.clusterId !== 0 && clusterId !== 0 && c.clusterId !== clusterId) {
    throw new StoreError(StoreErrorCodes.CLUSTER_ID_MISMATCH, `request is for cluster ${c.clusterId}, this store is in cluster ${clusterId}`, {
      details: { requestClusterId: c.clusterId, clusterId },
    });
  }
  return c;
}

/** Only the default column family exists in RawKV (an empty name means `default`). */
export function checkCf(cf: string): void {
  if (cf !== '' && cf !== 'default') throw requestErrors.invalidCf(cf);
}

export function checkKey(key: Uint8Array, limits: RequestLimits): void {
  if (key.length === 0) throw requestErrors.keyIsEmpty();
  if (key.length > limits.maxKeySize) throw requestErrors.keyTooLarge(key.length, limits.maxKeySize);
}

/** A range bound: may be empty (unbounded) but not over the key size limit. */
export function checkBound(key: Uint8Array, limits: RequestLimits): void {
  if (key.length > limits.maxKeySize) throw requestErrors.keyTooLarge(key.length, limits.maxKeySize);
}

export function checkValue(value: Uint8Array, limits: RequestLimits): void {
  if (value.length > limits.maxValueSize) throw requestErrors.valueTooLarge(value.length, limits.maxValueSize);
}

/** TTLs need API V1TTL/V2; mrkv serves V1, so any non-zero TTL is refused. */
export function checkNoTtl(ttl: string | number): void {
  if (ttl !== '0' && ttl !== 0) throw requestErrors.ttlNotSupported();
}

/** Batch size in keys, then in bytes. `what` names the request for EmptyRequest. */
export function checkBatch(count: number, bytes: number, limits: RequestLimits, what: string): void {
  if (count === 0) throw requestErrors.emptyRequest(what);
  if (count > limits.maxBatchKeys) throw requestErrors.batchTooLarge('keys', count, limits.maxBatchKeys);
  if (bytes > limits.maxBatchBytes) throw requestErrors.batchTooLarge('bytes', bytes, limits.maxBatchBytes);
}

/**
 * A write whose raft entry would exceed `raft-entry-max-size` is refused with TiKV's
 * RaftEntryTooLarge region error (not retried by clients) before anything is proposed. The size
 * is an estimate (keys + values + per-key framing); the raftstore checks the real entry again.
 */
export function checkEntrySize(regionId: number, payloadBytes: number, keys: number, limits: RequestLimits): void {
  const entrySize = payloadBytes + keys * ENTRY_OVERHEAD_PER_KEY;
  if (entrySize > limits.raftEntryMaxSize) throw new RaftEntryTooLargeError({ regionId, entrySize });
}

/**
 * Scan bounds (reference §1.3). Forward covers [start, end), an empty end is unbounded; reverse
 * covers [end, start) walking down, an empty start is unbounded above. With both bounds set they
 * must not be inverted for the direction: forward needs start < end, reverse start > end.
 */
export function checkScanRange(start: Uint8Array, end: Uint8Array, reverse: boolean, limits: RequestLimits): void {
  checkBound(start, limits);
  checkBound(end, limits);
  if (end.length === 0) return;
  if (reverse) {
    if (start.length > 0 && compareBytes(start, end) <= 0) throw requestErrors.invalidScanRange(true);
  } else if (compareBytes(start, end) >= 0) {
    throw requestErrors.invalidScanRange(false);
  }
}

export function checkScanLimit(limit: number, limits: RequestLimits): void {
  if (limit < 1 || limit > limits.maxScanLimit) throw requestErrors.invalidScanLimit(limit, limits.maxScanLimit);
}

/**
 * RawBatchScan ranges (TiKV `check_key_ranges`): each range must be valid for the direction; an
 * empty end of a range that is not the last is bounded by the next range's start.
 */
export function checkBatchScanRanges(ranges: ReadonlyArray<{ startKey: Uint8Array; endKey: Uint8Array }>, reverse: boolean, limits: RequestLimits): void {
  if (ranges.length === 0) throw requestErrors.emptyRequest('RawBatchScan has no ranges');
  if (ranges.length > limits.maxBatchKeys) throw requestErrors.batchTooLarge('keys', ranges.length, limits.maxBatchKeys);
  for (let i = 0; i < ranges.length; i++) {
    const r = ranges[i]!;
    let end = r.endKey;
    if (end.length === 0 && i + 1 < ranges.length) end = ranges[i + 1]!.startKey;
    checkScanRange(r.startKey, end, reverse, limits);
  }
}

/** RawDeleteRange: [start, end) with an empty end unbounded; a non-empty end must be above start. */
export function checkDeleteRange(start: Uint8Array, end: Uint8Array, limits: RequestLimits): void {
  checkScanRange(start, end, false, limits);
}

/** SplitRegion keys: the repeated field, or the deprecated single key; sorted and deduplicated. */
export function checkSplitKeys(keys: readonly Uint8Array[], limits: RequestLimits): Uint8Array[] {
  if (keys.length === 0) throw requestErrors.emptyRequest('SplitRegion has no split keys');
  if (keys.length > limits.maxBatchKeys) throw requestErrors.batchTooLarge('keys', keys.length, limits.maxBatchKeys);
  for (const k of keys) checkKey(k, limits);
  const sorted = [...keys].sort(compareBytes);
  return sorted.filter((k, i) => i === 0 || compareBytes(sorted[i - 1]!, k) !== 0);
}
