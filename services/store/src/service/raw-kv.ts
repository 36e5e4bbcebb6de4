/**
 * The RawKV methods, one function per kvproto method, shared by the unary handlers and the
 * BatchCommands stream: each takes the decoded request and returns the response object, never
 * throws, and always answers as TiKV would (reference §1.3):
 * - RawGet sets `not_found` for an absent key; RawBatchGet returns only the pairs found;
 * - RawScan with `key_only` leaves values empty; reverse scans walk down from `start_key`;
 * - RawCompareAndSwap always reports what it saw (`previous_not_exist`, `previous_value`);
 * - SplitRegion fills the deprecated `left`/`right` when exactly two regions result.
 *
 * Flow per request: parse and check the Context (ids, API version, cluster id), validate the
 * request (validate.ts), then call the raftstore's `RawKvApi` under the request's deadline
 * (`Context.max_execution_duration_ms`) and the caller's cancellation signal.
 */
import type { InvariantViolation, Logger } from '@mrkv/common';
import { regionToWire, requestErrors, type kvrpcpb, type RequestContext } from '@mrkv/proto';
import type { RawKvApi } from '@mrkv/raftstore';
import {
  checkBatch,
  checkBatchScanRanges,
  checkCf,
  checkContext,
  checkDeleteRange,
  checkEntrySize,
  checkKey,
  checkNoTtl,
  checkScanLimit,
  checkScanRange,
  checkSplitKeys,
  checkValue,
  type RequestLimits,
} from './validate.js';
import { classifyFailure, withErrorString, withKvsError, withPairsError, withRegionErrorOnly, type Failure } from './respond.js';

/** What the RawKV methods need. */
export interface RawKvDeps {
  readonly api: RawKvApi;
  readonly limits: RequestLimits;
  /** This store's cluster id; 0 while unknown (cluster ids in requests are then not checked). */
  clusterId(): number;
  readonly logger: Logger;
  onFatal(err: InvariantViolation): void;
}

/** The methods served, by their kvproto names (metric and log labels). */
export const RAW_METHODS = [
  'RawGet',
  'RawBatchGet',
  'RawPut',
  'RawBatchPut',
  'RawDelete',
  'RawBatchDelete',
  'RawScan',
  'RawDeleteRange',
  'RawBatchScan',
  'RawCompareAndSwap',
  'SplitRegion',
  'ReadIndex',
] as const;
export type RawMethod = (typeof RAW_METHODS)[number];

/** Request and response types per method. */
export interface RawTypes {
  RawGet: [kvrpcpb.RawGetRequest__Output, kvrpcpb.RawGetResponse];
  RawBatchGet: [kvrpcpb.RawBatchGetRequest__Output, kvrpcpb.RawBatchGetResponse];
  RawPut: [kvrpcpb.RawPutRequest__Output, kvrpcpb.RawPutResponse];
  RawBatchPut: [kvrpcpb.RawBatchPutRequest__Output, kvrpcpb.RawBatchPutResponse];
  RawDelete: [kvrpcpb.RawDeleteRequest__Output, kvrpcpb.RawDeleteResponse];
  RawBatchDelete: [kvrpcpb.RawBatchDeleteRequest__Output, kvrpcpb.RawBatchDeleteResponse];
  RawScan: [kvrpcpb.RawScanRequest__Output, kvrpcpb.RawScanResponse];
  RawDeleteRange: [kvrpcpb.RawDeleteRangeRequest__Output, kvrpcpb.RawDeleteRangeResponse];
  RawBatchScan: [kvrpcpb.RawBatchScanRequest__Output, kvrpcpb.RawBatchScanResponse];
  RawCompareAndSwap: [kvrpcpb.RawCASRequest__Output, kvrpcpb.RawCASResponse];
  SplitRegion: [kvrpcpb.SplitRegionRequest__Output, kvrpcpb.SplitRegionResponse];
  ReadIndex: [kvrpcpb.ReadIndexRequest__Output, kvrpcpb.ReadIndexResponse];
}
export type RawRequest<M extends RawMethod> = RawTypes[M][0];
export type RawResponse<M extends RawMethod> = RawTypes[M][1];

type Body<M extends RawMethod> = (d: RawKvDeps, req: RawRequest<M>, ctx: RequestContext, signal: AbortSignal) => Promise<RawResponse<M>>;

interface MethodSpec<M extends RawMethod> {
  readonly body: Body<M>;
  readonly onFailure: (f: Failure) => RawResponse<M>;
}

const SPECS: { readonly [M in RawMethod]: MethodSpec<M> } = {
  RawGet: { body: rawGet, onFailure: withErrorString },
  RawBatchGet: { body: rawBatchGet, onFailure: withPairsError },
  RawPut: { body: rawPut, onFailure: withErrorString },
  RawBatchPut: { body: rawBatchPut, onFailure: withErrorString },
  RawDelete: { body: rawDelete, onFailure: withErrorString },
  RawBatchDelete: { body: rawBatchDelete, onFailure: withErrorString },
  RawScan: { body: rawScan, onFailure: withKvsError },
  RawDeleteRange: { body: rawDeleteRange, onFailure: withErrorString },
  RawBatchScan: { body: rawBatchScan, onFailure: withKvsError },
  RawCompareAndSwap: { body: rawCas, onFailure: withErrorString },
  SplitRegion: { body: splitRegion, onFailure: withRegionErrorOnly },
  ReadIndex: { body: readIndex, onFailure: withRegionErrorOnly },
};

