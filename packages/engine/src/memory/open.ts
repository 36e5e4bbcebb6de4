/** Opening the memory engines on a `MemoryDisk`. */
import type { Logger } from '@mrkv/common';
import { KvRaftLogEngine } from '../raftlog/raft-log-engine.js';
import type { VerifyMode } from '../raftlog/recovery.js';
import { MemoryDisk } from './memory-disk.js';
import { MemoryKvEngine } from './memory-kv-engine.js';

/** Opens a memory kv engine on `disk` (a fresh one by default). */
export function openMemoryKvEngine(disk: MemoryDisk = new MemoryDisk()): MemoryKvEngine {
  return MemoryKvEngine.open(disk, { kind: 'kv' });
}

/**
 * Opens a memory raft-log engine on `disk` (a fresh one by default), recovering its logs exactly
 * as the RocksDB engine does: reopening after `disk.crash()` is how the simulator restarts a store.
 */
export async function openMemoryRaftLogEngine(
  disk: MemoryDisk = new MemoryDisk(),
  options: { verify?: VerifyMode; logger?: Logger } = {},
): Promise<KvRaftLogEngine> {
  return await KvRaftLogEngine.open(MemoryKvEngine.open(disk, { kind: 'raft' }), options);
}
