/**
 * @mrkv/client: the TypeScript SDK of mrkv. `createRawClient({ pdEndpoints })` returns a
 * `RawClient` (see ./types.ts); the implementation lands next to this file.
 */
export type { BytesLike, KvPair, KvPairInput, CallOptions, ReadOptions, ScanOptions, CasResult, RawClient } from './types.js';
