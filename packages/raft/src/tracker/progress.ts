/**
 * What the leader knows about one follower (etcd `tracker/progress.go`, design in etcd's
 * `design.md`): how far its log matches (`match`), what to send next (`next`), and the flow
 * control state:
 *
 * - **Probe**: we do not know where the follower's log matches ours. Send at most one MsgApp per
 *   heartbeat interval and wait for its answer, which either moves `next` back (reject with a
 *   hint) or establishes `match` and switches to Replicate.
 * - **Replicate**: the follower is known to match up to `match`; stream entries optimistically,
 *   advancing `next` as we send, bounded by the in-flight window.
 * - **Snapshot**: the entries the follower needs are compacted away; a snapshot is on its way and
 *   nothing else is sent until it is reported finished or failed.
 *
 * Invariant: 0 ≤ match < next.
 */
import { invariant } from '../errors.js';
import { Inflights } from './inflights.js';

export const ProgressState = { Probe: 0, Replicate: 1, Snapshot: 2 } as const;
export type ProgressState = (typeof ProgressState)[keyof typeof ProgressState];
const STATE_NAMES = ['StateProbe', 'StateReplicate', 'StateSnapshot'] as const;
/** "StateProbe", "StateReplicate" or "StateSnapshot". */
export function progressStateName(s: ProgressState): string {
  return STATE_NAMES[s];
}

export class Progress {
  /** Highest index known to be in the follower's log and matching ours. */
  match: number;
  /** Index of the next entry to send. */
  next: number;
  /**
   * Highest commit index sent to the follower (in MsgApp or MsgHeartbeat). Lets the leader send
   * a follower a fresh commit index when it may be missing one. Invariant: sentCommit < next.
   */
  sentCommit = 0;
  state: ProgressState = ProgressState.Probe;
  /**
   * In Snapshot state, the index of the snapshot being sent; the follower needs everything
   * after it. 0 otherwise.
   */
  pendingSnapshot = 0;
  /**
   * Whether we heard from the follower recently (reset on every CheckQuorum round). New
   * members start active so CheckQuorum does not count them as down before they had a chance.
   */
  recentActive = false;
  /**
   * Replication flow is paused: in Probe, a probe is outstanding; in Replicate, the window is
   * full. Cleared by an answer or a heartbeat response.
   */
  msgAppFlowPaused = false;
  /** The in-flight window (meaningful in Replicate). */
  inflights: Inflights;
  /** True when the follower is a learner (receives the log but does not vote). */
  isLearner: boolean;
  /**
   * Set by the application (`RawNode.holdAppends`): no MsgApp or snapshot goes to this follower
   * (heartbeats do). TiKV holds a follower whose disk is full this way. Survives state changes.
   */
  appendsHeld = false;

  constructor(match: number, next: number, inflights: Inflights, isLearner: boolean) {
    this.match = match;
    this.next = next;
    this.inflights = inflights;
    this.isLearner = isLearner;
  }

  /** An independent copy (the changer works on copies). */
  clone(): Progress {
    const p = new Progress(this.match, this.next, this.inflights.clone(), this.isLearner);
    p.sentCommit = this.sentCommit;
    p.state = this.state;
    p.pendingSnapshot = this.pendingSnapshot;
    p.recentActive = this.recentActive;
    p.msgAppFlowPaused = this.msgAppFlowPaused;
    p.appendsHeld = this.appendsHeld;
    return p;
  }

