/**
 * Status reports (etcd `status.go`, raft-rs `Status`). `basicStatus()` is one small object and
 * cheap enough to call per poll round; `status()` adds the configuration and, on a leader, a
 * copy of every follower's Progress.
 */
import type { Raft } from './raft.js';
import type { ProgressState } from './tracker/progress.js';
import type { ConfState, StateRole } from './types.js';
import { StateRole as Role } from './types.js';

export interface BasicStatus {
  id: number;
  term: number;
  vote: number;
  commit: number;
  applied: number;
  /** The highest index known durable here. */
  persisted: number;
  lastIndex: number;
  lead: number;
  raftState: StateRole;
  /** Target of an ongoing leadership transfer, or 0. */
  leadTransferee: number;
  /** Index of the last conf change proposed by this leader (see Raft.pendingConfIndex). */
  pendingConfIndex: number;
  /** Payload bytes this leader appended and has not yet handed out as committed. */
  uncommittedSize: number;
  /** True when this node is a leader whose commit index is an entry of its own term. */
  committedEntryInCurrentTerm: boolean;
}

export interface ProgressStatus {
  match: number;
  next: number;
  state: ProgressState;
  recentActive: boolean;
  pendingSnapshot: number;
  isLearner: boolean;
  /** Whether sending is paused (probe outstanding, full window, or snapshot in flight). */
  paused: boolean;
  /** Messages in the in-flight window. */
  inflight: number;
}

export interface Status extends BasicStatus {
  config: ConfState;
  /** Every member's Progress; only a leader tracks it (empty otherwise). */
  progress: Map<number, ProgressStatus>;
}

export function basicStatusOf(r: Raft): BasicStatus {
  const leader = r.state === Role.Leader;
  return {
    id: r.id,
    term: r.term,
    vote: r.vote,
    commit: r.log.committed,
    applied: r.log.applied,
    persisted: r.log.persisted,
    lastIndex: r.log.lastIndex(),
    lead: r.lead,
    raftState: r.state,
    leadTransferee: r.leadTransferee,
    pendingConfIndex: r.pendingConfIndex,
    uncommittedSize: r.uncommittedSize,
    committedEntryInCurrentTerm: leader && r.committedEntryInCurrentTerm(),
  };
}

export function statusOf(r: Raft): Status {
  const progress = new Map<number, ProgressStatus>();
  if (r.state === Role.Leader) {
    const { ids, prs } = r.trk.progress;
    for (let i = 0; i < ids.length; i++) {
      const pr = prs[i]!;
      progress.set(ids[i]!, {
        match: pr.match,
        next: pr.next,
        state: pr.state,
        recentActive: pr.recentActive,
        pendingSnapshot: pr.pendingSnapshot,
        isLearner: pr.isLearner,
        paused: pr.isPaused(),
        inflight: pr.inflights.count,
      });
    }
  }
  return { ...basicStatusOf(r), config: r.trk.confState(), progress };
}
