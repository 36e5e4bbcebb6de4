/**
 * The `RaftLogBatch` of the raft-log engine: region operations in call order. Shapes are checked
 * here, when each operation is added (ids, contiguity, term order); checks against the log's
 * state run when the batch is written (RegionLog).
 */
import { invalidArgument } from '../errors.js';
import type { HardState, RaftEntry, RaftLogBatch } from '../traits/index.js';
import { encodeEntry } from './record.js';

export type RegionOp =
  | { readonly type: 'append'; readonly regionId: number; readonly entries: readonly RaftEntry[]; readonly records: readonly Buffer[] }
  | { readonly type: 'hardState'; readonly regionId: number; readonly hardState: HardState }
  | { readonly type: 'compact'; readonly regionId: number; readonly compactTo: number }
  | { readonly type: 'reset'; readonly regionId: number; readonly index: number; readonly term: number }
  | { readonly type: 'remove'; readonly regionId: number };

function checkU64(what: string, v: unknown, min = 0): asserts v is number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw invalidArgument(`${what} must be an integer ≥ ${min} below 2^53, got ${String(v)}`);
}

function checkEntry(e: RaftEntry, i: number): void {
  if (typeof e !== 'object' || e === null) throw invalidArgument(`entries[${i}] is not an entry`);
  checkU64(`entries[${i}].index`, e.index, 1);
  checkU64(`entries[${i}].term`, e.term, 1);
  if (!Number.isInteger(e.entryType) || e.entryType < 0 || e.entryType > 255) throw invalidArgument(`entries[${i}].entryType must be an integer in [0, 255], got ${String(e.entryType)}`);
  if (!(e.data instanceof Uint8Array)) throw invalidArgument(`entries[${i}].data must be a Uint8Array`);
  if (e.context !== undefined && !(e.context instanceof Uint8Array)) throw invalidArgument(`entries[${i}].context must be a Uint8Array`);
}

export class LogBatch implements RaftLogBatch {
  readonly ops: RegionOp[] = [];

  append(regionId: number, entries: readonly RaftEntry[]): this {
    checkU64('region id', regionId, 1);
    if (!Array.isArray(entries)) throw invalidArgument('entries must be an array');
    if (entries.length === 0) return this;
    const records: Buffer[] = new Array<Buffer>(entries.length);
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      checkEntry(e, i);
      if (i > 0) {
        const p = entries[i - 1]!;
        if (e.index !== p.index + 1) throw invalidArgument(`region ${regionId}: entries are not contiguous (${p.index} then ${e.index})`, { regionId });
        if (e.term < p.term) throw invalidArgument(`region ${regionId}: entry ${e.index} has term ${e.term}, below term ${p.term} of entry ${p.index}`, { regionId });
      }
      records[i] = encodeEntry(e);
    }
    this.ops.push({ type: 'append', regionId, entries, records });
    return this;
  }

  setHardState(regionId: number, hardState: HardState): this {
    checkU64('region id', regionId, 1);
    if (typeof hardState !== 'object' || hardState === null) throw invalidArgument('hard state must be an object');
    checkU64('hard state term', hardState.term);
    checkU64('hard state vote', hardState.vote);
    checkU64('hard state commit', hardState.commit);
    this.ops.push({ type: 'hardState', regionId, hardState: { term: hardState.term, vote: hardState.vote, commit: hardState.commit } });
    return this;
  }

  compact(regionId: number, compactTo: number): this {
    checkU64('region id', regionId, 1);
    checkU64('compact index', compactTo, 1);
    this.ops.push({ type: 'compact', regionId, compactTo });
    return this;
  }

  reset(regionId: number, index: number, term: number): this {
    checkU64('region id', regionId, 1);
    checkU64('reset index', index);
    checkU64('reset term', term);
    if (index > 0 && term === 0) throw invalidArgument(`region ${regionId}: reset to index ${index} needs a term ≥ 1`, { regionId });
    this.ops.push({ type: 'reset', regionId, index, term });
    return this;
  }

  removeRegion(regionId: number): this {
    checkU64('region id', regionId, 1);
    this.ops.push({ type: 'remove', regionId });
    return this;
  }

  get count(): number {
    return this.ops.length;
  }

  isEmpty(): boolean {
    return this.ops.length === 0;
  }
}
