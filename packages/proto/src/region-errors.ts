/**
 * Region errors: the failures a store reports in a response's `region_error` (errorpb.Error) and
 * that a client retries, each a typed {@link RegionError} mapping one to one onto an errorpb
 * variant with its payload.
 *
 * - `regionErrorToWire(err)` builds the errorpb.Error: exactly one variant field plus `message`.
 * - `regionErrorFromWire(e)` turns a decoded errorpb.Error back into the matching class; for every
 *   variant, `regionErrorFromWire(regionErrorToWire(err))` equals `err` (code, message, payload).
 *   An Error with no variant set becomes an {@link UnknownRegionError}.
 * - Across threads (structured clone loses classes), send `err.toWire()` and rebuild with
 *   {@link reviveRegionError}.
 *
 * Codes follow TiKV's `error_code` names (`KV:Raftstore:NotLeader`), so operators can grep logs of
 * both systems. Client reactions per variant are in the package README and the reference §1.4.
 */
import { isMrkvError, MrkvError, type WireError } from '@mrkv/common';
import { peerFromWire, peerToWire, regionFromWire, regionToWire, type Peer, type Region } from './domain.js';
import { wireBytes, wireU64, wireU64Big, type WireInt } from './wire-values.js';
import type { Error as WireRegionError } from './generated/errorpb/Error.js';

export const RegionErrorCodes = {
  NOT_LEADER: 'KV:Raftstore:NotLeader',
  REGION_NOT_FOUND: 'KV:Raftstore:RegionNotFound',
  KEY_NOT_IN_REGION: 'KV:Raftstore:KeyNotInRegion',
  EPOCH_NOT_MATCH: 'KV:Raftstore:EpochNotMatch',
  SERVER_IS_BUSY: 'KV:Raftstore:ServerIsBusy',
  STALE_COMMAND: 'KV:Raftstore:StaleCommand',
  STORE_NOT_MATCH: 'KV:Raftstore:StoreNotMatch',
  RAFT_ENTRY_TOO_LARGE: 'KV:Raftstore:EntryTooLarge',
  MAX_TIMESTAMP_NOT_SYNCED: 'KV:Raftstore:MaxTimestampNotSynced',
  READ_INDEX_NOT_READY: 'KV:Raftstore:ReadIndexNotReady',
  PROPOSAL_IN_MERGING_MODE: 'KV:Raftstore:ProposalInMergingMode',
  DATA_IS_NOT_READY: 'KV:Raftstore:DataIsNotReady',
  REGION_NOT_INITIALIZED: 'KV:Raftstore:RegionNotInitialized',
  DISK_FULL: 'KV:Raftstore:DiskFull',
  RECOVERY_IN_PROGRESS: 'KV:Raftstore:RecoveryInProgress',
  FLASHBACK_IN_PROGRESS: 'KV:Raftstore:FlashbackInProgress',
  FLASHBACK_NOT_PREPARED: 'KV:Raftstore:FlashbackNotPrepared',
  IS_WITNESS: 'KV:Raftstore:IsWitness',
  MISMATCH_PEER_ID: 'KV:Raftstore:MismatchPeerId',
  BUCKET_VERSION_NOT_MATCH: 'KV:Raftstore:BucketVersionNotMatch',
  UNDETERMINED_RESULT: 'KV:Raftstore:UndeterminedResult',
  /** An errorpb.Error with only a message (no variant this contract knows). */
  UNKNOWN: 'KV:Raftstore:Unknown',
} as const;

export type RegionErrorCode = (typeof RegionErrorCodes)[keyof typeof RegionErrorCodes];

