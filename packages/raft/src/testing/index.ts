/**
 * @mrkv/raft/testing: helpers for tests and tools (as etcd ships `rafttest/`). Production code
 * never imports this.
 */
export { MemoryLogStorage } from './memory-storage.js';
export { SeededRng } from './rng.js';
export { TestNode } from './test-node.js';
export type { TestNodeOptions } from './test-node.js';
export { Network } from './network.js';
export { InteractionEnv } from './interaction/env.js';
export type { EnvNode, LogLevel } from './interaction/env.js';
export { handleCommand, COMMANDS } from './interaction/handle.js';
export { runScript } from './interaction/run-script.js';
export type { ScriptResult } from './interaction/run-script.js';
export { parseScript, rewriteScript, ScriptError } from './datadriven.js';
export type { ScriptCase, ScriptArg } from './datadriven.js';
export { ClusterSim, runSchedule } from './sim/cluster-sim.js';
export type { SimOptions, SimResult } from './sim/cluster-sim.js';
