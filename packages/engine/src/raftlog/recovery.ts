/**
 * Opening a raft-log engine: rebuild every region's in-memory index from its state record and
 * check the log against it. This is where the durability contract is enforced.
 *
 * Each append writes the region's entries and its state record (with the new last index) in one
 * atomic batch, so the state's `lastIndex` is the end of what was acknowledged. At open:
 *
 * - a log key beyond `lastIndex` is a torn or unacknowledged write: it is deleted (with one
 *   synced write) and reported — it never was part of the durable log;
 * - a log key below `firstIndex` is left over from compaction: deleted and reported;
 * - a missing entry in `[firstIndex, lastIndex]`, a record at or below `lastIndex` that fails
 *   its checksum or disagrees with the state's terms, log entries with no state record, or an
 *   unreadable state record is corruption: open fails with `KV:Engine:Corruption`, naming the
 *   region, the index and the directory. Nothing is ever truncated silently.
 *
 * Two depths: `full` (default) reads and verifies every record, as TiKV's raft-engine checks
 * every log file at startup, so a damaged record anywhere refuses the open; `tail` scans the keys
 * of every log once (no values) and verifies only the record at each region's last index (damage
 * further back is then found when the entry is read: `entries()` fails with the same error).
 */
import type { Logger } from '@mrkv/common';
import { EngineError, EngineErrorCodes } from '../errors.js';
import { REGION_RAFT_MAX_KEY, REGION_RAFT_MIN_KEY, parseLocalKey, raftLogKey, raftStateKey } from '../keys.js';
import type { KvEngine } from '../traits/index.js';
import { OpWriteBatch } from '../write-batch.js';
import { decodeEntry, decodeState } from './record.js';
import { RegionLog } from './region-log.js';

/** Keys read per multi-get at open. */
const MULTI_GET_BATCH = 1024;

/** How much of the logs to verify at open. */
export type VerifyMode = 'tail' | 'full';

/** Records found beyond a region's durable last index (or below its first index) and removed. */
export interface DroppedRecords {
  readonly regionId: number;
  /** The state's last index (for `torn`) or first index (for `belowFirst`). */
  readonly boundary: number;
  readonly fromIndex: number;
  readonly toIndex: number;
  readonly count: number;
}

/** What an open found and did. */
export interface RecoveryReport {
  readonly mode: VerifyMode;
  readonly regions: number;
  /** Log entries held, in total. */
  readonly entries: number;
  /** Entry records whose checksum was verified. */
  readonly verifiedRecords: number;
  /** Torn tails: records beyond the durable last index (deleted unless read-only). */
  readonly torn: readonly DroppedRecords[];
  /** Stale records below the first index (deleted unless read-only). */
  readonly belowFirst: readonly DroppedRecords[];
  /** Keys in the raft key range that are neither log entries nor states (left alone). */
  readonly unknownKeys: number;
  /** True if dropped records were deleted (false when opened read-only). */
  readonly repaired: boolean;
}

export interface RecoveryResult {
  readonly logs: Map<number, RegionLog>;
  readonly report: RecoveryReport;
}

export function corruption(path: string, regionId: number, index: number | undefined, reason: string): EngineError {
  const where = index === undefined ? `region ${regionId}` : `region ${regionId}, index ${index}`;
  return new EngineError(EngineErrorCodes.CORRUPTION, `raft log corruption in ${path}: ${where}: ${reason}`, {
    details: { path, regionId, ...(index === undefined ? {} : { index }), reason },
  });
}

/** Per-region facts gathered while scanning. */
interface Scanned {
  regionId: number;
  /** Contiguous runs of log indexes present, flat `[from, to, …]`. */
  ranges: number[];
  /** True if the state key exists. */
  hasState: boolean;
  /** The state record (read with the scan in full mode, by multi-get after it in tail mode). */
  state: Uint8Array | undefined;
  /** Full mode: first bad record per index, and (index, term) of every good record. */
  bad: Map<number, string>;
  terms: number[];
}

function newScanned(regionId: number): Scanned {
  return { regionId, ranges: [], hasState: false, state: undefined, bad: new Map(), terms: [] };
}

function addIndex(s: Scanned, index: number): void {
  const r = s.ranges;
  if (r.length > 0 && r[r.length - 1] === index - 1) r[r.length - 1] = index;
  else r.push(index, index);
}

/** Indexes of `ranges` inside `[lo, hi]`, as flat runs. */
function clip(ranges: readonly number[], lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < ranges.length; i += 2) {
    const a = Math.max(ranges[i]!, lo);
    const b = Math.min(ranges[i + 1]!, hi);
    if (a <= b) out.push(a, b);
  }
  return out;
}

function countOf(runs: readonly number[]): number {
  let n = 0;
  for (let i = 0; i < runs.length; i += 2) n += runs[i + 1]! - runs[i]! + 1;
  return n;
}