/** The payload of each variant, in domain types. Keys are named after the errorpb fields. */
export interface RegionErrorPayloads {
  notLeader: { regionId: number; leader?: Peer };
  regionNotFound: { regionId: number };
  keyNotInRegion: { key: Uint8Array; regionId: number; startKey: Uint8Array; endKey: Uint8Array };
  epochNotMatch: { currentRegions: Region[] };
  serverIsBusy: { reason: string; backoffMs: number; estimatedWaitMs: number; appliedIndex: number };
  staleCommand: Record<string, never>;
  storeNotMatch: { requestStoreId: number; actualStoreId: number };
  raftEntryTooLarge: { regionId: number; entrySize: number };
  maxTimestampNotSynced: Record<string, never>;
  readIndexNotReady: { reason: string; regionId: number };
  proposalInMergingMode: { regionId: number };
  dataIsNotReady: { regionId: number; peerId: number; safeTs: bigint };
  regionNotInitialized: { regionId: number };
  diskFull: { storeIds: number[]; reason: string };
  recoveryInProgress: { regionId: number };
  flashbackInProgress: { regionId: number; flashbackStartTs: bigint };
  flashbackNotPrepared: { regionId: number };
  isWitness: { regionId: number };
  mismatchPeerId: { requestPeerId: number; storePeerId: number };
  bucketVersionNotMatch: { version: number; keys: Uint8Array[] };
  /** `detail` is UndeterminedResult.message (the error's own `message` is errorpb.Error.message). */
  undeterminedResult: { detail: string };
  unknown: Record<string, never>;
}

export type RegionErrorVariant = keyof RegionErrorPayloads;

type WireVariantField = Exclude<keyof WireRegionError, 'message'>;

/** The errorpb.Error field (camelCase, as the loader names it) carrying each variant. */
const FIELDS = {
  notLeader: 'notLeader',
  regionNotFound: 'regionNotFound',
  keyNotInRegion: 'keyNotInRegion',
  epochNotMatch: 'epochNotMatch',
  serverIsBusy: 'serverIsBusy',
  staleCommand: 'staleCommand',
  storeNotMatch: 'storeNotMatch',
  raftEntryTooLarge: 'raftEntryTooLarge',
  maxTimestampNotSynced: 'maxTimestampNotSynced',
  readIndexNotReady: 'readIndexNotReady',
  proposalInMergingMode: 'proposalInMergingMode',
  dataIsNotReady: 'dataIsNotReady',
  regionNotInitialized: 'regionNotInitialized',
  diskFull: 'diskFull',
  recoveryInProgress: 'RecoveryInProgress',
  flashbackInProgress: 'FlashbackInProgress',
  flashbackNotPrepared: 'FlashbackNotPrepared',
  isWitness: 'isWitness',
  mismatchPeerId: 'mismatchPeerId',
  bucketVersionNotMatch: 'bucketVersionNotMatch',
  undeterminedResult: 'undeterminedResult',
  unknown: undefined,
} as const satisfies Record<RegionErrorVariant, WireVariantField | undefined>;

/** The wire form of a variant's payload (the generated errorpb input type). */
type WireOf<V extends RegionErrorVariant> = (typeof FIELDS)[V] extends WireVariantField
  ? NonNullable<WireRegionError[(typeof FIELDS)[V]]>
  : Record<string, never>;

interface VariantSpec<V extends RegionErrorVariant> {
  readonly code: RegionErrorCode;
  readonly toWire: (p: RegionErrorPayloads[V]) => WireOf<V>;
  readonly fromWire: (w: WireOf<V>) => RegionErrorPayloads[V];
  readonly describe: (p: RegionErrorPayloads[V]) => string;
}

const empty = (): Record<string, never> => ({});
const regionIdOnly = (what: string) => ({
  toWire: (p: { regionId: number }) => ({ regionId: p.regionId }),
  fromWire: (w: { regionId?: WireInt }) => ({ regionId: wireU64(w.regionId, `${what}.region_id`) }),
});

