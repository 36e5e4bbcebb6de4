/**
 * Replica consistency check (TiKV ComputeHash / VerifyHash). The leader proposes ComputeHash;
 * every replica, when it applies that entry, hashes its region's data as of that index (an
 * engine snapshot taken right after the entry is written, scanned off the apply round) and
 * remembers the hash. The leader then proposes VerifyHash with its own hash; every replica
 * compares at apply time, so all compare the same index. A mismatch is logged as an error,
 * counted, and kept on the peer for operators and tests.
 */
import { crc32cUpdate, dataEndKey, dataKey, type KvSnapshot } from '@mrkv/engine';
import type { Region } from '@mrkv/proto';

const EMPTY = new Uint8Array(0);

/** CRC-32C over the region's keys and values in order, plus the range (4 bytes, big-endian). */
export async function hashRegion(snap: KvSnapshot, region: Region): Promise<Uint8Array> {
  try {
    let crc = crc32cUpdate(0, region.startKey);
    crc = crc32cUpdate(crc, region.endKey);
    const it = snap.iterator({ start: dataKey(region.startKey), end: region.endKey.length === 0 ? dataEndKey(EMPTY) : dataKey(region.endKey) });
    for (let chunk = await it.nextChunk(); chunk.length > 0; chunk = await it.nextChunk()) {
      for (const kv of chunk) {
        crc = crc32cUpdate(crc, kv.key);
        crc = crc32cUpdate(crc, kv.value);
      }
    }
    const out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, crc >>> 0);
    return out;
  } finally {
    await snap.release();
  }
}
