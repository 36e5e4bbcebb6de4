/**
 * The key layout of everything mrkv persists, shared by the engines, the raftstore and the tools.
 * It follows TiKV's `components/keys` byte for byte (tikv-reference §2.5):
 *
 * | key                    | bytes                                         | engine     |
 * | ---------------------- | --------------------------------------------- | ---------- |
 * | STORE_IDENT_KEY        | `01 01`                                       | kv         |
 * | PREPARE_BOOTSTRAP_KEY  | `01 02`                                       | kv         |
 * | RECOVER_STATE_KEY      | `01 03`                                       | kv         |
 * | raft log entry         | `01 02` region_id(u64 BE) `01` index(u64 BE)  | raft       |
 * | raft state             | `01 02` region_id `02`                        | raft       |
 * | apply state            | `01 02` region_id `03`                        | kv         |
 * | snapshot raft state    | `01 02` region_id `04`                        | kv         |
 * | region state           | `01 03` region_id `01`                        | kv         |
 * | user data              | `7a` ('z') user_key                           | kv         |
 *
 * All local (metadata) keys sort in `[01, 02)`, all data keys in `[z, z+1)`. Big-endian ids and
 * indexes make byte order equal numeric order, so a region's log is one contiguous key range and
 * its entries come out of a scan in index order.
 */
import { readU64BE, writeU64BE } from '@mrkv/common';
import { invalidArgument } from './errors.js';

/** First byte of every local (non-data) key. */
export const LOCAL_PREFIX = 0x01;
/** Second byte of per-region raft keys (log, raft state, apply state, snapshot raft state). */
export const REGION_RAFT_PREFIX = 0x02;
/** Second byte of per-region meta keys (region state). */
export const REGION_META_PREFIX = 0x03;
/** Suffix bytes after the region id under `REGION_RAFT_PREFIX`. */
export const RAFT_LOG_SUFFIX = 0x01;
export const RAFT_STATE_SUFFIX = 0x02;
export const APPLY_STATE_SUFFIX = 0x03;
export const SNAPSHOT_RAFT_STATE_SUFFIX = 0x04;
/** Suffix byte after the region id under `REGION_META_PREFIX`. */
export const REGION_STATE_SUFFIX = 0x01;
/** First byte of every data key ('z'). */
export const DATA_PREFIX = 0x7a;

/** Smallest and one-past-largest local key: local keys are `[LOCAL_MIN_KEY, LOCAL_MAX_KEY)`. */
export const LOCAL_MIN_KEY: Uint8Array = Uint8Array.of(LOCAL_PREFIX);
export const LOCAL_MAX_KEY: Uint8Array = Uint8Array.of(LOCAL_PREFIX + 1);
/** `StoreIdent{cluster_id, store_id, api_version}` lives here in the kv engine. */
export const STORE_IDENT_KEY: Uint8Array = Uint8Array.of(LOCAL_PREFIX, 0x01);
/** The first region, written before PD's Bootstrap call and removed after it (TiKV bootstrap.rs). */
export const PREPARE_BOOTSTRAP_KEY: Uint8Array = Uint8Array.of(LOCAL_PREFIX, 0x02);
/** Marker of an unsafe-recovery in progress. */
export const RECOVER_STATE_KEY: Uint8Array = Uint8Array.of(LOCAL_PREFIX, 0x03);
/** Per-region raft keys sort in `[REGION_RAFT_MIN_KEY, REGION_RAFT_MAX_KEY)`. */
export const REGION_RAFT_MIN_KEY: Uint8Array = Uint8Array.of(LOCAL_PREFIX, REGION_RAFT_PREFIX);
export const REGION_RAFT_MAX_KEY: Uint8Array = Uint8Array.of(LOCAL_PREFIX, REGION_RAFT_PREFIX + 1);
/** Region states sort in `[REGION_META_MIN_KEY, REGION_META_MAX_KEY)`: startup scans them alone. */
export const REGION_META_MIN_KEY: Uint8Array = Uint8Array.of(LOCAL_PREFIX, REGION_META_PREFIX);
export const REGION_META_MAX_KEY: Uint8Array = Uint8Array.of(LOCAL_PREFIX, REGION_META_PREFIX + 1);
/** Data keys are `[DATA_MIN_KEY, DATA_MAX_KEY)`; a region with an empty end key ends at DATA_MAX_KEY. */
export const DATA_MIN_KEY: Uint8Array = Uint8Array.of(DATA_PREFIX);
export const DATA_MAX_KEY: Uint8Array = Uint8Array.of(DATA_PREFIX + 1);

