/**
 * Applying committed entries (TiKV `fsm/apply.rs` `apply_raft_cmd`).
 *
 * Process overview, per entry:
 *   1. an entry at or below the applied index is a replay and skipped;
 *   2. an empty normal entry (a new leader's first entry) only moves the applied index;
 *   3. a command is checked again against the region as of this index — epoch (`version` for
 *      data, `version` and `conf_ver` for admin) and key range — so a command proposed before a
 *      split or membership change cannot write where the region no longer is; a failed check
 *      answers the proposal with the error and writes nothing;
 *   4. data commands go into the round's write batch (the overlay makes them readable for
 *      CompareAndSwap); admin commands are executed by admin.ts and make the batch synced;
 *   5. the proposal waiting on this (index, term) gets its answer once the batch is written;
 *      a proposal left behind by an entry of another term is answered StaleCommand.
 */
import { dataEndKey, dataKey, type WriteBatch } from '@mrkv/engine';
import { asV2, confChangeFromEntry, EntryType, type Entry } from '@mrkv/raft';
import { compareBytes } from '@mrkv/common';
import { EpochNotMatchError, KeyNotInRegionError, StaleCommandError, regionContainsKey, type Region } from '@mrkv/proto';
import type { CmdResult, ExecResult } from '../fsm/msgs.js';
import type { RawCasResult } from '../store/api.js';
import type { StoreContext } from '../store/context.js';
import { decodeRaftCmd, type DataRequest, type RaftCmd } from '../wire/raft-cmd.js';
import type { ApplyFsm } from './apply-fsm.js';
import { execAdmin, execConfChange } from './admin.js';
import type { WriteOverlay } from './overlay.js';
import { WAIT_FOR_SOURCE } from './merge.js';

/** The shared state of one apply round. */
export interface ApplyRound {
  wb: WriteBatch;
  sync: boolean;
  readonly overlay: WriteOverlay;
  /** Answers to fire once the batch is written. */
  done: Array<() => void>;
  /** FSMs whose apply state changed, with their admin results. */
  readonly touched: Map<ApplyFsm, ExecResult[]>;
  /** ComputeHash entries applied in this batch: hash the region once the batch is written. */
  readonly hashAt: Array<{ fsm: ApplyFsm; index: number }>;
}

const EMPTY = new Uint8Array(0);

/**
 * Applies one entry. Returns `WAIT_FOR_SOURCE` (and changes nothing) for a CommitMerge whose
 * local source replica has not caught up yet: the caller parks the FSM and retries later.
 */
/** What applying one entry gives: nothing, or that it must wait for a merge source. */
export type EntryOutcome = void | typeof WAIT_FOR_SOURCE;

/**
 * Applies one entry. Synchronous unless a CAS must read the engine (then a promise): entries
 * of puts, deletes and admin commands take no promise and no microtask hop each.
 */
export function applyEntry(fsm: ApplyFsm, ctx: StoreContext, round: ApplyRound, e: Entry): EntryOutcome | Promise<EntryOutcome> {
  if (e.index <= fsm.applyState.appliedIndex) return;
  if (!ctx.observers.empty) ctx.observers.preApply(fsm.regionId, e);
  const results = round.touched.get(fsm) ?? [];
  round.touched.set(fsm, results);
  let result: CmdResult | Promise<CmdResult> = { ok: true, responses: [] };
  if (e.entryType === EntryType.EntryNormal) {
    if (e.data.length > 0) {
      let cmd: RaftCmd | undefined;
      try {
        cmd = decodeRaftCmd(e.data);
      } catch (err) {
        fsm.logger.error({ err, index: e.index }, 'undecodable raft command skipped');
      }
      if (cmd !== undefined) {
        const r = cmd.admin !== undefined ? execAdmin(fsm, ctx, round, e, cmd, results) : execData(fsm, ctx, round, cmd);
        if (r === WAIT_FOR_SOURCE) return WAIT_FOR_SOURCE;
        result = r;
      }
    }
  } else {
    const cc = asV2(confChangeFromEntry(e));
    let cmd: RaftCmd | undefined;
    try {
      cmd = decodeRaftCmd(cc.context);
    } catch (err) {
      fsm.logger.error({ err, index: e.index }, 'conf change without a decodable command');
    }
    result = execConfChange(fsm, ctx, round, e, cc, cmd, results);
  }
  if (result instanceof Promise) return result.then((r) => finishEntry(fsm, ctx, round, e, r));
  finishEntry(fsm, ctx, round, e, result);
}

