/**
 * Simulator options, profiles, and the fault plan drawn from a seed.
 *
 * Everything random in a run comes from its seed: the plan (which faults, their parameters), the
 * scheduler's order of same-instant events, the network, the nemesis, every client's choices and
 * every store's election randomness. Options that are not drawn from the seed (cluster size,
 * regions, duration, …) are part of the replay command a failing run prints.
 */
import { CommonCodes, MrkvError, SeededRng } from '@mrkv/common';
import { FAULT_KINDS, type FaultKind, type FaultPlan, type NetworkFaults } from './nemesis.js';

/** Named sets of defaults. */
export const PROFILES = {
  /** CI: short safety phase, small cluster. */
  quick: { durationMs: 2_000, clients: 4, keys: 12, regions: 3 },
  /** Opt-in soak: ten times longer, more clients and keys. */
  long: { durationMs: 20_000, clients: 8, keys: 24, regions: 6 },
} as const;
export type Profile = keyof typeof PROFILES;

export interface SimOptions {
  readonly seed: number;
  readonly profile: Profile;
  /** Stores in the cluster (3 or 5). */
  readonly stores: number;
  /** Regions after the pre-split. */
  readonly regions: number;
  /** Virtual length of the safety phase in ms. */
  readonly durationMs: number;
  /** Optional cap on scheduler events of the safety phase (it ends at whichever comes first). */
  readonly maxSteps: number | undefined;
  readonly clients: number;
  readonly keys: number;
  /** Episodic fault kinds to draw from (undefined: drawn from the seed; [] none). */
  readonly faults: readonly FaultKind[] | undefined;
  /** The labelled mode with clock-rate skew beyond the lease's drift bound. */
  readonly clockBeyondBound: boolean;
  /** Run the sweep of invariants every this many scheduler events (1: after every event). */
  readonly checkEvery: number;
  /** After healing, every region must take a write within this many virtual ms (default: 2 maximal election timeouts). */
  readonly livenessBoundMs: number | undefined;
  /** Keep the whole event trace (for `--trace`). */
  readonly keepTrace: boolean;
}

/** Options of a profile with everything else defaulted. */
export function defaultOptions(seed: number, profile: Profile = 'quick'): SimOptions {
  const p = PROFILES[profile];
  return {
    seed,
    profile,
    stores: 3,
    regions: p.regions,
    durationMs: p.durationMs,
    maxSteps: undefined,
    clients: p.clients,
    keys: p.keys,
    faults: undefined,
    clockBeyondBound: false,
    checkEvery: 1,
    livenessBoundMs: undefined,
    keepTrace: false,
  };
}

/** Checks option ranges; throws `MrkvError(INVALID_ARGUMENT)` naming the option. */
export function validateOptions(o: SimOptions): void {
  const bad = (msg: string) => new MrkvError(CommonCodes.INVALID_ARGUMENT, msg);
  if (!Number.isSafeInteger(o.seed) || o.seed < 0) throw bad(`--seed must be a non-negative integer, got ${o.seed}`);
  if (o.stores !== 3 && o.stores !== 5) throw bad(`--stores must be 3 or 5, got ${o.stores}`);
  if (!Number.isInteger(o.keys) || o.keys < 1 || o.keys > 1000) throw bad(`--keys must be in [1, 1000], got ${o.keys}`);
  if (!Number.isInteger(o.regions) || o.regions < 1 || o.regions > o.keys) throw bad(`--regions must be in [1, keys=${o.keys}], got ${o.regions}`);
  if (!(o.durationMs > 0)) throw bad(`--duration must be positive, got ${o.durationMs}`);
  if (o.maxSteps !== undefined && !(o.maxSteps > 0)) throw bad(`--steps must be positive, got ${o.maxSteps}`);
  if (!Number.isInteger(o.clients) || o.clients < 1 || o.clients > 64) throw bad(`--clients must be in [1, 64], got ${o.clients}`);
  if (!Number.isInteger(o.checkEvery) || o.checkEvery < 1) throw bad(`--check-every must be a positive integer, got ${o.checkEvery}`);
  for (const f of o.faults ?? []) if (!(FAULT_KINDS as readonly string[]).includes(f)) throw bad(`unknown fault ${f}; known: ${FAULT_KINDS.join(', ')}`);
}