export async function recoverLogs(kv: KvEngine, options: { mode: VerifyMode; readOnly: boolean; path: string; logger: Logger }): Promise<RecoveryResult> {
  const { mode, path, logger } = options;
  const logs = new Map<number, RegionLog>();
  const repair = new OpWriteBatch();
  const torn: DroppedRecords[] = [];
  const belowFirst: DroppedRecords[] = [];
  const lastChecks: RegionLog[] = [];
  let entries = 0;
  let verified = 0;
  let unknownKeys = 0;

  const finish = (s: Scanned): void => {
    const r = s.regionId;
    if (!s.hasState || s.state === undefined) {
      if (s.ranges.length > 0) throw corruption(path, r, s.ranges[0], `log entries ${s.ranges[0]}..${s.ranges[s.ranges.length - 1]} exist but the region has no raft state`);
      return;
    }
    const rec = decodeState(s.state);
    if (typeof rec === 'string') throw corruption(path, r, undefined, `raft state record is unreadable: ${rec}`);
    const log = RegionLog.fromRecord(r, rec);
    if (typeof log === 'string') throw corruption(path, r, undefined, `raft state record is inconsistent: ${log}`);
    const present = clip(s.ranges, log.first, log.last);
    if (countOf(present) !== log.last - log.first + 1) {
      const missing = present.length === 0 || present[0]! > log.first ? log.first : present[1]! + 1;
      throw corruption(path, r, missing, `entry is missing (the durable log is ${log.first}..${log.last})`);
    }
    if (mode === 'full') {
      for (const [index, reason] of s.bad) {
        if (index >= log.first && index <= log.last) throw corruption(path, r, index, reason);
      }
      for (let i = 0; i < s.terms.length; i += 2) {
        const index = s.terms[i]!;
        if (index < log.first || index > log.last) continue;
        const want = log.termOf(index);
        if (want !== s.terms[i + 1]) throw corruption(path, r, index, `record has term ${s.terms[i + 1]} but the raft state says ${String(want)}`);
      }
      verified += countOf(present);
    } else if (log.last >= log.first) {
      lastChecks.push(log);
    }
    const dropped = (runs: number[], boundary: number, into: DroppedRecords[]) => {
      if (runs.length === 0) return;
      into.push({ regionId: r, boundary, fromIndex: runs[0]!, toIndex: runs[runs.length - 1]!, count: countOf(runs) });
      for (let i = 0; i < runs.length; i += 2) for (let x = runs[i]!; x <= runs[i + 1]!; x++) repair.delete(raftLogKey(r, x));
    };
    dropped(clip(s.ranges, log.last + 1, Number.MAX_SAFE_INTEGER), log.last, torn);
    dropped(clip(s.ranges, 0, log.first - 1), log.first, belowFirst);
    entries += log.last - log.first + 1;
    logs.set(r, log);
  };

  const scanned: Scanned[] = [];
  let cur: Scanned | undefined;
  const it = kv.iterator({ start: REGION_RAFT_MIN_KEY, end: REGION_RAFT_MAX_KEY, keysOnly: mode === 'tail' });
  try {
    for (let chunk = await it.nextChunk(); chunk.length > 0; chunk = await it.nextChunk()) {
      for (const { key, value } of chunk) {
        const k = parseLocalKey(key);
        if (k.type !== 'raftLog' && k.type !== 'raftState') {
          unknownKeys++;
          continue;
        }
        if (cur === undefined || cur.regionId !== k.regionId) {
          cur = newScanned(k.regionId);
          scanned.push(cur);
        }
        if (k.type === 'raftState') {
          cur.hasState = true;
          if (mode === 'full') cur.state = value;
          continue;
        }
        addIndex(cur, k.index);
        if (mode === 'full') {
          const e = decodeEntry(value, k.index);
          if (typeof e === 'string') cur.bad.set(k.index, e);
          else if (cur.terms.length === 0 || cur.terms[cur.terms.length - 1] !== e.term) cur.terms.push(e.index, e.term);
        }
      }
    }
  } finally {
    await it.close();
  }
  // Tail mode scanned keys only: read the state records now, many per call.
  if (mode === 'tail') {
    const withState = scanned.filter((s) => s.hasState);
    for (let i = 0; i < withState.length; i += MULTI_GET_BATCH) {
      const part = withState.slice(i, i + MULTI_GET_BATCH);
      const values = await kv.multiGet(part.map((s) => raftStateKey(s.regionId)));
      part.forEach((s, j) => (s.state = values[j]));
    }
  }
  for (const s of scanned) finish(s);

  // Tail mode: the record at each region's last index must be intact and of the expected term.
  for (let i = 0; i < lastChecks.length; i += MULTI_GET_BATCH) {
    const batch = lastChecks.slice(i, i + MULTI_GET_BATCH);
    const values = await kv.multiGet(batch.map((l) => raftLogKey(l.regionId, l.last)));
    batch.forEach((log, j) => {
      const v = values[j];
      if (v === undefined) throw corruption(path, log.regionId, log.last, 'entry is missing');
      const e = decodeEntry(v, log.last);
      if (typeof e === 'string') throw corruption(path, log.regionId, log.last, e);
      if (e.term !== log.lastTerm) throw corruption(path, log.regionId, log.last, `record has term ${e.term} but the raft state says ${log.lastTerm}`);
      verified++;
    });
  }

  const repaired = !options.readOnly && !repair.isEmpty();
  for (const t of torn) logger.warn({ ...t, path }, 'dropping a torn raft log tail beyond the durable last index (never acknowledged)');
  for (const t of belowFirst) logger.warn({ ...t, path }, 'dropping stale raft log records below the first index');
  if (repaired) await kv.write(repair, { sync: true });
  return { logs, report: { mode, regions: logs.size, entries, verifiedRecords: verified, torn, belowFirst, unknownKeys, repaired } };
}
