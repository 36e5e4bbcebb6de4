/**
 * The apply system's poll handler (TiKV `ApplyPoller`): messages are collected per FSM while the
 * round is handled and executed at its end, in order, into ONE kv write batch with every touched
 * region's apply state; the batch is written (fsynced when it holds an admin command), and only
 * then are proposals answered and the peers told what was applied. Snapshot installation,
 * generation and destruction cut the batch: what came before is written first.
 */
import { applyStateKey, dataEndKey, dataKey, regionStateKey } from '@mrkv/engine';
import type { Snapshot } from '@mrkv/raft';
import { UndeterminedResultError } from '@mrkv/proto';
import type { PollHandler } from '../batch/poller.js';
import type { ApplyMsg } from '../fsm/msgs.js';
import { confStateFromRegion } from '../peer/conf-state.js';
import type { StoreContext } from '../store/context.js';
import { decodeSnapshotData, encodeApplyState, encodeRegionState, encodeSnapshotData } from '../wire/local-state.js';
import type { ApplyFsm } from './apply-fsm.js';
import { applyEntry, type ApplyRound, type EntryOutcome } from './apply.js';
import { WriteOverlay } from './overlay.js';
import { hashRegion } from './consistency.js';
import { WAIT_FOR_SOURCE } from './merge.js';

const EMPTY = new Uint8Array(0);

/** What is left of an `apply` from entry `i` on, to retry once a merge source caught up. */
function rest(msg: Extract<ApplyMsg, { type: 'apply' }>, i: number): ApplyMsg {
  return { type: 'apply', term: msg.term, entries: msg.entries.slice(i), proposals: [] };
}

export class ApplyPollHandler implements PollHandler<ApplyFsm, ApplyMsg, null, never> {
  private readonly round: ApplyRound;
  /** Merge targets parked until their source replica catches up. */
  private readonly waiting = new Set<ApplyFsm>();

  constructor(
    private readonly ctx: StoreContext,
    private readonly deregister: (regionId: number) => void,
  ) {
    this.round = { wb: ctx.kvEngine.newWriteBatch(), sync: false, overlay: new WriteOverlay(), done: [], touched: new Map(), hashAt: [] };
  }

  begin(): void {}

  handleControl(): void {}

  handleNormal(fsm: ApplyFsm, msgs: ApplyMsg[]): void {
    for (const m of msgs) fsm.pending.push(m);
  }

  async end(fsms: readonly ApplyFsm[]): Promise<void> {
    try {
      for (const fsm of fsms) {
        if (fsm.waitingFor !== undefined && !this.sourceReady(fsm)) continue;
        const msgs = fsm.pending;
        fsm.pending = [];
        for (let i = 0; i < msgs.length; i++) {
          const msg = msgs[i]!;
          if (fsm.destroyed) break;
          // A merged source applies nothing more; only its destruction is left to do.
          if (fsm.merged && msg.type !== 'destroy') continue;
          const handled = this.handle(fsm, msg);
          const parked = handled instanceof Promise ? await handled : handled;
          if (parked !== undefined) {
            fsm.pending = [parked, ...msgs.slice(i + 1), ...fsm.pending];
            this.waiting.add(fsm);
            break;
          }
        }
      }
      await this.flush();
    } catch (err) {
      this.ctx.fatal(err);
    }
  }

  /** Whether a CommitMerge's source replica caught up (or is gone); clears the wait. */
  private sourceReady(fsm: ApplyFsm): boolean {
    const w = fsm.waitingFor;
    if (w === undefined) return true;
    const p = this.ctx.applyProgress(w.sourceId);
    if (p !== undefined && p.appliedIndex < w.index) return false;
    fsm.waitingFor = undefined;
    this.waiting.delete(fsm);
    return true;
  }

  /**
   * Handles one message; returns the rest of an `apply` to retry when it must wait (merge).
   * An `apply` is handled synchronously while its entries need no engine read.
   */
  private handle(fsm: ApplyFsm, msg: ApplyMsg): ApplyMsg | undefined | Promise<ApplyMsg | undefined> {
    if (msg.type !== 'apply') return this.handleOther(fsm, msg);
    for (const p of msg.proposals) fsm.proposals.push(p);
    for (let i = 0; i < msg.entries.length; i++) {
      const outcome = applyEntry(fsm, this.ctx, this.round, msg.entries[i]!);
      if (outcome instanceof Promise || this.round.hashAt.length > 0) return this.continueApply(fsm, msg, i, outcome);
      if (outcome === WAIT_FOR_SOURCE) return rest(msg, i);
    }
    return undefined;
  }

