/**
 * Admin commands at apply time (TiKV `exec_admin_cmd`): membership changes (ChangePeerV2,
 * epoch `conf_ver` bump), CompactLog (the truncated point moves; the peer drops the log), and
 * BatchSplit (new regions, epoch `version` bump). Each writes the region state(s) into the
 * round's batch and makes it synced: a crash may not forget an admin command the raft log was
 * compacted or the peers were created for.
 */
import { applyStateKey, regionStateKey } from '@mrkv/engine';
import type { ConfChangeV2, Entry } from '@mrkv/raft';
import { compareBytes, MrkvError, CommonCodes } from '@mrkv/common';
import { cloneRegion, EpochNotMatchError, findPeer, regionContainsKey, type Peer, type Region } from '@mrkv/proto';
import type { CmdResult, ExecResult } from '../fsm/msgs.js';
import type { StoreContext } from '../store/context.js';
import { encodeApplyState, encodeRegionState } from '../wire/local-state.js';
import type { AdminCmd, PeerChange, RaftCmd } from '../wire/raft-cmd.js';
import type { ApplyFsm } from './apply-fsm.js';
import type { ApplyRound } from './apply.js';
import { execCommitMerge, execPrepareMerge, execRollbackMerge, WAIT_FOR_SOURCE } from './merge.js';

/** Index and term every region starts its log at (TiKV RAFT_INIT_LOG_INDEX / TERM). */
export const RAFT_INIT_LOG_INDEX = 5;
export const RAFT_INIT_LOG_TERM = 5;

function refuse(message: string): CmdResult {
  return { ok: false, error: new MrkvError(CommonCodes.INVALID_ARGUMENT, message) };
}

function epochMismatch(fsm: ApplyFsm, cmd: RaftCmd): boolean {
  const e = cmd.header.epoch;
  const cur = fsm.region.regionEpoch;
  return e.version !== cur.version || e.confVer !== cur.confVer;
}

export function execAdmin(fsm: ApplyFsm, ctx: StoreContext, round: ApplyRound, e: Entry, cmd: RaftCmd, results: ExecResult[]): CmdResult | typeof WAIT_FOR_SOURCE {
  const admin = cmd.admin as AdminCmd;
  round.sync = true;
  switch (admin.t) {
    case 'compactLog': {
      const st = fsm.applyState;
      if (admin.compactIndex <= st.truncatedIndex) return refuse(`log already compacted past ${admin.compactIndex}`);
      if (admin.compactIndex > st.appliedIndex + 1) return refuse(`cannot compact beyond the applied index`);
      st.truncatedIndex = admin.compactIndex;
      st.truncatedTerm = admin.compactTerm;
      results.push({ t: 'compactLog', index: admin.compactIndex, term: admin.compactTerm });
      return { ok: true, responses: [] };
    }
    case 'batchSplit':
      if (epochMismatch(fsm, cmd)) return { ok: false, error: new EpochNotMatchError({ currentRegions: [fsm.region] }) };
      return execBatchSplit(fsm, ctx, round, admin, results);
    case 'changePeerV2':
      return refuse(`membership change in a normal entry at ${e.index}`);
    case 'computeHash':
      round.hashAt.push({ fsm, index: e.index });
      return { ok: true, responses: [] };
    case 'verifyHash':
      results.push({ t: 'verifyHash', index: admin.index, hash: admin.hash });
      return { ok: true, responses: [] };
    case 'prepareMerge':
      if (epochMismatch(fsm, cmd)) return { ok: false, error: new EpochNotMatchError({ currentRegions: [fsm.region] }) };
      return execPrepareMerge(fsm, round, e, admin, results);
    case 'commitMerge':
      return execCommitMerge(fsm, ctx, round, cmd, admin, results);
    case 'rollbackMerge':
      return execRollbackMerge(fsm, round, admin, results);
  }
}

function execBatchSplit(fsm: ApplyFsm, ctx: StoreContext, round: ApplyRound, admin: Extract<AdminCmd, { t: 'batchSplit' }>, results: ExecResult[]): CmdResult {
  const parent = fsm.region;
  const keys = admin.splits.map((s) => s.splitKey);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (!regionContainsKey(parent, k) || compareBytes(k, parent.startKey) === 0) return refuse('split key outside the region');
    if (i > 0 && compareBytes(keys[i - 1]!, k) >= 0) return refuse('split keys not strictly increasing');
    if (admin.splits[i]!.newPeerIds.length !== parent.peers.length) return refuse('split peer ids do not match the peers');
  }
  const version = parent.regionEpoch.version + admin.splits.length;
  const bounds = [parent.startKey, ...keys, parent.endKey];
  const n = admin.splits.length;
  const regions: Region[] = [];
  let derived: Region | undefined;
  for (let i = 0; i <= n; i++) {
    const isDerived = admin.rightDerive ? i === n : i === 0;
    const spec = admin.rightDerive ? admin.splits[i] : admin.splits[i - 1];
    const r: Region = {
      id: isDerived ? parent.id : spec!.newRegionId,
      startKey: Uint8Array.from(bounds[i]!),
      endKey: Uint8Array.from(bounds[i + 1]!),
      regionEpoch: { confVer: parent.regionEpoch.confVer, version },
      peers: isDerived ? parent.peers.map((p) => ({ ...p })) : parent.peers.map((p, j) => ({ ...p, id: spec!.newPeerIds[j]! })),
    };
    regions.push(r);
    if (isDerived) derived = r;
  }
  for (const r of regions) {
    round.wb.put(regionStateKey(r.id), encodeRegionState({ state: 'Normal', region: r }));
    if (r.id !== parent.id && !ctx.meta.tombstones.has(r.id)) {
      round.wb.put(
        applyStateKey(r.id),
        encodeApplyState({ appliedIndex: RAFT_INIT_LOG_INDEX, truncatedIndex: RAFT_INIT_LOG_INDEX, truncatedTerm: RAFT_INIT_LOG_TERM }),
      );
    }
  }
  fsm.region = derived!;
  results.push({ t: 'split', regions, derived: derived! });
  return { ok: true, responses: [], regions };
}

