/**
 * Writing a region's initial state (TiKV `store/bootstrap.rs`): the region state, an apply state
 * at index 5 / term 5 (RAFT_INIT_LOG_INDEX / TERM), and a raft log reset to that point with hard
 * state (5, no vote, commit 5). Used for the cluster's first region, and by test clusters that
 * start with a region replicated on several stores.
 */
import { applyStateKey, PREPARE_BOOTSTRAP_KEY, regionStateKey, type KvEngine, type RaftLogEngine } from '@mrkv/engine';
import { decodeMessage, encodeMessage, regionFromWire, regionToWire, type Region } from '@mrkv/proto';
import { RAFT_INIT_LOG_INDEX, RAFT_INIT_LOG_TERM } from '../apply/admin.js';
import { encodeApplyState, encodeRegionState } from '../wire/local-state.js';

/** Writes `region`'s initial states on this store (kv first, both synced). */
export async function writeInitialRegion(kv: KvEngine, raft: RaftLogEngine, region: Region, marker = false): Promise<void> {
  const wb = kv.newWriteBatch();
  wb.put(regionStateKey(region.id), encodeRegionState({ state: 'Normal', region }));
  wb.put(applyStateKey(region.id), encodeApplyState({ appliedIndex: RAFT_INIT_LOG_INDEX, truncatedIndex: RAFT_INIT_LOG_INDEX, truncatedTerm: RAFT_INIT_LOG_TERM }));
  if (marker) wb.put(PREPARE_BOOTSTRAP_KEY, encodeMessage('metapb.Region', regionToWire(region)));
  await kv.write(wb, { sync: true });
  const rb = raft.newBatch();
  rb.reset(region.id, RAFT_INIT_LOG_INDEX, RAFT_INIT_LOG_TERM);
  rb.setHardState(region.id, { term: RAFT_INIT_LOG_TERM, vote: 0, commit: RAFT_INIT_LOG_INDEX });
  await raft.write(rb, { sync: true });
}

/** The bootstrap helpers of the store process (services/store `BootstrapEngines`). */
export function bootstrapEngines(kv: KvEngine, raft: RaftLogEngine) {
  return {
    async preparedRegion(): Promise<Region | undefined> {
      const v = await kv.get(PREPARE_BOOTSTRAP_KEY);
      return v === undefined ? undefined : regionFromWire(decodeMessage('metapb.Region', v));
    },
    prepareBootstrap(region: Region): Promise<void> {
      return writeInitialRegion(kv, raft, region, true);
    },
    async clearPrepareBootstrap(): Promise<void> {
      await kv.write(kv.newWriteBatch().delete(PREPARE_BOOTSTRAP_KEY), { sync: true });
    },
    async clearPreparedRegion(region: Region): Promise<void> {
      const wb = kv.newWriteBatch().delete(PREPARE_BOOTSTRAP_KEY).delete(regionStateKey(region.id)).delete(applyStateKey(region.id));
      await kv.write(wb, { sync: true });
      await raft.write(raft.newBatch().removeRegion(region.id), { sync: true });
    },
  };
}
