import { kvEngineContract } from './kv-contract.js';
import { memoryKvFixture, rocksKvFixture } from './fixture.js';

kvEngineContract('memory', memoryKvFixture);
kvEngineContract('rocksdb', rocksKvFixture);