/** Records an entry as applied and queues the answer to its proposal. */
function finishEntry(fsm: ApplyFsm, ctx: StoreContext, round: ApplyRound, e: Entry, result: CmdResult): void {
  fsm.applyState.appliedIndex = e.index;
  fsm.appliedTerm = e.term;
  ctx.counters.appliedEntries++;
  if (!ctx.observers.empty) ctx.observers.postApply(fsm.regionId, e, result.ok);
  answer(fsm, round, e, result);
}

function answer(fsm: ApplyFsm, round: ApplyRound, e: Entry, result: CmdResult): void {
  const q = fsm.proposals;
  while (q.length > 0 && q[0]!.index <= e.index) {
    const p = q.shift()!;
    const r: CmdResult = p.index === e.index && p.term === e.term ? result : { ok: false, error: new StaleCommandError() };
    round.done.push(() => p.cb(r));
  }
  if (q.length > 0 && q[0]!.term < e.term) {
    const stale = q.filter((p) => p.term < e.term);
    fsm.proposals = q.filter((p) => p.term >= e.term);
    for (const p of stale) round.done.push(() => p.cb({ ok: false, error: new StaleCommandError() }));
  }
}

function epochError(fsm: ApplyFsm): EpochNotMatchError {
  return new EpochNotMatchError({ currentRegions: [fsm.region] });
}

function keyError(region: Region, key: Uint8Array): KeyNotInRegionError {
  return new KeyNotInRegionError({ key: Uint8Array.from(key), regionId: region.id, startKey: region.startKey, endKey: region.endKey });
}

/** Executes a data command: synchronously up to its first CAS (which may read the engine). */
function execData(fsm: ApplyFsm, ctx: StoreContext, round: ApplyRound, cmd: RaftCmd): CmdResult | Promise<CmdResult> {
  const region = fsm.region;
  if (cmd.header.epoch.version !== region.regionEpoch.version) return { ok: false, error: epochError(fsm) };
  for (const r of cmd.requests) {
    if (r.t !== 'deleteRange' && !regionContainsKey(region, r.key)) return { ok: false, error: keyError(region, r.key) };
  }
  const responses: Array<RawCasResult | undefined> = [];
  const requests = cmd.requests;
  for (let i = 0; i < requests.length; i++) {
    const r = requests[i]!;
    if (r.t === 'cas') return execDataFrom(region, ctx, round, requests, i, responses);
    execWrite(region, round, r);
    responses.push(undefined);
  }
  return { ok: true, responses };
}

/** The rest of a data command from its first CAS on, in order. */
async function execDataFrom(
  region: Region,
  ctx: StoreContext,
  round: ApplyRound,
  requests: readonly DataRequest[],
  from: number,
  responses: Array<RawCasResult | undefined>,
): Promise<CmdResult> {
  for (let i = from; i < requests.length; i++) {
    const r = requests[i]!;
    if (r.t === 'cas') {
      responses.push(await execCas(ctx, round, r));
    } else {
      execWrite(region, round, r);
      responses.push(undefined);
    }
  }
  return { ok: true, responses };
}

function execWrite(region: Region, round: ApplyRound, r: Exclude<DataRequest, { t: 'cas' }>): void {
  switch (r.t) {
    case 'put': {
      const k = dataKey(r.key);
      round.wb.put(k, r.value);
      round.overlay.put(k, r.value);
      return;
    }
    case 'delete': {
      const k = dataKey(r.key);
      round.wb.delete(k);
      round.overlay.delete(k);
      return;
    }
    case 'deleteRange': {
      const start = compareBytes(r.start, region.startKey) > 0 ? r.start : region.startKey;
      let end: Uint8Array | undefined = r.end.length > 0 ? r.end : undefined;
      if (region.endKey.length > 0 && (end === undefined || compareBytes(end, region.endKey) > 0)) end = region.endKey;
      const s = dataKey(start);
      const eKey = end === undefined ? dataEndKey(EMPTY) : dataKey(end);
      if (compareBytes(s, eKey) < 0) {
        round.wb.deleteRange(s, eKey);
        round.overlay.deleteRange(s, eKey);
      }
      return;
    }
  }
}

async function execCas(ctx: StoreContext, round: ApplyRound, r: Extract<DataRequest, { t: 'cas' }>): Promise<RawCasResult> {
  const k = dataKey(r.key);
  const o = round.overlay.get(k);
  const cur = o === undefined ? await ctx.kvEngine.get(k) : (o ?? undefined);
  const succeeded = cur === undefined ? r.previousNotExist : !r.previousNotExist && Buffer.compare(cur, r.previousValue) === 0;
  if (succeeded) {
    if (r.delete) {
      round.wb.delete(k);
      round.overlay.delete(k);
    } else {
      round.wb.put(k, r.value);
      round.overlay.put(k, r.value);
    }
  }
  return { succeeded, previousNotExist: cur === undefined, previousValue: cur === undefined ? EMPTY : Uint8Array.from(cur) };
}
