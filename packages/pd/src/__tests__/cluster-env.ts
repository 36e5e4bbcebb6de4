/**
 * A PlacementDriver on a memory engine and a manual clock, bootstrapped with stores 1..n, plus
 * helpers to report heartbeats the way a store would.
 */
import { ManualClock } from '@mrkv/common';
import { openMemoryKvEngine } from '@mrkv/engine';
import type { Peer, Region } from '@mrkv/proto';
import type { KvEngine } from '@mrkv/engine';
import type { ScheduleConfig } from '../config.js';
import { PlacementDriver } from '../pd.js';
import type { RegionInfo } from '../core/region-info.js';
import type { StoreStats } from '../core/store-info.js';
import { info, peer, region, store } from './fixtures.js';

export const ZERO_STATS: StoreStats = {
  capacity: 100 << 30,
  available: 50 << 30,
  usedSize: 1 << 30,
  regionCount: 0,
  sendingSnapCount: 0,
  receivingSnapCount: 0,
  applyingSnapCount: 0,
  isBusy: false,
  bytesWritten: 0,
  keysWritten: 0,
  bytesRead: 0,
  keysRead: 0,
  startTime: 0,
};

export interface Env {
  pd: PlacementDriver;
  clock: ManualClock;
  engine: KvEngine;
  /** Per-store fields that `beatStores` reports over {@link ZERO_STATS} (disk space, for one). */
  readonly statsOverrides: Map<number, Partial<StoreStats>>;
  /** Heartbeats every Up store in `alive` (default all registered). */
  beatStores(alive?: number[]): void;
  /** Reports `r` as its leader would; resolves with the command PD answers. */
  beat(r: Region, extra?: Partial<RegionInfo> & { leader?: Peer }): ReturnType<PlacementDriver['regionHeartbeat']>;
}

/** PD bootstrapped with stores 1..n (region 1 ['', '') on store 1 until `regions` replace it). */
export async function clusterEnv(n: number, config: Partial<ScheduleConfig> = {}, engine: KvEngine = openMemoryKvEngine(), clock = new ManualClock(0, 1_700_000_000_000)): Promise<Env> {
  const pd = await PlacementDriver.open({ engine, clock, newClusterId: 42, configOverrides: { splitMergeIntervalMs: 0, ...config } });
  if (!pd.cluster.bootstrapped) {
    await pd.ids.alloc(1000); // fixtures use hand-picked ids below 1000, as a store allocates them first
    await pd.cluster.bootstrap(store(1), region(1, '', '', [peer(101, 1)]));
    for (let i = 2; i <= n; i++) await pd.cluster.putStore(store(i));
  }
  const env: Env = {
    pd,
    clock,
    engine,
    statsOverrides: new Map(),
    beatStores(alive) {
      for (const s of pd.cluster.allStores()) {
        if (alive !== undefined && !alive.includes(s.meta.id)) continue;
        if (s.meta.state === 'Tombstone') continue;
        pd.cluster.storeHeartbeat(s.meta.id, { ...ZERO_STATS, ...env.statsOverrides.get(s.meta.id) });
      }
    },
    beat(r, extra = {}) {
      return pd.regionHeartbeat({ ...info(r), term: 1, ...extra });
    },
  };
  return env;
}
