/**
 * An in-process PD for raftstore tests and the simulator: allocates ids, records region
 * heartbeats and split reports, and lets a test push operators back to region leaders.
 */
import type { Region, Store } from '@mrkv/proto';
import { cloneRegion, newStore } from '@mrkv/proto';
import type { PdApi, PdHeartbeatResponse, PdOperator, RegionHeartbeat, StoreStats } from '../store/api.js';

export class InProcessPd {
  private nextId = 1000;
  readonly regions = new Map<number, Region>();
  readonly leaders = new Map<number, number>();
  readonly storeStats = new Map<number, StoreStats>();
  private readonly listeners = new Map<number, (r: PdHeartbeatResponse) => void>();

  allocId(): number {
    return ++this.nextId;
  }

  /** The PdApi a store with this id uses. */
  forStore(storeId: number): PdApi {
    return {
      storeHeartbeat: async (stats) => {
        this.storeStats.set(storeId, stats);
      },
      regionHeartbeat: (hb: RegionHeartbeat) => {
        const cur = this.regions.get(hb.region.id);
        if (cur === undefined || cur.regionEpoch.version <= hb.region.regionEpoch.version && cur.regionEpoch.confVer <= hb.region.regionEpoch.confVer) {
          this.regions.set(hb.region.id, cloneRegion(hb.region));
          this.leaders.set(hb.region.id, hb.leader.storeId);
        }
      },
      onHeartbeatResponse: (cb) => {
        this.listeners.set(storeId, cb);
      },
      askBatchSplit: async (region, count) => {
        const out: Array<{ newRegionId: number; newPeerIds: number[] }> = [];
        for (let i = 0; i < count; i++) out.push({ newRegionId: this.allocId(), newPeerIds: region.peers.map(() => this.allocId()) });
        return out;
      },
      reportBatchSplit: async (regions) => {
        for (const r of regions) this.regions.set(r.id, cloneRegion(r));
      },
      getStore: async (id): Promise<Store> => newStore(id, `store-${id}`, { peerAddress: `store-${id}`, version: 'test' }),
      allocId: async () => this.allocId(),
    };
  }

  /** Sends an operator to the store leading `region` (as a heartbeat response). */
  sendOperator(storeId: number, region: Region, operator: PdOperator): void {
    const cb = this.listeners.get(storeId);
    const leader = region.peers.find((p) => p.storeId === storeId);
    if (cb === undefined || leader === undefined) return;
    cb({ regionId: region.id, regionEpoch: region.regionEpoch, targetPeer: leader, operator });
  }
}