/** Applies a membership change to the region (the raft side follows in the peer). */
export function execConfChange(
  fsm: ApplyFsm,
  _ctx: StoreContext,
  round: ApplyRound,
  e: Entry,
  cc: ConfChangeV2,
  cmd: RaftCmd | undefined,
  results: ExecResult[],
): CmdResult {
  round.sync = true;
  const admin = cmd?.admin;
  const changes: readonly PeerChange[] = admin?.t === 'changePeerV2' ? admin.changes : [];
  if (cmd !== undefined && epochMismatch(fsm, cmd)) {
    return { ok: false, error: new EpochNotMatchError({ currentRegions: [fsm.region] }) };
  }
  if (cc.changes.length !== changes.length) {
    return refuse(`conf change at ${e.index} does not match its command`);
  }
  const next = cloneRegion(fsm.region);
  const err = changes.length === 0 ? leaveJoint(next) : changes.length === 1 ? simpleChange(next, changes[0]!) : enterJoint(next, changes);
  if (err !== undefined) return refuse(err);
  next.regionEpoch = { ...next.regionEpoch, confVer: next.regionEpoch.confVer + Math.max(1, changes.length) };
  fsm.region = next;
  round.wb.put(regionStateKey(next.id), encodeRegionState({ state: 'Normal', region: next }));
  results.push({ t: 'confChange', index: e.index, cc, region: next });
  return { ok: true, responses: [], region: next };
}

function setRole(region: Region, peer: Peer, role: Peer['role']): void {
  const i = region.peers.findIndex((p) => p.id === peer.id);
  if (i >= 0) region.peers[i] = { ...region.peers[i]!, role };
  else region.peers.push({ id: peer.id, storeId: peer.storeId, role });
}

function simpleChange(region: Region, c: PeerChange): string | undefined {
  const cur = findPeer(region, c.peer.id);
  const onStore = region.peers.find((p) => p.storeId === c.peer.storeId && p.id !== c.peer.id);
  switch (c.changeType) {
    case 'AddNode':
      if (cur?.role === 'Voter') return `peer ${c.peer.id} is already a voter`;
      if (onStore !== undefined) return `store ${c.peer.storeId} already has peer ${onStore.id}`;
      setRole(region, c.peer, 'Voter');
      return undefined;
    case 'AddLearnerNode':
      if (cur !== undefined) return cur.role === 'Learner' ? `peer ${c.peer.id} is already a learner` : `demoting voter ${c.peer.id} needs a joint change`;
      if (onStore !== undefined) return `store ${c.peer.storeId} already has peer ${onStore.id}`;
      setRole(region, c.peer, 'Learner');
      return undefined;
    case 'RemoveNode':
      if (cur === undefined) return `peer ${c.peer.id} is not in the region`;
      region.peers = region.peers.filter((p) => p.id !== c.peer.id);
      return undefined;
  }
}

function enterJoint(region: Region, changes: readonly PeerChange[]): string | undefined {
  if (region.peers.some((p) => p.role === 'IncomingVoter' || p.role === 'DemotingVoter')) return 'region is already in a joint state';
  for (const c of changes) {
    const cur = findPeer(region, c.peer.id);
    switch (c.changeType) {
      case 'AddNode':
        if (cur?.role === 'Voter') return `peer ${c.peer.id} is already a voter`;
        setRole(region, c.peer, 'IncomingVoter');
        break;
      case 'AddLearnerNode':
        if (cur?.role === 'Learner') return `peer ${c.peer.id} is already a learner`;
        setRole(region, c.peer, cur?.role === 'Voter' ? 'DemotingVoter' : 'Learner');
        break;
      case 'RemoveNode':
        if (cur === undefined) return `peer ${c.peer.id} is not in the region`;
        if (cur.role === 'Voter') return `voter ${c.peer.id} must be demoted before it is removed in a joint change`;
        region.peers = region.peers.filter((p) => p.id !== c.peer.id);
        break;
    }
  }
  return undefined;
}

function leaveJoint(region: Region): string | undefined {
  if (!region.peers.some((p) => p.role === 'IncomingVoter' || p.role === 'DemotingVoter')) return 'region is not in a joint state';
  region.peers = region.peers.map((p) => (p.role === 'IncomingVoter' ? { ...p, role: 'Voter' } : p.role === 'DemotingVoter' ? { ...p, role: 'Learner' } : p));
  return undefined;
}
