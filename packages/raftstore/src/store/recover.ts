/**
 * Loading a store's regions at start (TiKV `StoreFsmDelegate::init` + `PeerStorage::new`).
 *
 * Every region state in the kv engine is read: tombstones are remembered (and any raft log they
 * left is removed); for each live region the apply state gives the applied index and the log's
 * truncated point, and the raft-log engine the hard state and the log, which is loaded into
 * memory from `truncated + 1`. Repairs of crash windows, each the result of a write order
 * chosen so it is safe:
 *   - no raft state (a region created by split or bootstrap whose raft write did not happen):
 *     the log starts at the truncated point with term = truncated term;
 *   - a log ending before the truncated point (a snapshot's data was written, its raft reset
 *     was not): the log restarts at the truncated point;
 *   - the hard state's commit below the applied index (cannot happen with synced raft writes,
 *     repaired defensively) is raised to it.
 */
import {
  applyStateKey,
  parseLocalKey,
  REGION_META_MAX_KEY,
  REGION_META_MIN_KEY,
  type KvEngine,
  type RaftLogEngine,
} from '@mrkv/engine';
import type { Entry, HardState } from '@mrkv/raft';
import { CommonCodes, MrkvError, type Logger } from '@mrkv/common';
import type { Region } from '@mrkv/proto';
import { decodeApplyState, decodeRegionState, type ApplyState, type MergeState } from '../wire/local-state.js';
import type { Tombstone } from './meta.js';

export interface RecoveredRegion {
  region: Region;
  applyState: ApplyState;
  appliedTerm: number;
  hardState: HardState;
  entries: Entry[];
  /** The raft log must be reset to the truncated point before the peer starts. */
  resetLog: boolean;
  /** Set when the region is the frozen source of a merge. */
  mergeState: MergeState | undefined;
}

export interface Recovered {
  regions: RecoveredRegion[];
  tombstones: Map<number, Tombstone>;
}

export async function recoverRegions(kv: KvEngine, raft: RaftLogEngine, storeId: number, logger: Logger): Promise<Recovered> {
  const pairs = await kv.scan({ start: REGION_META_MIN_KEY, end: REGION_META_MAX_KEY });
  const regions: RecoveredRegion[] = [];
  const tombstones = new Map<number, Tombstone>();
  const cleanup = raft.newBatch();
  for (const { key, value } of pairs) {
    const lk = parseLocalKey(key);
    if (lk.type !== 'regionState') continue;
    const st = decodeRegionState(value);
    const regionId = lk.regionId;
    const mine = st.region.peers.find((p) => p.storeId === storeId);
    if (st.state === 'Tombstone') {
      tombstones.set(regionId, { epoch: st.region.regionEpoch, peerId: mine?.id ?? 0 });
      if (raft.state(regionId) !== undefined) cleanup.removeRegion(regionId);
      continue;
    }
    if (mine === undefined) {
      throw new MrkvError(CommonCodes.INTERNAL, `region ${regionId} has no peer on store ${storeId}`, { details: { regionId, storeId } });
    }
    regions.push({ ...(await recoverOne(kv, raft, st.region, logger)), mergeState: st.mergeState });
  }
  if (!cleanup.isEmpty()) await raft.write(cleanup, { sync: true });
  return { regions, tombstones };
}

async function recoverOne(kv: KvEngine, raft: RaftLogEngine, region: Region, logger: Logger): Promise<Omit<RecoveredRegion, 'mergeState'>> {
  const id = region.id;
  const raw = await kv.get(applyStateKey(id));
  if (raw === undefined) throw new MrkvError(CommonCodes.INTERNAL, `region ${id} has a region state but no apply state`, { details: { regionId: id } });
  const applyState = decodeApplyState(raw);
  const trunc = { index: applyState.truncatedIndex, term: applyState.truncatedTerm };
  const rs = raft.state(id);
  let hardState: HardState = rs?.hardState ?? { term: trunc.term, vote: 0, commit: trunc.index };
  let entries: Entry[] = [];
  let resetLog = false;
  if (rs === undefined || rs.lastIndex < trunc.index + 1) {
    resetLog = rs === undefined || rs.lastIndex !== trunc.index || rs.lastTerm !== trunc.term;
  } else {
    if (rs.firstIndex > trunc.index + 1) {
      throw new MrkvError(CommonCodes.INTERNAL, `region ${id}: raft log starts at ${rs.firstIndex}, after the truncated point ${trunc.index}`, {
        details: { regionId: id, firstIndex: rs.firstIndex, truncatedIndex: trunc.index },
      });
    }
    const raw = await raft.entries(id, trunc.index + 1, rs.lastIndex + 1);
    entries = raw.map((e) => {
      const x: Entry = { entryType: e.entryType as Entry['entryType'], term: e.term, index: e.index, data: e.data };
      if (e.context !== undefined && e.context.length > 0) x.context = e.context;
      return x;
    });
  }
  if (hardState.term < trunc.term) hardState = { ...hardState, term: trunc.term };
  const last = entries.length > 0 ? entries[entries.length - 1]!.index : trunc.index;
  if (hardState.commit < applyState.appliedIndex) hardState = { ...hardState, commit: applyState.appliedIndex };
  if (hardState.commit > last) {
    logger.warn({ regionId: id, commit: hardState.commit, last }, 'commit index beyond the log; lowered');
    hardState = { ...hardState, commit: last };
  }
  let appliedTerm = trunc.term;
  if (applyState.appliedIndex > trunc.index) {
    const e = entries[applyState.appliedIndex - trunc.index - 1];
    if (e === undefined) {
      throw new MrkvError(CommonCodes.INTERNAL, `region ${id}: applied index ${applyState.appliedIndex} is beyond the raft log`, {
        details: { regionId: id, appliedIndex: applyState.appliedIndex },
      });
    }
    appliedTerm = e.term;
  }
  return { region, applyState, appliedTerm, hardState, entries, resetLog };
}
