/**
 * @mrkv/engine: everything mrkv persists goes through here — region data, apply and region
 * states in a kv engine, raft logs and hard states in raft-log engines — with two
 * implementations of one contract: RocksDB (stores) and memory (tests, the simulator).
 * See README.md for the key layout, the durability contract and the data-directory layout.
 */
export type {
  WriteBatch,
  WriteOptions,
  KeyRange,
  ScanOptions,
  KvPair,
  KvIterator,
  KvReader,
  KvSnapshot,
  RangeStats,
  KvEngine,
  RaftEntry,
  HardState,
  RaftLogState,
  RaftLogBatch,
  RaftLogEngine,
} from './traits/index.js';
export { EngineErrorCodes, EngineError } from './errors.js';
export type { EngineErrorCode } from './errors.js';
export {
  LOCAL_PREFIX,
  LOCAL_MIN_KEY,
  LOCAL_MAX_KEY,
  STORE_IDENT_KEY,
  PREPARE_BOOTSTRAP_KEY,
  RECOVER_STATE_KEY,
  REGION_RAFT_PREFIX,
  REGION_META_PREFIX,
  REGION_RAFT_MIN_KEY,
  REGION_RAFT_MAX_KEY,
  REGION_META_MIN_KEY,
  REGION_META_MAX_KEY,
  RAFT_LOG_SUFFIX,
  RAFT_STATE_SUFFIX,
  APPLY_STATE_SUFFIX,
  SNAPSHOT_RAFT_STATE_SUFFIX,
  REGION_STATE_SUFFIX,
  DATA_PREFIX,
  DATA_MIN_KEY,
  DATA_MAX_KEY,
  RAFT_LOG_KEY_LEN,
  REGION_STATE_KEY_LEN,
  raftLogKey,
  raftLogPrefix,
  raftLogRange,
  raftStateKey,
  applyStateKey,
  snapshotRaftStateKey,
  regionStateKey,
  regionRaftRange,
  dataKey,
  dataEndKey,
  isDataKey,
  originKey,
  parseLocalKey,
  regionIdOfRaftKey,
} from './keys.js';
export type { LocalKey } from './keys.js';
export { RESERVED_KEY_PREFIX } from './write-batch.js';
export { crc32c, crc32cUpdate } from './crc32c.js';
export {
  ENGINE_FORMAT,
  ENGINE_FORMAT_VERSION,
  FORMAT_FILE,
  LOCK_FILE,
  DB_DIR,
  EngineDir,
  writeFileAtomic,
  fsyncDir,
} from './data-dir.js';
export type { EngineKind, FormatMarker, EngineDirOptions } from './data-dir.js';
export { decodeEntry, decodeState, encodeEntry, encodeState, ENTRY_HEADER_LEN, STATE_HEADER_LEN } from './raftlog/record.js';
export type { StateRecord } from './raftlog/record.js';
export { KvRaftLogEngine } from './raftlog/raft-log-engine.js';
export type { RaftLogEngineOptions } from './raftlog/raft-log-engine.js';
export type { VerifyMode, RecoveryReport, DroppedRecords } from './raftlog/recovery.js';
export { RocksKvEngine, DEFAULT_ROCKS_TUNING } from './rocks/rocks-kv-engine.js';
export type { RocksEngineOptions, RocksTuning } from './rocks/rocks-kv-engine.js';
export { openRocksKvEngine, openRocksRaftLogEngine } from './rocks/open.js';
export { DiskFailpoints } from './rocks/failpoints.js';
export type { DiskFailpointSettings, CrashPoint, CrashAction } from './rocks/failpoints.js';
export type { RocksRaftLogEngineOptions } from './rocks/open.js';
export { MemoryDisk, MAX_UNSYNCED_VERSIONS } from './memory/memory-disk.js';
export type { WriteFault, WriteInfo } from './memory/memory-disk.js';
export { MemoryKvEngine } from './memory/memory-kv-engine.js';
export { openMemoryKvEngine, openMemoryRaftLogEngine } from './memory/open.js';
