/**
 * Joining a cluster, as TiKV does it (reference §6.5; `src/server/raft_server.rs`,
 * `store/bootstrap.rs`):
 *
 * 1. Store id (`ensureStoreId`): read the store ident; a new data directory gets an id from PD's
 *    AllocID and writes the ident. An ident from another cluster stops the store
 *    (StoreIdentMismatch); engine data without an ident stops it too (DataDirInconsistent).
 * 2. First region (`bootstrapCluster`): when PD is not bootstrapped, allocate a region id and a peer
 *    id, write the first region `["", "")` with epoch (1, 1) and one peer on this store through the
 *    engines (`prepareBootstrap`, which also leaves a marker), then call PD's Bootstrap. On
 *    success, or on ALREADY_BOOTSTRAPPED when PD's first region is ours (a retry after a crash),
 *    clear the marker; when another store won, delete the prepared region. A marker found at start
 *    means an earlier attempt was interrupted: resume with the prepared region.
 * 3. Registration (`registerStore`): PutStore with the advertised addresses and labels.
 *
 * PD calls are retried (`retry-interval-ms` × `retry-max-count`): PD may still be starting.
 */
import type { Logger } from '@mrkv/common';
import type { Region, Store } from '@mrkv/proto';
import { StoreError, StoreErrorCodes } from '../errors.js';
import type { StorePd } from './pd.js';
import type { DataDir } from './data-dir.js';
import { readStoreIdent, writeStoreIdent } from './store-ident.js';

/** The engine-side bootstrap helpers the raftstore provides (TiKV `store/bootstrap.rs`). */
export interface BootstrapEngines {
  /** The first region written by an earlier, interrupted bootstrap (the marker), if any. */
  preparedRegion(): Promise<Region | undefined>;
  /** Writes `region` with its initial raft, apply and region states, and the marker. */
  prepareBootstrap(region: Region): Promise<void>;
  /** PD accepted our region: removes the marker only. */
  clearPrepareBootstrap(): Promise<void>;
  /** Another store bootstrapped the cluster: removes the marker and the prepared region's state. */
  clearPreparedRegion(region: Region): Promise<void>;
}

/** Retry policy for startup PD calls. */
export interface RetryPolicy {
  readonly intervalMs: number;
  readonly maxCount: number;
  /** Waits `ms` (injectable for tests). */
  readonly sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs `fn` until it succeeds, at most `maxCount` times; errors in `fatal` are not retried. */
export async function withRetry<T>(what: string, policy: RetryPolicy, logger: Logger, fn: () => Promise<T>, fatal: readonly string[] = []): Promise<T> {
  const sleep = policy.sleep ?? defaultSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'string' && fatal.includes(code)) throw err;
      if (attempt >= policy.maxCount) {
        throw new StoreError(StoreErrorCodes.PD_FAILED, `${what} failed ${attempt} times: ${(err as Error).message}`, { cause: err, details: { what } });
      }
      logger.warn({ err, attempt, what }, 'PD call failed, retrying');
      await sleep(policy.intervalMs);
    }
  }
}

/** The store id for this data directory: from the ident, or newly allocated by PD and recorded. */
export async function ensureStoreId(dir: DataDir, pd: StorePd, retry: RetryPolicy, logger: Logger): Promise<{ storeId: number; isNew: boolean }> {
  const ident = readStoreIdent(dir.layout.storeIdent);
  if (ident !== undefined) {
    if (ident.clusterId !== pd.clusterId) {
      throw new StoreError(
        StoreErrorCodes.STORE_IDENT_MISMATCH,
        `data directory belongs to cluster ${ident.clusterId}, but PD is cluster ${pd.clusterId}`,
        { details: { identClusterId: ident.clusterId, pdClusterId: pd.clusterId, storeId: ident.storeId } },
      );
    }
    return { storeId: ident.storeId, isNew: false };
  }
  if (dir.hasEngineData()) {
    throw new StoreError(StoreErrorCodes.DATA_DIR_INCONSISTENT, `data directory ${dir.layout.root} holds engine data but no store ident`);
  }
  const storeId = await withRetry('AllocID', retry, logger, () => pd.allocId());
  writeStoreIdent(dir.layout.storeIdent, { clusterId: pd.clusterId, storeId });
  logger.info({ storeId, clusterId: pd.clusterId }, 'allocated store id');
  return { storeId, isNew: true };
}

/** How a bootstrap attempt ended. */
export type BootstrapOutcome = 'bootstrapped' | 'joined';

/** Bootstraps the cluster with this store's first region if PD says it is new (module comment, step 2). */
export async function bootstrapCluster(engines: BootstrapEngines, pd: StorePd, store: Store, retry: RetryPolicy, logger: Logger): Promise<BootstrapOutcome> {
  let first = await engines.preparedRegion();
  if (first === undefined) {
    if (await withRetry('IsBootstrapped', retry, logger, () => pd.isBootstrapped())) return 'joined';
    const regionId = await withRetry('AllocID', retry, logger, () => pd.allocId());
    const peerId = await withRetry('AllocID', retry, logger, () => pd.allocId());
    first = {
      id: regionId,
      startKey: new Uint8Array(),
      endKey: new Uint8Array(),
      regionEpoch: { confVer: 1, version: 1 },
      peers: [{ id: peerId, storeId: store.id, role: 'Voter' }],
    };
    await engines.prepareBootstrap(first);
    logger.info({ regionId, peerId }, 'prepared the first region');
  } else {
    logger.info({ regionId: first.id }, 'resuming an interrupted bootstrap');
  }
  const region = first;
  const outcome = await withRetry('Bootstrap', retry, logger, () => pd.bootstrapCluster(store, region));
  if (outcome === 'bootstrapped') {
    await engines.clearPrepareBootstrap();
    logger.info({ regionId: region.id }, 'bootstrapped the cluster');
    return 'bootstrapped';
  }
  const theirs = await withRetry('GetRegion', retry, logger, () => pd.getFirstRegion());
  if (theirs !== undefined && theirs.id === region.id && theirs.peers.some((p) => p.storeId === store.id)) {
    await engines.clearPrepareBootstrap();
    logger.info({ regionId: region.id }, 'cluster was bootstrapped with our region by an earlier attempt');
    return 'bootstrapped';
  }
  await engines.clearPreparedRegion(region);
  logger.info({ regionId: region.id }, 'cluster already bootstrapped by another store; dropped our prepared region');
  return 'joined';
}

/** Registers (or updates) the store with PD. A tombstone store cannot come back. */
export async function registerStore(pd: StorePd, store: Store, retry: RetryPolicy, logger: Logger): Promise<void> {
  await withRetry('PutStore', retry, logger, () => pd.putStore(store), [StoreErrorCodes.STORE_TOMBSTONE]);
  logger.info({ address: store.address, labels: store.labels }, 'registered with PD');
}
