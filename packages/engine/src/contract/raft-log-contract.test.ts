import { memoryRaftLogFixture, rocksRaftLogFixture } from './fixture.js';
import { raftLogEngineContract } from './raft-log-contract.js';

raftLogEngineContract('memory', memoryRaftLogFixture, { propertyRuns: 150 });
raftLogEngineContract('rocksdb', rocksRaftLogFixture, { propertyRuns: 25 });