  private resetState(state: ProgressState): void {
    this.msgAppFlowPaused = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  /**
   * Back to probing. From Snapshot, probing starts after the snapshot we sent (the follower
   * applied it, or we learn otherwise from its answer).
   */
  becomeProbe(): void {
    if (this.state === ProgressState.Snapshot) {
      const pending = this.pendingSnapshot;
      this.resetState(ProgressState.Probe);
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState(ProgressState.Probe);
      this.next = this.match + 1;
    }
    this.sentCommit = Math.min(this.sentCommit, this.next - 1);
  }

  /** Optimistic streaming from `match + 1`. */
  becomeReplicate(): void {
    this.resetState(ProgressState.Replicate);
    this.next = this.match + 1;
  }

  /** A snapshot at `snapshotIndex` is being sent. */
  becomeSnapshot(snapshotIndex: number): void {
    this.resetState(ProgressState.Snapshot);
    this.pendingSnapshot = snapshotIndex;
    this.next = snapshotIndex + 1;
    this.sentCommit = snapshotIndex;
  }

  /**
   * Accounts for a MsgApp carrying `entries` entries of `bytes` payload bytes, sent from `next`.
   * In Replicate, `next` advances optimistically and the message joins the window; in Probe, any
   * non-empty probe pauses the flow until answered.
   */
  sentEntries(entries: number, bytes: number): void {
    if (this.state === ProgressState.Replicate) {
      if (entries > 0) {
        this.next += entries;
        this.inflights.add(this.next - 1, bytes);
      }
      this.msgAppFlowPaused = this.inflights.full();
    } else if (this.state === ProgressState.Probe) {
      if (entries > 0) this.msgAppFlowPaused = true;
    } else {
      invariant(false, 'sending entries in StateSnapshot', { next: this.next, pendingSnapshot: this.pendingSnapshot });
    }
  }

  /** True when a commit index of `index` would be news to the follower and it can take it. */
  canBumpCommit(index: number): boolean {
    // The follower can only commit entries it has (up to next - 1, which it receives or has).
    return index > this.sentCommit && this.sentCommit < this.next - 1;
  }

  /** Records that `commit` was sent to the follower. */
  sentCommitIndex(commit: number): void {
    this.sentCommit = commit;
  }

  /**
   * An acknowledgement up to `n`. Returns false for a stale one (n ≤ match). Unpauses the flow:
   * the answer frees the probe or part of the window.
   */
  maybeUpdate(n: number): boolean {
    if (n <= this.match) return false;
    this.match = n;
    if (this.next < n + 1) this.next = n + 1;
    this.msgAppFlowPaused = false;
    return true;
  }

  /**
   * A rejection of the MsgApp whose previous index was `rejected`; `matchHint` is the leader's
   * estimate (from the follower's hint) of the highest index where the logs may match. Returns
   * false for a stale rejection, which must be ignored.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === ProgressState.Replicate) {
      // Rejections of indexes we already know match are stale (reordered messages).
      if (rejected <= this.match) return false;
      // Directly fall back to the last known match; the caller switches to Probe.
      this.next = this.match + 1;
      this.sentCommit = Math.min(this.sentCommit, this.next - 1);
      return true;
    }
    // A snapshot is in flight: rejections of appends sent before it tell nothing new.
    if (this.state === ProgressState.Snapshot) return false;
    // In Probe, only the answer to the outstanding probe (at next - 1) counts.
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.sentCommit = Math.min(this.sentCommit, this.next - 1);
    this.msgAppFlowPaused = false;
    return true;
  }

  /** True when no MsgApp may be sent now (a heartbeat response may still trigger an empty one). */
  isPaused(): boolean {
    return this.state === ProgressState.Snapshot || this.msgAppFlowPaused || this.appendsHeld;
  }

  /** "StateReplicate match=5 next=6 …" for logs and traces. */
  toString(): string {
    let s = `${progressStateName(this.state)} match=${this.match} next=${this.next}`;
    if (this.isLearner) s += ' learner';
    if (this.msgAppFlowPaused) s += ' paused';
    if (this.appendsHeld) s += ' held';
    if (this.pendingSnapshot > 0) s += ` pendingSnap=${this.pendingSnapshot}`;
    if (!this.recentActive) s += ' inactive';
    if (this.inflights.count > 0) {
      s += ` inflight=${this.inflights.count}`;
      if (this.inflights.full()) s += '[full]';
    }
    return s;
  }
}
