/**
 * @mrkv/engine/testing: the engine conformance suite and fixtures, for tests only (production
 * code never imports this; it registers vitest tests). Any `KvEngine` or `RaftLogEngine`
 * implementation can be checked with `kvEngineContract(name, open)` /
 * `raftLogEngineContract(name, open)` from a `*.test.ts` file.
 */
export { kvEngineContract } from '../contract/kv-contract.js';
export { raftLogEngineContract, makeEntries } from '../contract/raft-log-contract.js';
export type { RaftLogContractOptions } from '../contract/raft-log-contract.js';
export { RaftLogModel, raftLogModelProperty } from '../contract/raft-log-model.js';
export { memoryKvFixture, memoryRaftLogFixture, rocksKvFixture, rocksRaftLogFixture, tempDir } from '../contract/fixture.js';
export type { EngineFixture, OpenFixture } from '../contract/fixture.js';
