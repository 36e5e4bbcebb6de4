/**
 * The per-region states a store persists beside the data in the kv engine (kvproto
 * raft_serverpb, same encodings as TiKV): `RaftApplyState` (applied index and the truncated
 * log point) under `applyStateKey`, and `RegionLocalState` (the region and whether the peer is
 * Normal or a Tombstone) under `regionStateKey`. Snapshot data is `RaftSnapshotData`.
 */
import {
  decodeMessage,
  decodeRegionLocalState,
  encodeMessage,
  encodeRegionLocalState,
  regionFromWire,
  regionToWire,
  wireBytes,
  type Region,
} from '@mrkv/proto';
import { PbReader, PbWriter, Wire } from './pb.js';
import { crc32cUpdate } from '@mrkv/engine';
import { CommonCodes, MrkvError } from '@mrkv/common';

export interface ApplyState {
  appliedIndex: number;
  truncatedIndex: number;
  truncatedTerm: number;
}

export function encodeApplyState(s: ApplyState): Uint8Array {
  const w = new PbWriter(32);
  w.u64(1, s.appliedIndex);
  w.message(2, (t) => {
    t.u64(1, s.truncatedIndex);
    t.u64(2, s.truncatedTerm);
  });
  return w.finish();
}

export function decodeApplyState(bytes: Uint8Array): ApplyState {
  const r = new PbReader(bytes);
  const s: ApplyState = { appliedIndex: 0, truncatedIndex: 0, truncatedTerm: 0 };
  while (!r.done()) {
    const [f, wt] = r.tag();
    if (f === 1 && wt === Wire.VARINT) s.appliedIndex = r.varint();
    else if (f === 2 && wt === Wire.LEN) {
      const t = r.sub();
      while (!t.done()) {
        const [g, tt] = t.tag();
        if (g === 1 && tt === Wire.VARINT) s.truncatedIndex = t.varint();
        else if (g === 2 && tt === Wire.VARINT) s.truncatedTerm = t.varint();
        else t.skip(tt);
      }
    } else r.skip(wt);
  }
  return s;
}

export type PeerState = 'Normal' | 'Applying' | 'Tombstone' | 'Merging';

/** A source region frozen by PrepareMerge (raft_serverpb MergeState). */
export interface MergeState {
  minIndex: number;
  target: Region;
  /** Index of the PrepareMerge entry. */
  commit: number;
}

export interface RegionState {
  state: PeerState;
  region: Region;
  mergeState?: MergeState | undefined;
}

export function encodeRegionState(s: RegionState): Uint8Array {
  const m = s.mergeState;
  return encodeRegionLocalState({
    state: s.state,
    region: regionToWire(s.region),
    ...(m === undefined ? {} : { mergeState: { minIndex: m.minIndex, target: regionToWire(m.target), commit: m.commit } }),
  });
}

/** Decodes a RegionLocalState; throws a ProtoError on bytes that are not one. */
export function decodeRegionState(bytes: Uint8Array): RegionState {
  const w = decodeRegionLocalState(bytes);
  const state: PeerState = w.state === 'Tombstone' ? 'Tombstone' : w.state === 'Applying' ? 'Applying' : w.state === 'Merging' ? 'Merging' : 'Normal';
  if (w.region == null) throw new Error('RegionLocalState without a region');
  const ms = w.mergeState;
  const mergeState =
    state === 'Merging' && ms != null && ms.target != null
      ? { minIndex: Number(ms.minIndex), target: regionFromWire(ms.target), commit: Number(ms.commit) }
      : undefined;
  return { state, region: regionFromWire(w.region), mergeState };
}

export interface SnapshotData {
  region: Region;
  pairs: Array<{ key: Uint8Array; value: Uint8Array }>;
}

/** CRC-32C over every key and value, in order: the `default` cf file checksum of the snapshot. */
function pairsChecksum(pairs: ReadonlyArray<{ key: Uint8Array; value: Uint8Array }>): { size: number; checksum: number } {
  let crc = 0;
  let size = 0;
  for (const p of pairs) {
    crc = crc32cUpdate(crc, p.key);
    crc = crc32cUpdate(crc, p.value);
    size += p.key.length + p.value.length;
  }
  return { size, checksum: crc >>> 0 };
}

export function encodeSnapshotData(d: SnapshotData): Uint8Array {
  const { size, checksum } = pairsChecksum(d.pairs);
  return encodeMessage('raft_serverpb.RaftSnapshotData', {
    region: regionToWire(d.region),
    data: d.pairs,
    fileSize: size,
    version: 1,
    meta: { cfFiles: [{ cf: 'default', size, checksum }] },
  });
}

/**
 * Decodes snapshot data and verifies its size and checksum. Throws a `KV:Common:Corruption`
 * MrkvError for a snapshot whose data does not match (the leader is asked for a new one).
 */
export function decodeSnapshotData(bytes: Uint8Array): SnapshotData {
  const w = decodeMessage('raft_serverpb.RaftSnapshotData', bytes);
  if (w.region == null) throw new MrkvError(CommonCodes.INVALID_ARGUMENT, 'snapshot data without a region');
  const pairs = w.data.map((kv) => ({ key: wireBytes(kv.key), value: wireBytes(kv.value) }));
  const file = w.meta?.cfFiles.find((f) => f.cf === 'default');
  if (file === undefined) throw new MrkvError(CommonCodes.INVALID_ARGUMENT, 'snapshot data without a checksum');
  const { size, checksum } = pairsChecksum(pairs);
  if (Number(file.size) !== size || Number(file.checksum) >>> 0 !== checksum) {
    throw new MrkvError(CommonCodes.INVALID_ARGUMENT, `snapshot checksum mismatch (size ${size}/${String(file.size)}, crc ${checksum}/${String(file.checksum)})`, {
      details: { size, expectedSize: Number(file.size), checksum, expectedChecksum: Number(file.checksum) },
    });
  }
  return { region: regionFromWire(w.region), pairs };
}