/** One entry per variant; the order is errorpb.Error's field order, used when decoding. */
const SPECS: { readonly [V in RegionErrorVariant]: VariantSpec<V> } = {
  notLeader: {
    code: RegionErrorCodes.NOT_LEADER,
    toWire: (p) => ({ regionId: p.regionId, leader: p.leader === undefined ? null : peerToWire(p.leader) }),
    fromWire: (w) => {
      const regionId = wireU64(w.regionId, 'NotLeader.region_id');
      return w.leader == null ? { regionId } : { regionId, leader: peerFromWire(w.leader) };
    },
    describe: (p) =>
      p.leader === undefined
        ? `region ${p.regionId}: not leader, leader unknown`
        : `region ${p.regionId}: not leader, leader is peer ${p.leader.id} on store ${p.leader.storeId}`,
  },
  regionNotFound: {
    code: RegionErrorCodes.REGION_NOT_FOUND,
    ...regionIdOnly('RegionNotFound'),
    describe: (p) => `region ${p.regionId} not found on this store`,
  },
  keyNotInRegion: {
    code: RegionErrorCodes.KEY_NOT_IN_REGION,
    toWire: (p) => ({ key: p.key, regionId: p.regionId, startKey: p.startKey, endKey: p.endKey }),
    fromWire: (w) => ({
      key: wireBytes(w.key),
      regionId: wireU64(w.regionId, 'KeyNotInRegion.region_id'),
      startKey: wireBytes(w.startKey),
      endKey: wireBytes(w.endKey),
    }),
    describe: (p) => `key (${p.key.length} bytes) is not in region ${p.regionId}`,
  },
  epochNotMatch: {
    code: RegionErrorCodes.EPOCH_NOT_MATCH,
    toWire: (p) => ({ currentRegions: p.currentRegions.map(regionToWire) }),
    fromWire: (w) => ({ currentRegions: (w.currentRegions ?? []).map(regionFromWire) }),
    describe: (p) =>
      `epoch not match; current regions: ${p.currentRegions
        .map((r) => `${r.id}(v${r.regionEpoch.version},c${r.regionEpoch.confVer})`)
        .join(', ')}`,
  },
  serverIsBusy: {
    code: RegionErrorCodes.SERVER_IS_BUSY,
    toWire: (p) => ({ reason: p.reason, backoffMs: p.backoffMs, estimatedWaitMs: p.estimatedWaitMs, appliedIndex: p.appliedIndex }),
    fromWire: (w) => ({
      reason: w.reason ?? '',
      backoffMs: wireU64(w.backoffMs, 'ServerIsBusy.backoff_ms'),
      estimatedWaitMs: wireU64(w.estimatedWaitMs, 'ServerIsBusy.estimated_wait_ms'),
      appliedIndex: wireU64(w.appliedIndex, 'ServerIsBusy.applied_index'),
    }),
    describe: (p) => `server is busy: ${p.reason}`,
  },
  staleCommand: {
    code: RegionErrorCodes.STALE_COMMAND,
    toWire: empty,
    fromWire: empty,
    describe: () => 'stale command',
  },
  storeNotMatch: {
    code: RegionErrorCodes.STORE_NOT_MATCH,
    toWire: (p) => ({ requestStoreId: p.requestStoreId, actualStoreId: p.actualStoreId }),
    fromWire: (w) => ({
      requestStoreId: wireU64(w.requestStoreId, 'StoreNotMatch.request_store_id'),
      actualStoreId: wireU64(w.actualStoreId, 'StoreNotMatch.actual_store_id'),
    }),
    describe: (p) => `request for store ${p.requestStoreId} reached store ${p.actualStoreId}`,
  },
  raftEntryTooLarge: {
    code: RegionErrorCodes.RAFT_ENTRY_TOO_LARGE,
    toWire: (p) => ({ regionId: p.regionId, entrySize: p.entrySize }),
    fromWire: (w) => ({
      regionId: wireU64(w.regionId, 'RaftEntryTooLarge.region_id'),
      entrySize: wireU64(w.entrySize, 'RaftEntryTooLarge.entry_size'),
    }),
    describe: (p) => `region ${p.regionId}: raft entry of ${p.entrySize} bytes is too large`,
  },
  maxTimestampNotSynced: {
    code: RegionErrorCodes.MAX_TIMESTAMP_NOT_SYNCED,
    toWire: empty,
    fromWire: empty,
    describe: () => 'max timestamp not synced',
  },
  readIndexNotReady: {
    code: RegionErrorCodes.READ_INDEX_NOT_READY,
    toWire: (p) => ({ reason: p.reason, regionId: p.regionId }),
    fromWire: (w) => ({ reason: w.reason ?? '', regionId: wireU64(w.regionId, 'ReadIndexNotReady.region_id') }),
    describe: (p) => `region ${p.regionId}: read index not ready (${p.reason})`,
  },
  proposalInMergingMode: {
    code: RegionErrorCodes.PROPOSAL_IN_MERGING_MODE,
    ...regionIdOnly('ProposalInMergingMode'),
    describe: (p) => `region ${p.regionId} is merging and refuses proposals`,
  },
  dataIsNotReady: {
    code: RegionErrorCodes.DATA_IS_NOT_READY,
    toWire: (p) => ({ regionId: p.regionId, peerId: p.peerId, safeTs: p.safeTs.toString() }),
    fromWire: (w) => ({
      regionId: wireU64(w.regionId, 'DataIsNotReady.region_id'),
      peerId: wireU64(w.peerId, 'DataIsNotReady.peer_id'),
      safeTs: wireU64Big(w.safeTs, 'DataIsNotReady.safe_ts'),
    }),
    describe: (p) => `region ${p.regionId}: data is not ready (safe ts ${p.safeTs})`,
  },
  regionNotInitialized: {
    code: RegionErrorCodes.REGION_NOT_INITIALIZED,
    ...regionIdOnly('RegionNotInitialized'),
    describe: (p) => `region ${p.regionId} is not initialized on this store`,
  },
  diskFull: {
    code: RegionErrorCodes.DISK_FULL,
    toWire: (p) => ({ storeId: p.storeIds, reason: p.reason }),
    fromWire: (w) => ({
      storeIds: (w.storeId ?? []).map((id) => wireU64(id, 'DiskFull.store_id')),
      reason: w.reason ?? '',
    }),
    describe: (p) => `disk full on stores [${p.storeIds.join(', ')}]: ${p.reason}`,
  },
  recoveryInProgress: {
    code: RegionErrorCodes.RECOVERY_IN_PROGRESS,
    ...regionIdOnly('RecoveryInProgress'),
    describe: (p) => `region ${p.regionId}: recovery in progress`,
  },
  flashbackInProgress: {
    code: RegionErrorCodes.FLASHBACK_IN_PROGRESS,
    toWire: (p) => ({ regionId: p.regionId, flashbackStartTs: p.flashbackStartTs.toString() }),
    fromWire: (w) => ({
      regionId: wireU64(w.regionId, 'FlashbackInProgress.region_id'),
      flashbackStartTs: wireU64Big(w.flashbackStartTs, 'FlashbackInProgress.flashback_start_ts'),
    }),
    describe: (p) => `region ${p.regionId}: flashback in progress`,
  },
  flashbackNotPrepared: {
    code: RegionErrorCodes.FLASHBACK_NOT_PREPARED,
    ...regionIdOnly('FlashbackNotPrepared'),
    describe: (p) => `region ${p.regionId}: flashback not prepared`,
  },
  isWitness: {
    code: RegionErrorCodes.IS_WITNESS,
    ...regionIdOnly('IsWitness'),
    describe: (p) => `region ${p.regionId}: peer is a witness`,
  },
  mismatchPeerId: {
    code: RegionErrorCodes.MISMATCH_PEER_ID,
    toWire: (p) => ({ requestPeerId: p.requestPeerId, storePeerId: p.storePeerId }),
    fromWire: (w) => ({
      requestPeerId: wireU64(w.requestPeerId, 'MismatchPeerId.request_peer_id'),
      storePeerId: wireU64(w.storePeerId, 'MismatchPeerId.store_peer_id'),
    }),
    describe: (p) => `request for peer ${p.requestPeerId} reached peer ${p.storePeerId}`,
  },
  bucketVersionNotMatch: {
    code: RegionErrorCodes.BUCKET_VERSION_NOT_MATCH,
    toWire: (p) => ({ version: p.version, keys: p.keys }),
    fromWire: (w) => ({
      version: wireU64(w.version, 'BucketVersionNotMatch.version'),
      keys: (w.keys ?? []).map((k) => wireBytes(k)),
    }),
    describe: (p) => `bucket version ${p.version} does not match`,
  },
  undeterminedResult: {
    code: RegionErrorCodes.UNDETERMINED_RESULT,
    toWire: (p) => ({ message: p.detail }),
    fromWire: (w) => ({ detail: w.message ?? '' }),
    describe: (p) => `undetermined result: ${p.detail}`,
  },
  unknown: {
    code: RegionErrorCodes.UNKNOWN,
    toWire: empty,
    fromWire: empty,
    describe: () => 'unknown region error',
  },
};

