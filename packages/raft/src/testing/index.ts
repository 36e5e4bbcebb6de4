/**
 * @mrkv/raft/testing: helpers for tests and tools (as etcd ships `rafttest/`). Production code
 * never imports this.
 */
export { MemoryLogStorage } from './memory-storage.js';