/** Cluster timing of every run (TiKV common-test.toml spirit): 20 ms ticks. */
export const SIM_TIMING = {
  raftBaseTickMs: 20,
  raftElectionTimeoutTicks: 10,
  raftHeartbeatTicks: 2,
  maxLeaderLeaseMs: 150,
  leaseReadMarginMs: 10,
} as const;

/** The election timeout (base) in ms. */
export const ELECTION_MS = SIM_TIMING.raftBaseTickMs * SIM_TIMING.raftElectionTimeoutTicks;

/**
 * The largest ratio of two stores' clock rates the lease tolerates: a leader's lease (its clock)
 * must end before any follower's election timeout (its ticks) can, so
 * `rate_follower / rate_leader < election / lease`.
 */
export const LEASE_DRIFT_BOUND = ELECTION_MS / SIM_TIMING.maxLeaderLeaseMs;

/** Draws the fault plan from the seed (and the options that constrain it). */
export function drawPlan(o: SimOptions): FaultPlan {
  const rng = new SeededRng(o.seed * 2_654_435_761 + 97);
  const kinds = o.faults ?? FAULT_KINDS.filter(() => rng.next() < 0.6);
  let network: NetworkFaults | undefined;
  if (rng.next() < 0.75) {
    network = {
      dropRate: round(rng.next() * 0.1),
      duplicateRate: round(rng.next() * 0.05),
      delayMs: round(rng.next() * 5),
      jitterMs: round(rng.next() * 25),
    };
  }
  const clockRates = new Map<number, number>();
  if (o.clockBeyondBound || rng.next() < 0.5) {
    // Within the bound: rates in [1−δ, 1+δ] with (1+δ)/(1−δ) at most 90% of the bound.
    const b = LEASE_DRIFT_BOUND * 0.9;
    const delta = o.clockBeyondBound ? 0.6 : (b - 1) / (b + 1);
    for (let id = 1; id <= o.stores; id++) clockRates.set(id, round(1 - delta + rng.next() * 2 * delta));
  }
  return { kinds, network, clockRates, clockBeyondBound: o.clockBeyondBound, gapMs: [50, 400], holdMs: [100, 1000] };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** A one-line description of a plan. */
export function describePlan(p: FaultPlan): string {
  const parts = [`faults=${p.kinds.length === 0 ? 'none' : p.kinds.join(',')}`];
  const n = p.network;
  parts.push(n === undefined ? 'net=clean' : `net=drop ${n.dropRate} dup ${n.duplicateRate} delay ${n.delayMs}+${n.jitterMs}ms`);
  parts.push(p.clockRates.size === 0 ? 'clocks=exact' : `clocks=${[...p.clockRates.values()].join('/')}${p.clockBeyondBound ? ' (BEYOND the lease drift bound)' : ''}`);
  return parts.join(' ');
}

/** The command that replays a run exactly. */
export function replayCommand(o: SimOptions): string {
  const d = defaultOptions(o.seed, o.profile);
  const args = [`pnpm sim --seed ${o.seed}`];
  if (o.profile !== 'quick') args.push(`--profile ${o.profile}`);
  if (o.stores !== d.stores) args.push(`--stores ${o.stores}`);
  if (o.regions !== d.regions) args.push(`--regions ${o.regions}`);
  if (o.durationMs !== d.durationMs) args.push(`--duration ${o.durationMs}`);
  if (o.maxSteps !== undefined) args.push(`--steps ${o.maxSteps}`);
  if (o.clients !== d.clients) args.push(`--clients ${o.clients}`);
  if (o.keys !== d.keys) args.push(`--keys ${o.keys}`);
  if (o.faults !== undefined) args.push(`--faults ${o.faults.length === 0 ? 'none' : o.faults.join(',')}`);
  if (o.clockBeyondBound) args.push('--clock-beyond-bound');
  if (o.checkEvery !== 1) args.push(`--check-every ${o.checkEvery}`);
  if (o.livenessBoundMs !== undefined) args.push(`--liveness-bound ${o.livenessBoundMs}`);
  return args.join(' ');
}
