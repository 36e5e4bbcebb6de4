/**
 * Test helpers of the store service (`@mrkv/store-server/testing`): an in-memory `RawKvApi` with
 * a raftstore's region checks, and a recording `RaftMessageSink`. Tests and tools import these;
 * production code never does.
 */
export { MemoryRawKv } from './memory-raw-kv.js';
export type { MemoryOp, MemoryHook, MemoryRawKvOptions } from './memory-raw-kv.js';
export { RecordingSink } from './recording-sink.js';
export type { ReceivedSnapshot, SnapshotPolicy } from './recording-sink.js';
