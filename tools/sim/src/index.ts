/**
 * @mrkv/sim: the deterministic simulator of an mrkv cluster (`pnpm sim`). Runs a cluster of
 * in-process stores on virtual time under faults drawn from a seed, checks safety invariants
 * after every event, liveness after healing, and the client history for linearizability.
 * See README.md.
 */
export { runSimulation } from './run.js';
export type { RunResult, RunVerdict, RunHooks } from './run.js';
export { runSeeds, formatRun, summaryJson } from './report.js';
export type { Summary, RunSeedsOptions } from './report.js';
export { defaultOptions, validateOptions, drawPlan, describePlan, replayCommand, PROFILES, SIM_TIMING, ELECTION_MS, LEASE_DRIFT_BOUND } from './options.js';
export type { SimOptions, Profile } from './options.js';
export { InvariantChecker, entryDigest, chainNext } from './invariants.js';
export type { Violation, ChainTamper } from './invariants.js';
export { FAULT_KINDS } from './nemesis.js';
export type { FaultKind, FaultPlan, NetworkFaults } from './nemesis.js';