/** Length of a raft log key: 2 prefix bytes, 8 region id bytes, 1 suffix byte, 8 index bytes. */
export const RAFT_LOG_KEY_LEN = 19;
/** Length of a raft/apply/snapshot-raft/region state key. */
export const REGION_STATE_KEY_LEN = 11;

function checkId(what: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) throw invalidArgument(`${what} must be a non-negative safe integer, got ${String(v)}`);
}

function regionKey(prefix: number, regionId: number, suffix: number, extraLen: number): Buffer {
  checkId('region id', regionId);
  const k = Buffer.allocUnsafe(REGION_STATE_KEY_LEN + extraLen);
  k[0] = LOCAL_PREFIX;
  k[1] = prefix;
  writeU64BE(k, 2, regionId);
  k[10] = suffix;
  return k;
}

/** `01 02 region_id 01 index`: the key of one raft log entry (raft engine). */
export function raftLogKey(regionId: number, index: number): Buffer {
  checkId('log index', index);
  const k = regionKey(REGION_RAFT_PREFIX, regionId, RAFT_LOG_SUFFIX, 8);
  writeU64BE(k, 11, index);
  return k;
}

/** `01 02 region_id 01`: every log key of the region starts with this (an exclusive lower bound of none). */
export function raftLogPrefix(regionId: number): Buffer {
  return regionKey(REGION_RAFT_PREFIX, regionId, RAFT_LOG_SUFFIX, 0);
}

/** `01 02 region_id 02`: `RaftLocalState` (hard state, log bounds) of the region (raft engine). */
export function raftStateKey(regionId: number): Buffer {
  return regionKey(REGION_RAFT_PREFIX, regionId, RAFT_STATE_SUFFIX, 0);
}

/** `01 02 region_id 03`: `RaftApplyState` of the region (kv engine, written with the data it covers). */
export function applyStateKey(regionId: number): Buffer {
  return regionKey(REGION_RAFT_PREFIX, regionId, APPLY_STATE_SUFFIX, 0);
}

/** `01 02 region_id 04`: copy of the raft state kept while a snapshot is applied (kv engine). */
export function snapshotRaftStateKey(regionId: number): Buffer {
  return regionKey(REGION_RAFT_PREFIX, regionId, SNAPSHOT_RAFT_STATE_SUFFIX, 0);
}

/** `01 03 region_id 01`: `RegionLocalState` of the region (kv engine). */
export function regionStateKey(regionId: number): Buffer {
  return regionKey(REGION_META_PREFIX, regionId, REGION_STATE_SUFFIX, 0);
}

/** `[01 02 region_id, 01 02 region_id+1)`: every raft key of one region (log, states). */
export function regionRaftRange(regionId: number): { start: Buffer; end: Buffer } {
  checkId('region id', regionId);
  const start = Buffer.allocUnsafe(10);
  start[0] = LOCAL_PREFIX;
  start[1] = REGION_RAFT_PREFIX;
  writeU64BE(start, 2, regionId);
  const end = Buffer.allocUnsafe(10);
  end[0] = LOCAL_PREFIX;
  end[1] = REGION_RAFT_PREFIX;
  writeU64BE(end, 2, regionId + 1);
  return { start, end };
}

/** `[raftLogKey(id, 0), raftStateKey(id))`: exactly the log entries of one region. */
export function raftLogRange(regionId: number): { start: Buffer; end: Buffer } {
  return { start: raftLogKey(regionId, 0), end: raftStateKey(regionId) };
}

