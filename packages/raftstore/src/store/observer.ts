/**
 * Observer hooks (TiKV's coprocessor host, reduced): code outside the raftstore — the simulator's
 * invariant checks, metrics, future features such as CDC — registers observers and is called at
 * fixed points. Hooks run synchronously on the raftstore's thread and must be cheap; a hook that
 * throws is logged and ignored (except `prePropose`, whose error refuses the write).
 */
import type { Entry, StateRole } from '@mrkv/raft';
import type { Region } from '@mrkv/proto';
import type { Logger } from '@mrkv/common';
import type { DataRequest } from '../wire/raft-cmd.js';

export interface RaftstoreObserver {
  /** Before a write is queued for proposal; returning an Error refuses it with that error. */
  prePropose?(regionId: number, requests: readonly DataRequest[]): Error | undefined;
  /** Before an entry is applied (index and term are the entry's). */
  preApply?(regionId: number, entry: Entry): void;
  /** After an entry was applied into the round's batch (not yet written), with whether it took effect. */
  postApply?(regionId: number, entry: Entry, ok: boolean): void;
  /** A peer's raft role or leader changed. */
  onRoleChange?(regionId: number, peerId: number, role: StateRole, term: number, leaderId: number): void;
  /** A region was created, changed (membership, split, snapshot) or destroyed on this store. */
  onRegionChange?(region: Region, event: 'create' | 'update' | 'destroy'): void;
}

export class ObserverRegistry {
  private observers: RaftstoreObserver[] = [];

  constructor(private readonly logger: Logger) {}

  register(o: RaftstoreObserver): () => void {
    this.observers.push(o);
    return () => {
      this.observers = this.observers.filter((x) => x !== o);
    };
  }

  get empty(): boolean {
    return this.observers.length === 0;
  }

  prePropose(regionId: number, requests: readonly DataRequest[]): Error | undefined {
    for (const o of this.observers) {
      const err = o.prePropose?.(regionId, requests);
      if (err !== undefined) return err;
    }
    return undefined;
  }

  preApply(regionId: number, entry: Entry): void {
    for (const o of this.observers) this.safe(() => o.preApply?.(regionId, entry));
  }

  postApply(regionId: number, entry: Entry, ok: boolean): void {
    for (const o of this.observers) this.safe(() => o.postApply?.(regionId, entry, ok));
  }

  roleChange(regionId: number, peerId: number, role: StateRole, term: number, leaderId: number): void {
    for (const o of this.observers) this.safe(() => o.onRoleChange?.(regionId, peerId, role, term, leaderId));
  }

  regionChange(region: Region, event: 'create' | 'update' | 'destroy'): void {
    for (const o of this.observers) this.safe(() => o.onRegionChange?.(region, event));
  }

  private safe(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.logger.warn({ err }, 'raftstore observer failed');
    }
  }
}