/**
 * Serves one request of `method`. Never throws: every failure becomes the response TiKV would
 * send. `signal` aborts when the caller goes away (cancelled call, closed stream, shutdown).
 */
export async function serveRaw<M extends RawMethod>(d: RawKvDeps, method: M, req: RawRequest<M>, signal: AbortSignal): Promise<RawResponse<M>> {
  const spec = SPECS[method] as MethodSpec<M>;
  let ctx: RequestContext | undefined;
  try {
    ctx = checkContext(req.context, d.clusterId());
    return await withDeadline(ctx.maxExecutionDurationMs, signal, (s) => spec.body(d, req, ctx!, s));
  } catch (e) {
    return spec.onFailure(classifyFailure(e, method, ctx, d));
  }
}

/** The response of `method` for a failure decided before serving (e.g. ServerIsBusy from admission). */
export function rawFailureResponse<M extends RawMethod>(method: M, f: Failure): RawResponse<M> {
  return (SPECS[method] as MethodSpec<M>).onFailure(f);
}

/**
 * Runs `fn` under the request's server-side deadline (0 = none): past it the request answers
 * DeadlineExceeded and the raftstore's signal aborts. For writes the outcome is then unknown, as
 * with TiKV; clients treat the error as final for this attempt.
 */
async function withDeadline<T>(budgetMs: number, outer: AbortSignal, fn: (s: AbortSignal) => Promise<T>): Promise<T> {
  if (budgetMs === 0) return fn(outer);
  const ac = new AbortController();
  const onOuter = () => ac.abort(outer.reason);
  if (outer.aborted) ac.abort(outer.reason);
  else outer.addEventListener('abort', onOuter, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = requestErrors.deadlineExceeded(budgetMs);
      ac.abort(err);
      reject(err);
    }, budgetMs);
  });
  try {
    return await Promise.race([fn(ac.signal), deadline]);
  } finally {
    clearTimeout(timer);
    outer.removeEventListener('abort', onOuter);
  }
}

async function rawGet(d: RawKvDeps, req: kvrpcpb.RawGetRequest__Output, ctx: RequestContext, signal: AbortSignal): Promise<kvrpcpb.RawGetResponse> {
  checkCf(req.cf);
  checkKey(req.key, d.limits);
  const value = await d.api.rawGet(ctx, req.key, signal);
  return value === undefined ? { notFound: true } : { value };
}

async function rawBatchGet(
  d: RawKvDeps,
  req: kvrpcpb.RawBatchGetRequest__Output,
  ctx: RequestContext,
  signal: AbortSignal,
): Promise<kvrpcpb.RawBatchGetResponse> {
  checkCf(req.cf);
  let bytes = 0;
  for (const k of req.keys) {
    checkKey(k, d.limits);
    bytes += k.length;
  }
  checkBatch(req.keys.length, bytes, d.limits, 'RawBatchGet has no keys');
  const pairs = await d.api.rawBatchGet(ctx, req.keys, signal);
  return { pairs: pairs.map((p) => ({ key: p.key, value: p.value })) };
}

async function rawPut(d: RawKvDeps, req: kvrpcpb.RawPutRequest__Output, ctx: RequestContext, signal: AbortSignal): Promise<kvrpcpb.RawPutResponse> {
  checkCf(req.cf);
  checkKey(req.key, d.limits);
  checkValue(req.value, d.limits);
  checkNoTtl(req.ttl);
  checkEntrySize(ctx.regionId, req.key.length + req.value.length, 1, d.limits);
  await d.api.rawPut(ctx, req.key, req.value, signal);
  return {};
}

async function rawBatchPut(
  d: RawKvDeps,
  req: kvrpcpb.RawBatchPutRequest__Output,
  ctx: RequestContext,
  signal: AbortSignal,
): Promise<kvrpcpb.RawBatchPutResponse> {
  checkCf(req.cf);
  if (req.ttls.length > 1 && req.ttls.length !== req.pairs.length) throw requestErrors.ttlLenNotEqualsToPairs(req.ttls.length, req.pairs.length);
  checkNoTtl(req.ttl);
  for (const t of req.ttls) checkNoTtl(t);
  let bytes = 0;
  for (const p of req.pairs) {
    checkKey(p.key, d.limits);
    checkValue(p.value, d.limits);
    bytes += p.key.length + p.value.length;
  }
  checkBatch(req.pairs.length, bytes, d.limits, 'RawBatchPut has no pairs');
  checkEntrySize(ctx.regionId, bytes, req.pairs.length, d.limits);
  await d.api.rawBatchPut(
    ctx,
    req.pairs.map((p) => ({ key: p.key, value: p.value })),
    signal,
  );
  return {};
}

