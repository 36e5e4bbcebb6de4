/**
 * Rebuilding a configuration from a ConfState (etcd `confchange/restore.go`), used when a node
 * starts from storage and when it applies a snapshot. The ConfState is replayed as a series of
 * changes from the empty configuration, so the result passes through the same checks as live
 * changes. Example: voters=(1 2 3) learners=(5) outgoing=(1 2 4 6) learners_next=(4) becomes
 *
 *   simple: add 1; add 2; add 4; add 6          → voters=(1 2 4 6)
 *   enterJoint: remove 1 2 4 6; add 1 2 3;
 *               add-learner 5; add-learner 4    → voters=(1 2 3)&&(1 2 4 6) learners=(5) learners_next=(4)
 */
import type { ConfChangeSingle, ConfState } from '../types.js';
import { ConfChangeType } from '../types.js';
import type { ProgressTracker } from '../tracker/tracker.js';
import type { ChangeResult } from './changer.js';
import { Changer } from './changer.js';

function toConfChangeSingles(cs: ConfState): { outgoing: ConfChangeSingle[]; incoming: ConfChangeSingle[] } {
  const outgoing: ConfChangeSingle[] = [];
  const incoming: ConfChangeSingle[] = [];
  for (const id of cs.votersOutgoing) outgoing.push({ changeType: ConfChangeType.AddNode, nodeId: id });
  for (const id of cs.votersOutgoing) incoming.push({ changeType: ConfChangeType.RemoveNode, nodeId: id });
  for (const id of cs.voters) incoming.push({ changeType: ConfChangeType.AddNode, nodeId: id });
  for (const id of cs.learners) incoming.push({ changeType: ConfChangeType.AddLearnerNode, nodeId: id });
  // Staged learners: voters of the outgoing half that become learners when it is left.
  for (const id of cs.learnersNext) incoming.push({ changeType: ConfChangeType.AddLearnerNode, nodeId: id });
  return { outgoing, incoming };
}

type TrackerView = Pick<ProgressTracker, 'config' | 'progress' | 'maxInflight' | 'maxInflightBytes'>;

/**
 * The configuration described by `cs`, built on top of `tracker` (which must be empty).
 * Throws RaftError(CONF_CHANGE_ERROR) when `cs` is not a valid configuration.
 */
export function restoreConfig(tracker: TrackerView, lastIndex: number, cs: ConfState): ChangeResult {
  const { outgoing, incoming } = toConfChangeSingles(cs);
  let cur: TrackerView = tracker;
  let result: ChangeResult = { config: tracker.config, progress: tracker.progress };
  const step = (f: (c: Changer) => ChangeResult): void => {
    result = f(new Changer(cur, lastIndex));
    cur = { ...cur, config: result.config, progress: result.progress };
  };
  if (outgoing.length === 0) {
    for (const cc of incoming) step((c) => c.simple([cc]));
  } else {
    // Build the outgoing half as a simple config first, then enter the joint state, which
    // copies it to the outgoing half and applies the incoming changes.
    for (const cc of outgoing) step((c) => c.simple([cc]));
    step((c) => c.enterJoint(cs.autoLeave, incoming));
  }
  return result;
}