const VARIANTS = Object.keys(SPECS) as RegionErrorVariant[];
const CODE_TO_VARIANT = new Map<string, RegionErrorVariant>(VARIANTS.map((v) => [SPECS[v].code, v]));

export interface RegionErrorOptions {
  /** Overrides the default message built from the payload. */
  readonly message?: string;
  readonly cause?: unknown;
}

/**
 * Base class of every region error. `variant` names the errorpb variant, `payload` holds its
 * fields. `details` (for `toWire()` across threads) is `{ variant, payload }`.
 */
export class RegionError<V extends RegionErrorVariant = RegionErrorVariant> extends MrkvError<RegionErrorCode> {
  readonly variant: V;
  readonly payload: RegionErrorPayloads[V];

  constructor(variant: V, payload: RegionErrorPayloads[V], options: RegionErrorOptions = {}) {
    const spec = SPECS[variant] as VariantSpec<V>;
    super(spec.code, options.message ?? spec.describe(payload), {
      cause: options.cause,
      details: { variant, payload },
    });
    this.name = new.target.name;
    this.variant = variant;
    this.payload = payload;
  }
}

/* One class per variant, so call sites read like TiKV's and `instanceof` works in-process. */
export class NotLeaderError extends RegionError<'notLeader'> {
  constructor(p: RegionErrorPayloads['notLeader'], o?: RegionErrorOptions) { super('notLeader', p, o); }
}
export class RegionNotFoundError extends RegionError<'regionNotFound'> {
  constructor(p: RegionErrorPayloads['regionNotFound'], o?: RegionErrorOptions) { super('regionNotFound', p, o); }
}
export class KeyNotInRegionError extends RegionError<'keyNotInRegion'> {
  constructor(p: RegionErrorPayloads['keyNotInRegion'], o?: RegionErrorOptions) { super('keyNotInRegion', p, o); }
}
export class EpochNotMatchError extends RegionError<'epochNotMatch'> {
  constructor(p: RegionErrorPayloads['epochNotMatch'], o?: RegionErrorOptions) { super('epochNotMatch', p, o); }
}
export class ServerIsBusyError extends RegionError<'serverIsBusy'> {
  constructor(p: RegionErrorPayloads['serverIsBusy'], o?: RegionErrorOptions) { super('serverIsBusy', p, o); }
}
export class StaleCommandError extends RegionError<'staleCommand'> {
  constructor(o?: RegionErrorOptions) { super('staleCommand', {}, o); }
}
export class StoreNotMatchError extends RegionError<'storeNotMatch'> {
  constructor(p: RegionErrorPayloads['storeNotMatch'], o?: RegionErrorOptions) { super('storeNotMatch', p, o); }
}
export class RaftEntryTooLargeError extends RegionError<'raftEntryTooLarge'> {
  constructor(p: RegionErrorPayloads['raftEntryTooLarge'], o?: RegionErrorOptions) { super('raftEntryTooLarge', p, o); }
}
export class MaxTimestampNotSyncedError extends RegionError<'maxTimestampNotSynced'> {
  constructor(o?: RegionErrorOptions) { super('maxTimestampNotSynced', {}, o); }
}
export class ReadIndexNotReadyError extends RegionError<'readIndexNotReady'> {
  constructor(p: RegionErrorPayloads['readIndexNotReady'], o?: RegionErrorOptions) { super('readIndexNotReady', p, o); }
}
export class ProposalInMergingModeError extends RegionError<'proposalInMergingMode'> {
  constructor(p: RegionErrorPayloads['proposalInMergingMode'], o?: RegionErrorOptions) { super('proposalInMergingMode', p, o); }
}
export class DataIsNotReadyError extends RegionError<'dataIsNotReady'> {
  constructor(p: RegionErrorPayloads['dataIsNotReady'], o?: RegionErrorOptions) { super('dataIsNotReady', p, o); }
}
export class RegionNotInitializedError extends RegionError<'regionNotInitialized'> {
  constructor(p: RegionErrorPayloads['regionNotInitialized'], o?: RegionErrorOptions) { super('regionNotInitialized', p, o); }
}
export class DiskFullError extends RegionError<'diskFull'> {
  constructor(p: RegionErrorPayloads['diskFull'], o?: RegionErrorOptions) { super('diskFull', p, o); }
}
export class RecoveryInProgressError extends RegionError<'recoveryInProgress'> {
  constructor(p: RegionErrorPayloads['recoveryInProgress'], o?: RegionErrorOptions) { super('recoveryInProgress', p, o); }
}
export class FlashbackInProgressError extends RegionError<'flashbackInProgress'> {
  constructor(p: RegionErrorPayloads['flashbackInProgress'], o?: RegionErrorOptions) { super('flashbackInProgress', p, o); }
}
export class FlashbackNotPreparedError extends RegionError<'flashbackNotPrepared'> {
  constructor(p: RegionErrorPayloads['flashbackNotPrepared'], o?: RegionErrorOptions) { super('flashbackNotPrepared', p, o); }
}
export class IsWitnessError extends RegionError<'isWitness'> {
  constructor(p: RegionErrorPayloads['isWitness'], o?: RegionErrorOptions) { super('isWitness', p, o); }
}
export class MismatchPeerIdError extends RegionError<'mismatchPeerId'> {
  constructor(p: RegionErrorPayloads['mismatchPeerId'], o?: RegionErrorOptions) { super('mismatchPeerId', p, o); }
}
export class BucketVersionNotMatchError extends RegionError<'bucketVersionNotMatch'> {
  constructor(p: RegionErrorPayloads['bucketVersionNotMatch'], o?: RegionErrorOptions) { super('bucketVersionNotMatch', p, o); }
}
export class UndeterminedResultError extends RegionError<'undeterminedResult'> {
  constructor(p: RegionErrorPayloads['undeterminedResult'], o?: RegionErrorOptions) { super('undeterminedResult', p, o); }
}
export class UnknownRegionError extends RegionError<'unknown'> {
  constructor(o?: RegionErrorOptions) { super('unknown', {}, o); }
}

