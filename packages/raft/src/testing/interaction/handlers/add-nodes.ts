/**
 * add-nodes N [voters=(1,2,3)] [learners=(4)] [index=I] [async-storage-writes] [prevote]
 *   [checkquorum] [read-only=lease] [max-committed-size-per-ready=B] [max-inflight=K]
 *   [max-inflight-bytes=B] [max-size-per-msg=B] [max-uncommitted-size=B]
 *   [disable-proposal-forwarding] [step-down-on-removal=false] [election=10] [heartbeat=1]
 *   [log-terms=(1,1,2,...)] [term=T] [disable-conf-change-validation]
 *
 * Adds N nodes. With index > 0 each starts from a snapshot at (index, term 1) holding the given
 * configuration; otherwise from an empty log and configuration (to be filled by a snapshot).
 * `log-terms` appends uncommitted entries of those terms after the snapshot, and `term` sets the
 * stored term, to start from hand-made logs (Figure 7 of the Raft paper, say).
 */
import type { Config } from '../../../config.js';
import { EntryType, ReadOnlyOption, emptyConfState } from '../../../types.js';
import type { ScriptCase } from '../../datadriven.js';
import { ScriptError, argBool, argInt, argInts, argVal, positionalInts } from '../../datadriven.js';
import { MemoryLogStorage } from '../../memory-storage.js';
import type { InteractionEnv } from '../env.js';

export function handleAddNodes(env: InteractionEnv, c: ScriptCase): void {
  const [n] = positionalInts(c);
  if (n === undefined || n <= 0) throw new ScriptError(c.line, 'add-nodes needs a node count');
  const index = argInt(c, 'index', 0);
  const cs = { ...emptyConfState(), voters: argInts(c, 'voters'), learners: argInts(c, 'learners') };
  const readOnly = argVal(c, 'read-only');
  const cfg: Omit<Config, 'id' | 'rng' | 'logger'> = {
    electionTick: argInt(c, 'election', 10),
    heartbeatTick: argInt(c, 'heartbeat', 1),
    applied: index,
    maxSizePerMsg: argInt(c, 'max-size-per-msg', Number.MAX_SAFE_INTEGER),
    maxCommittedSizePerReady: argInt(c, 'max-committed-size-per-ready', Number.MAX_SAFE_INTEGER),
    maxUncommittedEntriesSize: argInt(c, 'max-uncommitted-size', Number.MAX_SAFE_INTEGER),
    maxInflightMsgs: argInt(c, 'max-inflight', 256),
    maxInflightBytes: argInt(c, 'max-inflight-bytes', Number.MAX_SAFE_INTEGER),
    preVote: argBool(c, 'prevote'),
    checkQuorum: argBool(c, 'checkquorum'),
    readOnlyOption: readOnly === 'lease' ? ReadOnlyOption.LeaseBased : ReadOnlyOption.Safe,
    disableProposalForwarding: argBool(c, 'disable-proposal-forwarding'),
    stepDownOnRemoval: argVal(c, 'step-down-on-removal') !== 'false',
    disableConfChangeValidation: argBool(c, 'disable-conf-change-validation'),
  };
  for (let i = 0; i < n; i++) {
    const storage = index > 0 ? MemoryLogStorage.bootstrap(cs, index, 1) : new MemoryLogStorage();
    const terms = argInts(c, 'log-terms');
    storage.append(terms.map((t, k) => ({ entryType: EntryType.EntryNormal, term: t, index: index + 1 + k, data: new Uint8Array(0) })));
    const term = argInt(c, 'term', 0);
    if (term > 0) storage.setHardState({ term, vote: 0, commit: index });
    env.addNode(storage, cfg, argBool(c, 'async-storage-writes'));
  }
}
