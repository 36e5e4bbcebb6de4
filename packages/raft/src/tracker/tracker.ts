/**
 * The ProgressTracker (etcd `tracker/tracker.go`): the active configuration, the Progress of
 * every member, and the votes of the current election. The configuration is plain data; the
 * quorum arithmetic comes from `quorum/`, and changes to it from `confchange/`.
 */
import type { ConfState } from '../types.js';
import type { JointConfig } from '../quorum/joint.js';
import { describeJoint, jointCommittedIndex, jointIds, jointVoteResult } from '../quorum/joint.js';
import { VoteResult } from '../quorum/majority.js';
import { ProgressMap } from './progress-map.js';
import { EMPTY_IDS } from './sorted-ids.js';

/** A membership configuration. All id lists are sorted and duplicate-free. */
export interface TrackerConfig {
  voters: JointConfig;
  /**
   * Leave the joint configuration automatically once it is applied. Only meaningful when joint.
   */
  autoLeave: boolean;
  /** Learners: receive the log, never vote. Invariant: disjoint from both voter halves. */
  learners: readonly number[];
  /**
   * Nodes to turn into learners when the joint configuration is left. They are voters in the
   * outgoing half now (demotions), so they cannot be learners yet. Empty when not joint.
   */
  learnersNext: readonly number[];
}

/** An empty configuration (no voters, no learners). */
export function emptyTrackerConfig(): TrackerConfig {
  return { voters: { incoming: EMPTY_IDS, outgoing: EMPTY_IDS }, autoLeave: false, learners: EMPTY_IDS, learnersNext: EMPTY_IDS };
}

/** True when the configuration is joint. */
export function isJoint(c: TrackerConfig): boolean {
  return c.voters.outgoing.length > 0;
}

/** "voters=(1 2 3)&&(1 2) learners=(4) learners_next=(5) autoleave". */
export function describeTrackerConfig(c: TrackerConfig): string {
  let s = `voters=${describeJoint(c.voters)}`;
  if (c.learners.length > 0) s += ` learners=(${c.learners.join(' ')})`;
  if (c.learnersNext.length > 0) s += ` learners_next=(${c.learnersNext.join(' ')})`;
  if (c.autoLeave) s += ' autoleave';
  return s;
}

/** Granted and rejected counts plus the outcome. */
export interface VoteTally {
  granted: number;
  rejected: number;
  result: VoteResult;
}

export class ProgressTracker {
  config: TrackerConfig = emptyTrackerConfig();
  progress: ProgressMap = new ProgressMap();
  /** Votes of the current election; created on the first vote. */
  private votes: Map<number, boolean> | null = null;

  constructor(
    /** Capacity of each follower's in-flight window. */
    readonly maxInflight: number,
    /** Byte bound of each follower's in-flight window (Infinity: none). */
    readonly maxInflightBytes: number,
  ) {}

  /** The configuration as an eraftpb ConfState. */
  confState(): ConfState {
    const c = this.config;
    return {
      voters: c.voters.incoming.slice(),
      learners: c.learners.slice(),
      votersOutgoing: c.voters.outgoing.slice(),
      learnersNext: c.learnersNext.slice(),
      autoLeave: c.autoLeave,
    };
  }

  /** True when the only voter is one node (commit and reads need nobody else). */
  isSingleton(): boolean {
    const v = this.config.voters;
    return v.incoming.length === 1 && v.outgoing.length === 0;
  }

  /** The largest index acknowledged by a quorum (joint-aware). */
  committed(): number {
    return jointCommittedIndex(this.config.voters, this.progress);
  }

  /** True when a quorum of voters was recently active; `selfId` counts as active. */
  quorumActive(selfId: number): boolean {
    const votes = new Map<number, boolean>();
    const { ids, prs } = this.progress;
    for (let i = 0; i < ids.length; i++) {
      const pr = prs[i]!;
      if (pr.isLearner) continue;
      votes.set(ids[i]!, ids[i] === selfId || pr.recentActive);
    }
    return jointVoteResult(this.config.voters, votes) === VoteResult.Won;
  }

  /** All voter ids (both halves), sorted. */
  voterIds(): number[] {
    return jointIds(this.config.voters);
  }

  /** True when `id` is a voter in either half of the configuration. */
  isVoter(id: number): boolean {
    const v = this.config.voters;
    return v.incoming.includes(id) || v.outgoing.includes(id);
  }

  /** Forgets the votes of the previous election. */
  resetVotes(): void {
    this.votes = null;
  }

  /** Records `id`'s vote; the first vote of a node wins (duplicates are ignored). */
  recordVote(id: number, granted: boolean): void {
    if (this.votes === null) this.votes = new Map();
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  /** Counts the votes of current voters and computes the outcome. */
  tallyVotes(): VoteTally {
    const votes = this.votes ?? new Map<number, boolean>();
    let granted = 0;
    let rejected = 0;
    const { ids, prs } = this.progress;
    for (let i = 0; i < ids.length; i++) {
      if (prs[i]!.isLearner) continue;
      const v = votes.get(ids[i]!);
      if (v === undefined) continue;
      if (v) granted++;
      else rejected++;
    }
    return { granted, rejected, result: jointVoteResult(this.config.voters, votes) };
  }

  /** The outcome of acks collected in `acks` for a ReadIndex round (safe mode). */
  voteResultOf(acks: Map<number, boolean>): VoteResult {
    return jointVoteResult(this.config.voters, acks);
  }
}