  /** An `apply` from entry `i` on (whose outcome may still be pending), one entry at a time. */
  private async continueApply(fsm: ApplyFsm, msg: Extract<ApplyMsg, { type: 'apply' }>, i: number, outcome: EntryOutcome | Promise<EntryOutcome>): Promise<ApplyMsg | undefined> {
    for (;;) {
      if ((await outcome) === WAIT_FOR_SOURCE) return rest(msg, i);
      // ComputeHash: the hash covers exactly the data up to its index, so write what came
      // before (and the entry itself) and take the engine snapshot before applying more.
      if (this.round.hashAt.length > 0) await this.startHashes();
      if (++i >= msg.entries.length) return undefined;
      outcome = applyEntry(fsm, this.ctx, this.round, msg.entries[i]!);
    }
  }

  private async handleOther(fsm: ApplyFsm, msg: Exclude<ApplyMsg, { type: 'apply' }>): Promise<ApplyMsg | undefined> {
    switch (msg.type) {
      case 'resume':
        return undefined;
      case 'applySnapshot':
        await this.flush();
        await this.installSnapshot(fsm, msg.snapshot);
        return undefined;
      case 'genSnapshot':
        await this.flush();
        await this.generateSnapshot(fsm);
        return undefined;
      case 'destroy':
        await this.flush();
        await this.destroy(fsm, msg.keepData === true);
        msg.done();
        return undefined;
    }
  }

  /** Writes the batch with the apply states, then answers and reports. */
  private async flush(): Promise<void> {
    const r = this.round;
    if (r.touched.size === 0 && r.wb.isEmpty()) return;
    for (const fsm of r.touched.keys()) r.wb.put(applyStateKey(fsm.regionId), encodeApplyState(fsm.applyState));
    const wb = r.wb;
    const sync = r.sync;
    const done = r.done;
    const touched = [...r.touched];
    r.wb = this.ctx.kvEngine.newWriteBatch();
    r.sync = false;
    r.done = [];
    r.touched.clear();
    r.overlay.clear();
    await this.ctx.kvEngine.write(wb, { sync });
    this.ctx.counters.applyWrites++;
    for (const cb of done) cb();
    for (const [fsm, results] of touched) {
      this.ctx.sendPeer(fsm.regionId, { type: 'applyRes', appliedIndex: fsm.applyState.appliedIndex, appliedTerm: fsm.appliedTerm, results });
    }
    // Merge targets waiting for a source that has now caught up run again.
    for (const fsm of [...this.waiting]) if (this.sourceReady(fsm)) this.ctx.sendApply(fsm.regionId, { type: 'resume' });
  }

  private async startHashes(): Promise<void> {
    const jobs = this.round.hashAt.splice(0);
    await this.flush();
    for (const { fsm, index } of jobs) {
      const region = fsm.region;
      const snap = await this.ctx.kvEngine.snapshot();
      void hashRegion(snap, region).then(
        (hash) => this.ctx.sendPeer(fsm.regionId, { type: 'hashComputed', index, hash }),
        (err: unknown) => fsm.logger.warn({ err, index }, 'consistency hash failed'),
      );
    }
  }

