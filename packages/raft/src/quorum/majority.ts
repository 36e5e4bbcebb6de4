/**
 * Majority quorums (etcd `quorum/majority.go`): the commit index and the vote outcome of one
 * voter set. Pure functions over plain data: the voter set is a sorted array of ids, and the
 * acknowledgements come through a small indexer interface, so `quorum/` knows nothing of Progress.
 */

/** The outcome of an election so far (etcd's numbering). */
export const VoteResult = {
  /** Neither won nor lost yet: some voters have not answered. */
  Pending: 1,
  /** A quorum can no longer be reached. */
  Lost: 2,
  /** A quorum granted. */
  Won: 3,
} as const;
export type VoteResult = (typeof VoteResult)[keyof typeof VoteResult];

/** Answers "up to which index has `id` acknowledged the log?"; `undefined` for no answer yet. */
export interface AckedIndexer {
  ackedIndex(id: number): number | undefined;
}

/** Answers "how did `id` vote?"; `undefined` when it has not. A `Map<number, boolean>` is one. */
export interface VoteIndexer {
  get(id: number): boolean | undefined;
}

/** A voter set: sorted, duplicate-free ids. */
export type MajorityConfig = readonly number[];

// Scratch space for sorting acked indexes. Raft is synchronous and never re-enters this
// function, so one module-level buffer avoids an allocation per commit computation.
let scratch = new Float64Array(16);

/**
 * The largest index acknowledged by a majority of `voters`. Voters without an answer count as 0.
 * An empty config returns `Infinity` so that a joint config with an empty half behaves like its
 * other half.
 */
export function majorityCommittedIndex(voters: MajorityConfig, acked: AckedIndexer): number {
  const n = voters.length;
  if (n === 0) return Infinity;
  if (scratch.length < n) scratch = new Float64Array(n * 2);
  const srt = scratch;
  // Insertion sort while filling: n is small (typically 3 or 5).
  for (let i = 0; i < n; i++) {
    const v = acked.ackedIndex(voters[i]!) ?? 0;
    let j = i;
    while (j > 0 && srt[j - 1]! > v) {
      srt[j] = srt[j - 1]!;
      j--;
    }
    srt[j] = v;
  }
  // The largest index that n/2+1 voters have reached: count n/2+1 from the top.
  return srt[n - (Math.floor(n / 2) + 1)]!;
}

/** The vote outcome of `voters` given `votes`. An empty config wins (joint-config convenience). */
export function majorityVoteResult(voters: MajorityConfig, votes: VoteIndexer): VoteResult {
  if (voters.length === 0) return VoteResult.Won;
  let granted = 0;
  let missing = 0;
  for (let i = 0; i < voters.length; i++) {
    const v = votes.get(voters[i]!);
    if (v === undefined) missing++;
    else if (v) granted++;
  }
  const q = Math.floor(voters.length / 2) + 1;
  if (granted >= q) return VoteResult.Won;
  if (granted + missing >= q) return VoteResult.Pending;
  return VoteResult.Lost;
}

/** "(1 2 3)". */
export function describeMajority(voters: MajorityConfig): string {
  return `(${voters.join(' ')})`;
}
