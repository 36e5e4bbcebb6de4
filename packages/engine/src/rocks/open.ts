/** Opening the RocksDB engines of a store. */
import { KvRaftLogEngine } from '../raftlog/raft-log-engine.js';
import type { VerifyMode } from '../raftlog/recovery.js';
import { RocksKvEngine, type RocksEngineOptions } from './rocks-kv-engine.js';

/** Opens (creating if needed) the kv engine in `options.path`. */
export function openRocksKvEngine(options: RocksEngineOptions): Promise<RocksKvEngine> {
  return RocksKvEngine.open(options);
}

export interface RocksRaftLogEngineOptions extends RocksEngineOptions {
  /** How much of the logs to verify at open: `full` (default: every record) or `tail`. */
  readonly verify?: VerifyMode | undefined;
}

/**
 * Opens (creating if needed) the raft-log engine in `options.path`, verifying the logs and
 * repairing torn tails (see recovery.ts). Fails with `KV:Engine:Corruption` on a damaged log.
 */
export async function openRocksRaftLogEngine(options: RocksRaftLogEngineOptions): Promise<KvRaftLogEngine> {
  const kv = await RocksKvEngine.openKind(options, 'raft');
  return KvRaftLogEngine.open(kv, { verify: options.verify, readOnly: options.readOnly, logger: kv.logger });
}
