/**
 * Where a scatter puts a region (PD `RegionScatterer.scatterRegion`, pkg/schedule/scatter): the
 * pure choice of target stores and a target leader store, given how many peers and leaders the
 * scatter group already placed on each store.
 *
 * The choice, slot by slot for the region's `replicas` voters:
 * 1. among the candidate (Up) stores not chosen yet, take those with the fewest peers placed by
 *    the group;
 * 2. among those, prefer a store the region already has a peer on (a peer that can stay is a
 *    move saved: PD keeps the source store when it is among the least loaded);
 * 3. break what is still tied with the injected seeded `Rng` (never `Math.random`), so a seed
 *    replays the same placement and no store wins every tie by its id.
 * The leader goes to the chosen store with the fewest leaders placed by the group; ties prefer the
 * current leader's store (no transfer), then the `Rng`.
 *
 * Counting placements rather than the cluster's current load is what makes a group even: the
 * first regions of a pre-split all start on the same three stores, and the group steers each next
 * one to the stores it has used least so far.
 */
import type { Rng } from '@mrkv/common';

/** The stores a region's voters are on and the store of its leader. */
export interface ScatterPlacement {
  /** Store ids of the voters, ascending. */
  readonly stores: readonly number[];
  readonly leaderStore: number;
}

/**
 * Peers and leaders a scatter group has placed per store (PD `selectedStores`). Mutated only
 * through {@link ScatterGroup.place}.
 */
export class ScatterGroup {
  private readonly peers = new Map<number, number>();
  private readonly leaders = new Map<number, number>();
  /** Regions placed (scatter operators made or regions found in place). */
  placed = 0;

  constructor(
    /** The group's name ("" is the cluster-wide default group). */
    readonly name: string,
    /** Monotonic ms of the last use; idle groups are dropped (see RegionScatterer). */
    public lastUsedMs: number,
  ) {}

  /** Peers the group placed on `storeId`. */
  peerCount(storeId: number): number {
    return this.peers.get(storeId) ?? 0;
  }

  /** Leaders the group placed on `storeId`. */
  leaderCount(storeId: number): number {
    return this.leaders.get(storeId) ?? 0;
  }

  /** Counts `p` into the group. */
  place(p: ScatterPlacement): void {
    for (const s of p.stores) this.peers.set(s, this.peerCount(s) + 1);
    this.leaders.set(p.leaderStore, this.leaderCount(p.leaderStore) + 1);
    this.placed++;
  }
}

/** The members of `pool` with the least `score`. */
function leastBy(pool: readonly number[], score: (id: number) => number): number[] {
  let best = Number.POSITIVE_INFINITY;
  let out: number[] = [];
  for (const id of pool) {
    const s = score(id);
    if (s < best) {
      best = s;
      out = [id];
    } else if (s === best) out.push(id);
  }
  return out;
}

/** One of `tied`, preferring members of `keep`, the rest broken by `rng`. */
function pickTied(tied: readonly number[], keep: (id: number) => boolean, rng: Rng): number {
  const kept = tied.filter(keep);
  const pool = kept.length > 0 ? kept : tied;
  return pool[pool.length === 1 ? 0 : rng.nextInt(pool.length)]!;
}

/**
 * Where `group` wants a region now on `current` (module comment), over `candidates` (the Up
 * stores, in any order: they are sorted first so the result depends only on the seed). Returns
 * undefined when there are fewer candidates than `replicas`. Does not count the placement into the
 * group; the caller does once it commits to it.
 */
export function pickScatterPlacement(
  current: ScatterPlacement,
  candidates: readonly number[],
  replicas: number,
  group: ScatterGroup,
  rng: Rng,
): ScatterPlacement | undefined {
  const pool = [...new Set(candidates)].sort((a, b) => a - b);
  if (replicas < 1 || pool.length < replicas) return undefined;
  const had = new Set(current.stores);
  const chosen: number[] = [];
  for (let slot = 0; slot < replicas; slot++) {
    const left = pool.filter((s) => !chosen.includes(s));
    chosen.push(pickTied(leastBy(left, (s) => group.peerCount(s)), (s) => had.has(s), rng));
  }
  const leaderStore = pickTied(leastBy(chosen, (s) => group.leaderCount(s)), (s) => s === current.leaderStore, rng);
  return { stores: chosen.sort((a, b) => a - b), leaderStore };
}

/** True if `a` and `b` put the voters on the same stores and the leader on the same store. */
export function samePlacement(a: ScatterPlacement, b: ScatterPlacement): boolean {
  if (a.leaderStore !== b.leaderStore || a.stores.length !== b.stores.length) return false;
  const bs = new Set(b.stores);
  return a.stores.every((s) => bs.has(s));
}
