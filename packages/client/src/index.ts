/**
 * @mrkv/client: the TypeScript SDK of mrkv. `createRawClient({ pdEndpoints })` returns a
 * `RawClient`: get, batchGet, put, batchPut, delete, batchDelete, scan (async iterator across
 * regions, forward and reverse), deleteRange, compareAndSwap, close. It keeps a region cache fed
 * by PD, retries region errors as client-go does, and sends over one BatchCommands stream per
 * store. See README.md.
 */
export { createRawClient } from './raw-client.js';
export type { RawClientOptions, RawClientInternals } from './raw-client.js';
export type { BytesLike, KvPair, KvPairInput, CallOptions, ReadOptions, ScanOptions, CasResult, RawClient } from './types.js';
export { ClientError, ClientErrorCodes, isClientError } from './errors.js';
export type { ClientErrorCode } from './errors.js';
export { toBytes, bytesToString } from './bytes.js';
export { DEFAULT_BACKOFF } from './backoff.js';
export type { BackoffKind, BackoffCurve, Jitter } from './backoff.js';
export { PdClient } from './pd-client.js';
export type { PdClientOptions, RegionInfo } from './pd-client.js';
export type { RegionCache, CachedRegion } from './region-cache.js';
export type { StoreConnection, TransportMode } from './store-connection.js';