async function rawDelete(
  d: RawKvDeps,
  req: kvrpcpb.RawDeleteRequest__Output,
  ctx: RequestContext,
  signal: AbortSignal,
): Promise<kvrpcpb.RawDeleteResponse> {
  checkCf(req.cf);
  checkKey(req.key, d.limits);
  await d.api.rawDelete(ctx, req.key, signal);
  return {};
}

async function rawBatchDelete(
  d: RawKvDeps,
  req: kvrpcpb.RawBatchDeleteRequest__Output,
  ctx: RequestContext,
  signal: AbortSignal,
): Promise<kvrpcpb.RawBatchDeleteResponse> {
  checkCf(req.cf);
  let bytes = 0;
  for (const k of req.keys) {
    checkKey(k, d.limits);
    bytes += k.length;
  }
  checkBatch(req.keys.length, bytes, d.limits, 'RawBatchDelete has no keys');
  checkEntrySize(ctx.regionId, bytes, req.keys.length, d.limits);
  await d.api.rawBatchDelete(ctx, req.keys, signal);
  return {};
}

async function rawScan(d: RawKvDeps, req: kvrpcpb.RawScanRequest__Output, ctx: RequestContext, signal: AbortSignal): Promise<kvrpcpb.RawScanResponse> {
  checkCf(req.cf);
  checkScanRange(req.startKey, req.endKey, req.reverse, d.limits);
  checkScanLimit(req.limit, d.limits);
  const kvs = await d.api.rawScan(ctx, { startKey: req.startKey, endKey: req.endKey, limit: req.limit, keyOnly: req.keyOnly, reverse: req.reverse }, signal);
  return { kvs: kvs.slice(0, req.limit).map((p) => (req.keyOnly ? { key: p.key } : { key: p.key, value: p.value })) };
}

async function rawBatchScan(
  d: RawKvDeps,
  req: kvrpcpb.RawBatchScanRequest__Output,
  ctx: RequestContext,
  signal: AbortSignal,
): Promise<kvrpcpb.RawBatchScanResponse> {
  checkCf(req.cf);
  checkBatchScanRanges(req.ranges, req.reverse, d.limits);
  checkScanLimit(req.eachLimit, d.limits);
  const kvs: kvrpcpb.KvPair[] = [];
  for (const r of req.ranges) {
    const got = await d.api.rawScan(ctx, { startKey: r.startKey, endKey: r.endKey, limit: req.eachLimit, keyOnly: req.keyOnly, reverse: req.reverse }, signal);
    for (const p of got.slice(0, req.eachLimit)) kvs.push(req.keyOnly ? { key: p.key } : { key: p.key, value: p.value });
  }
  return { kvs };
}

async function rawDeleteRange(
  d: RawKvDeps,
  req: kvrpcpb.RawDeleteRangeRequest__Output,
  ctx: RequestContext,
  signal: AbortSignal,
): Promise<kvrpcpb.RawDeleteRangeResponse> {
  checkCf(req.cf);
  checkDeleteRange(req.startKey, req.endKey, d.limits);
  await d.api.rawDeleteRange(ctx, req.startKey, req.endKey, signal);
  return {};
}

async function rawCas(d: RawKvDeps, req: kvrpcpb.RawCASRequest__Output, ctx: RequestContext, signal: AbortSignal): Promise<kvrpcpb.RawCASResponse> {
  checkCf(req.cf);
  checkKey(req.key, d.limits);
  checkValue(req.value, d.limits);
  checkValue(req.previousValue, d.limits);
  checkNoTtl(req.ttl);
  checkEntrySize(ctx.regionId, req.key.length + req.value.length, 1, d.limits);
  const r = await d.api.rawCompareAndSwap(
    ctx,
    { key: req.key, value: req.value, previousNotExist: req.previousNotExist, previousValue: req.previousValue, delete: req.delete },
    signal,
  );
  return { succeed: r.succeeded, previousNotExist: r.previousNotExist, previousValue: r.previousValue };
}

async function splitRegion(
  d: RawKvDeps,
  req: kvrpcpb.SplitRegionRequest__Output,
  ctx: RequestContext,
  signal: AbortSignal,
): Promise<kvrpcpb.SplitRegionResponse> {
  const given = req.splitKeys.length > 0 ? req.splitKeys : req.splitKey.length > 0 ? [req.splitKey] : [];
  const keys = checkSplitKeys(given, d.limits);
  const regions = (await d.api.splitRegion(ctx, keys, signal)).map(regionToWire);
  return regions.length === 2 ? { regions, left: regions[0]!, right: regions[1]! } : { regions };
}

async function readIndex(
  d: RawKvDeps,
  _req: kvrpcpb.ReadIndexRequest__Output,
  ctx: RequestContext,
  signal: AbortSignal,
): Promise<kvrpcpb.ReadIndexResponse> {
  return { readIndex: await d.api.readIndex(ctx, signal) };
}

