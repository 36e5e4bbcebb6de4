/**
 * Builders of regions, stores and cluster states for PD unit tests.
 */
import { ManualClock } from '@mrkv/common';
import { openMemoryKvEngine } from '@mrkv/engine';
import { newStore, type Peer, type PeerRole, type Region, type Store } from '@mrkv/proto';
import { regionInfoFromMeta, type RegionInfo } from '../core/region-info.js';

/** `text` as bytes. */
export const k = (text: string): Uint8Array => new TextEncoder().encode(text);

/** A peer `id` on `storeId`. */
export function peer(id: number, storeId: number, role: PeerRole = 'Voter'): Peer {
  return { id, storeId, role };
}

/** A region with keys as text. */
export function region(id: number, start: string, end: string, peers: Peer[], version = 1, confVer = 1): Region {
  return { id, startKey: k(start), endKey: k(end), regionEpoch: { version, confVer }, peers };
}

/** A RegionInfo with a leader (the first peer by default) and optional stats. */
export function info(meta: Region, extra: Partial<RegionInfo> = {}): RegionInfo {
  return { ...regionInfoFromMeta(meta, meta.peers[0]), ...extra };
}

/** A store record. */
export function store(id: number, state: Store['state'] = 'Up'): Store {
  return newStore(id, `127.0.0.1:${20160 + id}`, { state, version: '0.1.0' });
}

/** A fresh memory engine and a manual clock. */
export function memoryEnv(): { engine: ReturnType<typeof openMemoryKvEngine>; clock: ManualClock } {
  return { engine: openMemoryKvEngine(), clock: new ManualClock(0, 1_700_000_000_000) };
}