  private async installSnapshot(fsm: ApplyFsm, snap: Snapshot): Promise<void> {
    const ctx = this.ctx;
    let region;
    const wb = ctx.kvEngine.newWriteBatch();
    try {
      const data = decodeSnapshotData(snap.data);
      region = data.region;
      const start = dataKey(region.startKey);
      const end = region.endKey.length === 0 ? dataEndKey(EMPTY) : dataKey(region.endKey);
      wb.deleteRange(start, end);
      for (const kv of data.pairs) wb.put(dataKey(kv.key), kv.value);
      fsm.applyState.appliedIndex = snap.metadata.index;
      fsm.applyState.truncatedIndex = snap.metadata.index;
      fsm.applyState.truncatedTerm = snap.metadata.term;
      fsm.appliedTerm = snap.metadata.term;
      wb.put(applyStateKey(fsm.regionId), encodeApplyState(fsm.applyState));
      wb.put(regionStateKey(fsm.regionId), encodeRegionState({ state: 'Normal', region }));
    } catch (err) {
      ctx.sendPeer(fsm.regionId, { type: 'snapshotApplied', region: undefined, error: err instanceof Error ? err : new Error(String(err)) });
      return;
    }
    // A failed write (a full disk) is fatal like every other engine write of the round (`end`
    // calls ctx.fatal): stopping only this peer left the store running with a peer that never
    // recovers, even after space returned (found by test/chaos disk-full-majority).
    await ctx.kvEngine.write(wb, { sync: true });
    fsm.region = region;
    const stale = fsm.proposals;
    fsm.proposals = [];
    // Their entries may be inside the snapshot: the outcome is unknown, not refused.
    for (const p of stale) p.cb({ ok: false, error: new UndeterminedResultError({ detail: 'a snapshot replaced the log the proposal was in' }) });
    ctx.sendPeer(fsm.regionId, { type: 'snapshotApplied', region });
  }

  private async generateSnapshot(fsm: ApplyFsm): Promise<void> {
    const ctx = this.ctx;
    const region = fsm.region;
    const metadata = { index: fsm.applyState.appliedIndex, term: fsm.appliedTerm, confState: confStateFromRegion(region) };
    let kvSnap: Awaited<ReturnType<typeof ctx.kvEngine.snapshot>>;
    try {
      kvSnap = await ctx.kvEngine.snapshot();
    } catch (err) {
      // The peer must hear back either way: it asks again (and raft log GC waits while it asks).
      fsm.logger.warn({ err }, 'snapshot generation failed');
      ctx.sendPeer(fsm.regionId, { type: 'snapshotGenerated', snapshot: undefined });
      return;
    }
    // The scan runs outside the round: the engine snapshot pins the data at the applied index.
    void (async () => {
      let snapshot: Snapshot | undefined;
      try {
        const start = dataKey(region.startKey);
        const end = region.endKey.length === 0 ? dataEndKey(EMPTY) : dataKey(region.endKey);
        const pairs: Array<{ key: Uint8Array; value: Uint8Array }> = [];
        const it = kvSnap.iterator({ start, end });
        for (let chunk = await it.nextChunk(); chunk.length > 0; chunk = await it.nextChunk()) {
          for (const kv of chunk) pairs.push({ key: kv.key.subarray(1), value: kv.value });
        }
        snapshot = { data: encodeSnapshotData({ region, pairs }), metadata };
      } catch (err) {
        fsm.logger.warn({ err }, 'snapshot generation failed');
      } finally {
        await kvSnap.release();
      }
      ctx.sendPeer(fsm.regionId, { type: 'snapshotGenerated', snapshot });
    })();
  }

  private async destroy(fsm: ApplyFsm, keepData: boolean): Promise<void> {
    const ctx = this.ctx;
    fsm.destroyed = true;
    if (keepData) {
      // A merged source: the target's batch already wrote its tombstone; the data is the target's.
      for (const p of fsm.proposals) p.cb({ ok: false, error: new UndeterminedResultError({ detail: 'the region was merged' }) });
      fsm.proposals = [];
      this.deregister(fsm.regionId);
      return;
    }
    const wb = ctx.kvEngine.newWriteBatch();
    const region = fsm.region;
    if (region.peers.length > 0 && ctx.meta.index.overlapping(region.startKey, region.endKey).length === 0) {
      const end = region.endKey.length === 0 ? dataEndKey(EMPTY) : dataKey(region.endKey);
      wb.deleteRange(dataKey(region.startKey), end);
    }
    wb.put(regionStateKey(fsm.regionId), encodeRegionState({ state: 'Tombstone', region }));
    wb.delete(applyStateKey(fsm.regionId));
    await ctx.kvEngine.write(wb, { sync: true });
    for (const p of fsm.proposals) p.cb({ ok: false, error: new UndeterminedResultError({ detail: 'the peer was destroyed' }) });
    fsm.proposals = [];
    this.deregister(fsm.regionId);
  }
}
