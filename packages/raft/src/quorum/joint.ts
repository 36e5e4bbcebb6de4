/**
 * Joint quorums (etcd `quorum/joint.go`, Raft thesis §4.3): during a membership change a decision
 * needs a majority of the incoming AND of the outgoing voter set. When not joint, `outgoing` is
 * empty and everything reduces to the incoming majority.
 */
import type { AckedIndexer, MajorityConfig, VoteIndexer } from './majority.js';
import { VoteResult, describeMajority, majorityCommittedIndex, majorityVoteResult } from './majority.js';

/** Two voter sets; `outgoing` is empty unless a joint configuration is in effect. */
export interface JointConfig {
  incoming: MajorityConfig;
  outgoing: MajorityConfig;
}

/** The largest index committed by both halves. */
export function jointCommittedIndex(c: JointConfig, acked: AckedIndexer): number {
  const a = majorityCommittedIndex(c.incoming, acked);
  const b = majorityCommittedIndex(c.outgoing, acked);
  return a < b ? a : b;
}

/** Won when both halves won, Lost when either lost, Pending otherwise. */
export function jointVoteResult(c: JointConfig, votes: VoteIndexer): VoteResult {
  const r1 = majorityVoteResult(c.incoming, votes);
  const r2 = majorityVoteResult(c.outgoing, votes);
  if (r1 === r2) return r1;
  if (r1 === VoteResult.Lost || r2 === VoteResult.Lost) return VoteResult.Lost;
  return VoteResult.Pending;
}

/** The sorted union of both halves' ids. */
export function jointIds(c: JointConfig): number[] {
  if (c.outgoing.length === 0) return c.incoming.slice();
  const set = new Set<number>(c.incoming);
  for (const id of c.outgoing) set.add(id);
  return [...set].sort((a, b) => a - b);
}

/** True when `id` is a voter in either half. */
export function jointContains(c: JointConfig, id: number): boolean {
  return c.incoming.includes(id) || c.outgoing.includes(id);
}

/** "(1 2 3)" or "(1 2 3)&&(1 2)". */
export function describeJoint(c: JointConfig): string {
  const s = describeMajority(c.incoming);
  return c.outgoing.length === 0 ? s : `${s}&&${describeMajority(c.outgoing)}`;
}