type RegionErrorFactories = {
  [V in RegionErrorVariant]: (p: RegionErrorPayloads[V], o: RegionErrorOptions) => RegionError<V>;
};

/** Constructors by variant, for the decoders below. */
const FACTORIES: RegionErrorFactories = {
  notLeader: (p, o) => new NotLeaderError(p, o),
  regionNotFound: (p, o) => new RegionNotFoundError(p, o),
  keyNotInRegion: (p, o) => new KeyNotInRegionError(p, o),
  epochNotMatch: (p, o) => new EpochNotMatchError(p, o),
  serverIsBusy: (p, o) => new ServerIsBusyError(p, o),
  staleCommand: (_p, o) => new StaleCommandError(o),
  storeNotMatch: (p, o) => new StoreNotMatchError(p, o),
  raftEntryTooLarge: (p, o) => new RaftEntryTooLargeError(p, o),
  maxTimestampNotSynced: (_p, o) => new MaxTimestampNotSyncedError(o),
  readIndexNotReady: (p, o) => new ReadIndexNotReadyError(p, o),
  proposalInMergingMode: (p, o) => new ProposalInMergingModeError(p, o),
  dataIsNotReady: (p, o) => new DataIsNotReadyError(p, o),
  regionNotInitialized: (p, o) => new RegionNotInitializedError(p, o),
  diskFull: (p, o) => new DiskFullError(p, o),
  recoveryInProgress: (p, o) => new RecoveryInProgressError(p, o),
  flashbackInProgress: (p, o) => new FlashbackInProgressError(p, o),
  flashbackNotPrepared: (p, o) => new FlashbackNotPreparedError(p, o),
  isWitness: (p, o) => new IsWitnessError(p, o),
  mismatchPeerId: (p, o) => new MismatchPeerIdError(p, o),
  bucketVersionNotMatch: (p, o) => new BucketVersionNotMatchError(p, o),
  undeterminedResult: (p, o) => new UndeterminedResultError(p, o),
  unknown: (_p, o) => new UnknownRegionError(o),
};

