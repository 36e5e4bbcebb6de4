/**
 * Test helpers of the store service (`@mrkv/store-server/testing`): an in-memory `RawKvApi` with
 * a raftstore's region checks, a recording `RaftMessageSink`, a fake PD, and an in-memory
 * raftstore backend for process-level tests. Tests and tools import these; production code never
 * does.
 */
export { MemoryRawKv } from './memory-raw-kv.js';
export type { MemoryOp, MemoryHook, MemoryRawKvOptions } from './memory-raw-kv.js';
export { RecordingSink } from './recording-sink.js';
export type { ReceivedSnapshot, SnapshotPolicy, RecordingSinkOptions } from './recording-sink.js';
export { FakePd } from './fake-pd.js';
export { memoryBackend, MemoryBootstrapEngines } from './memory-backend.js';
export type { MemoryRaftstore } from './memory-backend.js';
export { startFakePdServer, fakePdCluster } from './fake-pd-server.js';
export type { FakePdCluster, FakePdServer } from './fake-pd-server.js';
