/**
 * The engine contracts, and nothing else: no implementation lives here and nothing here imports
 * RocksDB (STYLE.md §1, like TiKV's `engine_traits`).
 */
export type { WriteBatch, WriteOptions } from './write-batch.js';
export type { KeyRange, ScanOptions, KvPair, KvIterator, KvReader, KvSnapshot, RangeStats, KvEngine } from './kv-engine.js';
export type { RaftEntry, HardState, RaftLogState, RaftLogBatch, RaftLogEngine } from './raft-log-engine.js';