/** `'z' + key`: the engine key of a user key. */
export function dataKey(key: Uint8Array): Buffer {
  const k = Buffer.allocUnsafe(key.length + 1);
  k[0] = DATA_PREFIX;
  k.set(key, 1);
  return k;
}

/**
 * The data key that ends a region whose (user) end key is `end`: `'z' + end`, or DATA_MAX_KEY for
 * the empty end key, which means "to the end of the key space".
 */
export function dataEndKey(end: Uint8Array): Buffer {
  return end.length === 0 ? Buffer.from(DATA_MAX_KEY) : dataKey(end);
}

/** True if `key` is a data key (starts with 'z'). */
export function isDataKey(key: Uint8Array): boolean {
  return key.length > 0 && key[0] === DATA_PREFIX;
}

/** The user key of a data key. Throws `InvalidArgument` if `key` is not a data key. */
export function originKey(key: Uint8Array): Uint8Array {
  if (!isDataKey(key)) throw invalidArgument('not a data key (no z prefix)', { keyLength: key.length });
  return key.subarray(1);
}

/** What a local key names. `unknown` covers keys this build does not know (never an error). */
export type LocalKey =
  | { readonly type: 'storeIdent' }
  | { readonly type: 'prepareBootstrap' }
  | { readonly type: 'recoverState' }
  | { readonly type: 'raftLog'; readonly regionId: number; readonly index: number }
  | { readonly type: 'raftState'; readonly regionId: number }
  | { readonly type: 'applyState'; readonly regionId: number }
  | { readonly type: 'snapshotRaftState'; readonly regionId: number }
  | { readonly type: 'regionState'; readonly regionId: number }
  | { readonly type: 'unknown' };

const UNKNOWN: LocalKey = { type: 'unknown' };

/** Classifies a local key (used by recovery and raft-dump). Data keys and garbage are `unknown`. */
export function parseLocalKey(key: Uint8Array): LocalKey {
  if (key.length < 2 || key[0] !== LOCAL_PREFIX) return UNKNOWN;
  if (key.length === 2) {
    if (key[1] === 0x01) return { type: 'storeIdent' };
    if (key[1] === 0x02) return { type: 'prepareBootstrap' };
    if (key[1] === 0x03) return { type: 'recoverState' };
    return UNKNOWN;
  }
  if (key.length < REGION_STATE_KEY_LEN) return UNKNOWN;
  const regionId = safeU64(key, 2);
  if (regionId === undefined) return UNKNOWN;
  const suffix = key[10];
  if (key[1] === REGION_RAFT_PREFIX) {
    if (suffix === RAFT_LOG_SUFFIX && key.length === RAFT_LOG_KEY_LEN) {
      const index = safeU64(key, 11);
      return index === undefined ? UNKNOWN : { type: 'raftLog', regionId, index };
    }
    if (key.length !== REGION_STATE_KEY_LEN) return UNKNOWN;
    if (suffix === RAFT_STATE_SUFFIX) return { type: 'raftState', regionId };
    if (suffix === APPLY_STATE_SUFFIX) return { type: 'applyState', regionId };
    if (suffix === SNAPSHOT_RAFT_STATE_SUFFIX) return { type: 'snapshotRaftState', regionId };
    return UNKNOWN;
  }
  if (key[1] === REGION_META_PREFIX && key.length === REGION_STATE_KEY_LEN && suffix === REGION_STATE_SUFFIX) {
    return { type: 'regionState', regionId };
  }
  return UNKNOWN;
}

/** The region id of any per-region raft key (`01 02 id …`), or undefined. */
export function regionIdOfRaftKey(key: Uint8Array): number | undefined {
  if (key.length < 10 || key[0] !== LOCAL_PREFIX || key[1] !== REGION_RAFT_PREFIX) return undefined;
  return safeU64(key, 2);
}

function safeU64(key: Uint8Array, off: number): number | undefined {
  try {
    return readU64BE(key, off);
  } catch (e) {
    if (e instanceof RangeError) return undefined;
    throw e;
  }
}
