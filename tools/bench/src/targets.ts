/**
 * Bringing a target up for a run and down after it: connect to the given endpoints, or start what
 * is missing (a playground for mrkv, a 3-member etcd, a temporary RocksDB directory). The result
 * is a `TargetSpec` that workers open clients from.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertNever, type Logger } from '@mrkv/common';
import { startPlayground } from '@mrkv/playground';
import type { BenchOptions } from './args.js';
import { loadCreateRawClient, type TargetKind, type TargetSpec } from './drivers/index.js';
import { startEtcdCluster } from './etcd-cluster.js';

/** A target ready for load. */
export interface TargetSession {
  readonly spec: TargetSpec;
  /** Worker threads to drive it with. */
  readonly workers: number;
  /** Where it is, for the report (`given 127.0.0.1:2379`, `started 3 members …`). */
  readonly where: string;
  /** Stops what was started for the run and removes temporary data. */
  teardown(): Promise<void>;
}

/** Brings up (or connects to) target `kind`. */
export async function openTarget(kind: TargetKind, opts: BenchOptions, logger: Logger): Promise<TargetSession> {
  switch (kind) {
    case 'mrkv':
      return openMrkv(opts, logger);
    case 'etcd':
      return openEtcd(opts);
    case 'rocksdb':
      return openRocks(opts);
    default:
      return assertNever(kind, 'target kind');
  }
}

async function openMrkv(opts: BenchOptions, logger: Logger): Promise<TargetSession> {
  // Fail before starting a cluster if the client cannot be loaded at all.
  await loadCreateRawClient(opts.clientModule);
  if (opts.pd) {
    return {
      spec: { kind: 'mrkv', pdEndpoints: opts.pd, clientModule: opts.clientModule },
      workers: opts.workers,
      where: `PD ${opts.pd.join(',')}`,
      teardown: async () => {},
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'mrkv-bench-playground-'));
  logger.info({ dir }, `starting a playground (${opts.stores} stores, ${opts.regions} regions) in ${dir}`);
  try {
    // Next to the playground directory, which the playground clears when it starts.
    const storeArgs = opts.regionMaxSize === undefined ? [] : ['--config', writeStoreConfig(`${dir}-store.json`, opts.regionMaxSize)];
    const pg = await startPlayground({ stores: opts.stores, regions: opts.regions, dir, basePort: 0, clean: true, logger, storeArgs });
    return {
      spec: { kind: 'mrkv', pdEndpoints: [pg.pdAddress], clientModule: opts.clientModule },
      workers: opts.workers,
      where: `playground ${opts.stores} stores, PD ${pg.pdAddress}`,
      teardown: async () => {
        await pg.stop();
        rmSync(dir, { recursive: true, force: true });
        rmSync(`${dir}-store.json`, { force: true });
      },
    };
  } catch (e) {
    // Keep the directory: its logs/ explain the failure.
    logger.error({ dir }, `playground failed; its logs are in ${join(dir, 'logs')}`);
    throw e;
  }
}

/**
 * A store config file with small regions (for `--region-max-size`): split size two thirds of the
 * max (TiKV's ratio), a split check every 500 ms and PD heartbeats every second, so splits happen
 * and show in PD within a short run. Returns `path`.
 */
function writeStoreConfig(path: string, regionMaxSize: number): string {
  const raftstore = {
    'region-max-size': regionMaxSize,
    'region-split-size': Math.max(1, Math.floor((regionMaxSize * 2) / 3)),
    'split-region-check-tick-ms': 500,
    'pd-heartbeat-tick-ms': 1000,
  };
  writeFileSync(path, JSON.stringify({ raftstore }, null, 2) + '\n');
  return path;
}

async function openEtcd(opts: BenchOptions): Promise<TargetSession> {
  if (opts.etcd) {
    return { spec: { kind: 'etcd', endpoints: opts.etcd }, workers: opts.workers, where: `etcd ${opts.etcd.join(',')}`, teardown: async () => {} };
  }
  const cluster = await startEtcdCluster(3);
  return {
    spec: { kind: 'etcd', endpoints: cluster.endpoints },
    workers: opts.workers,
    where: `3 etcd members started on ${cluster.endpoints.join(',')}`,
    teardown: () => cluster.stop(),
  };
}

async function openRocks(opts: BenchOptions): Promise<TargetSession> {
  const temp = opts.rocksdbDir === undefined;
  const path = opts.rocksdbDir ?? mkdtempSync(join(tmpdir(), 'mrkv-bench-rocksdb-'));
  return {
    spec: { kind: 'rocksdb', path, sync: opts.rocksdbSync },
    // One thread owns a RocksDB (architecture §3).
    workers: 1,
    where: `RocksDB ${path}${opts.rocksdbSync ? ' (sync writes)' : ' (no fsync)'}`,
    teardown: async () => {
      if (temp) rmSync(path, { recursive: true, force: true });
    },
  };
}