function construct<V extends RegionErrorVariant>(variant: V, payload: RegionErrorPayloads[V], message: string): RegionError<V> {
  return (FACTORIES[variant] as RegionErrorFactories[V])(payload, { message });
}

/** The errorpb.Error for `err`: its variant field (with payload) plus `message`. */
export function regionErrorToWire(err: RegionError): WireRegionError {
  const spec = SPECS[err.variant] as VariantSpec<RegionErrorVariant>;
  const field = FIELDS[err.variant];
  const wire: Record<string, unknown> = { message: err.message };
  if (field !== undefined) wire[field] = spec.toWire(err.payload);
  return wire as WireRegionError;
}

/**
 * The typed error for a decoded (or hand-built) errorpb.Error. The first variant set, in field
 * order, wins; none set gives an {@link UnknownRegionError}. Throws a ProtoError for payloads mrkv
 * cannot represent (ids beyond 2^53, regions without epochs).
 */
export function regionErrorFromWire(e: WireRegionError): RegionError {
  const message = e.message ?? '';
  for (const variant of VARIANTS) {
    const field = FIELDS[variant];
    if (field === undefined) continue;
    const w = e[field];
    if (w !== null && w !== undefined) return construct(variant, (SPECS[variant] as VariantSpec<RegionErrorVariant>).fromWire(w as never), message);
  }
  return construct('unknown', {}, message);
}

/** True for region errors, in-process. (After a structured clone, use {@link reviveRegionError}.) */
export function isRegionError(e: unknown): e is RegionError {
  return isMrkvError(e) && CODE_TO_VARIANT.has(e.code) && e instanceof RegionError;
}

/** True if `code` is one of {@link RegionErrorCodes}. */
export function isRegionErrorCode(code: string): code is RegionErrorCode {
  return CODE_TO_VARIANT.has(code);
}

/**
 * Rebuilds a region error from its `toWire()` form after it crossed a thread (class identity
 * does not survive structured clone). Returns undefined if `w` is not a region error's form.
 */
export function reviveRegionError(w: WireError): RegionError | undefined {
  const variant = CODE_TO_VARIANT.get(w.code);
  const details = w.details as { variant?: unknown; payload?: unknown } | undefined;
  if (variant === undefined || details?.variant !== variant || typeof details.payload !== 'object' || details.payload === null) {
    return undefined;
  }
  return construct(variant, details.payload as RegionErrorPayloads[typeof variant], w.message);
}
