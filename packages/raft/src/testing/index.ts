/**
 * @mrkv/raft/testing: helpers for tests and tools (as etcd ships `rafttest/`). Production code
 * never imports this.
 */
export { MemoryLogStorage } from './memory-storage.js';
export { SeededRng } from './rng.js';
export { TestNode } from './test-node.js';
export type { TestNodeOptions } from './test-node.js';
export { Network } from './network.js';
