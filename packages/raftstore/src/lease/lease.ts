/**
 * The leader lease (TiKV `store/util.rs::Lease`, reference §5.1).
 *
 * A leader may serve reads from its local state while `now < bound`, where
 * `bound = send_ts + max_lease` and `send_ts` is read on the monotonic clock BEFORE sending the
 * message whose quorum acknowledgement proves leadership (a proposal of this term, a read-index
 * heartbeat round, or the moment it became leader — safe because local reads also require an
 * applied entry of the current term).
 *
 * Why it is safe: with CheckQuorum, a follower that heard from the leader within the election
 * timeout rejects votes and pre-votes, so no other leader can be elected before
 * `send_ts + election_timeout` on the followers' clocks. `max_lease ≤ election_timeout − margin`
 * leaves the margin for clock-rate drift and stalls. Clocks need not agree, only tick at about the
 * same rate.
 *
 * States: Valid (serve locally), Expired (use ReadIndex), Suspect (a leader transfer is in flight
 * or a PrepareMerge committed: use ReadIndex and propose to regain a valid lease).
 */

export const LeaseState = { Valid: 'valid', Expired: 'expired', Suspect: 'suspect' } as const;
export type LeaseState = (typeof LeaseState)[keyof typeof LeaseState];

type Bound = { readonly kind: 'valid' | 'suspect'; readonly ts: number } | undefined;

export class Lease {
  private bound: Bound = undefined;
  /** The bound last published to readers on other threads (see `LeaseTable`). */
  private remoteBound = 0;
  /** How far the published bound may lag behind the real one (TiKV: max_lease / 3). */
  readonly maxDrift: number;

  constructor(readonly maxLeaseMs: number) {
    this.maxDrift = maxLeaseMs / 3;
  }

  /** The lease state at monotonic time `ts`. */
  inspect(ts: number): LeaseState {
    const b = this.bound;
    if (b === undefined) return LeaseState.Expired;
    if (b.kind === 'suspect') return LeaseState.Suspect;
    return ts < b.ts ? LeaseState.Valid : LeaseState.Expired;
  }

  /** Extends the lease to `sendTs + maxLease` (never shortens a valid one). */
  renew(sendTs: number): void {
    const next = sendTs + this.maxLeaseMs;
    const b = this.bound;
    if (b === undefined) this.bound = { kind: 'valid', ts: next };
    else if (b.kind === 'suspect') {
      if (b.ts <= next) this.bound = { kind: 'valid', ts: next };
    } else if (b.ts < next) this.bound = { kind: 'valid', ts: next };
  }

  /** Marks the lease suspect until a renewal past `sendTs + maxLease`. */
  suspect(sendTs: number): void {
    this.bound = { kind: 'suspect', ts: sendTs + this.maxLeaseMs };
  }

  /** Ends the lease (step-down, removal). */
  expire(): void {
    this.bound = undefined;
  }

  /** The valid bound, or 0 when not valid (suspect or expired). */
  validBound(): number {
    const b = this.bound;
    return b !== undefined && b.kind === 'valid' ? b.ts : 0;
  }

  /**
   * The bound to publish to other threads now, or undefined when the published one is close
   * enough (within `maxDrift`) — publishing on every renewal would flood the table writers.
   * A shrink (suspect, expire) is always published.
   */
  publishable(): number | undefined {
    const b = this.validBound();
    if (b < this.remoteBound || b - this.remoteBound > this.maxDrift || (b === 0) !== (this.remoteBound === 0)) {
      this.remoteBound = b;
      return b;
    }
    return undefined;
  }
}
