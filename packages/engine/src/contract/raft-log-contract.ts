/**
 * The `RaftLogEngine` conformance suite. `raftLogEngineContract(name, open)` registers scenario
 * tests for every promise of the trait (append and conflicting overwrite, hard state, compaction,
 * reset, region removal, terms and bounds without I/O, entry reads with byte limits, many regions
 * in one group-committed write, refused batches, reopen) plus a fast-check run against the naive
 * model of raft-log-model.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EngineErrorCodes } from '../errors.js';
import type { RaftEntry, RaftLogEngine } from '../traits/index.js';
import type { EngineFixture, OpenFixture } from './fixture.js';
import { raftLogModelProperty } from './raft-log-model.js';

/** Options of the suite. */
export interface RaftLogContractOptions {
  /** Random scenarios of the model property (default 40). */
  readonly propertyRuns?: number;
}

/** Entries `[from, to]` of `term`, with `size` data bytes each. */
export function makeEntries(from: number, to: number, term: number, size = 16, regionId = 1): RaftEntry[] {
  const out: RaftEntry[] = [];
  for (let i = from; i <= to; i++) out.push({ index: i, term, entryType: 0, data: Buffer.alloc(size, (regionId + i + term) & 0xff) });
  return out;
}

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

const brief = (es: readonly RaftEntry[]) => es.map((e) => [e.index, e.term, e.data.length]);

/** Registers the raft-log engine conformance tests for the engine `open` creates. */
export function raftLogEngineContract(name: string, open: OpenFixture<RaftLogEngine>, options: RaftLogContractOptions = {}): void {
  describe(`RaftLogEngine contract: ${name}`, () => {
    let fx: EngineFixture<RaftLogEngine>;
    let e: RaftLogEngine;
    beforeEach(async () => {
      fx = await open();
      e = fx.engine;
    });
    afterEach(async () => {
      await fx.destroy();
    });

    it('starts empty: no regions, term 0 at index 0, nothing beyond', () => {
      expect(e.regionIds()).toEqual([]);
      expect(e.state(1)).toBeUndefined();
      expect(e.term(1, 0)).toBe(0);
      expect(codeOf(() => e.term(1, 1))).toBe(EngineErrorCodes.ENTRIES_UNAVAILABLE);
      expect(codeOf(() => e.term(1, -1))).toBe(EngineErrorCodes.INVALID_ARGUMENT);
    });

    it('appends entries with a hard state in one write and answers bounds and terms from memory', async () => {
      await e.write(e.newBatch().append(1, [...makeEntries(1, 3, 1), ...makeEntries(4, 6, 2)]).setHardState(1, { term: 2, vote: 3, commit: 4 }), { sync: true });
      expect(e.state(1)).toEqual({ regionId: 1, hardState: { term: 2, vote: 3, commit: 4 }, firstIndex: 1, lastIndex: 6, lastTerm: 2 });
      expect([1, 2, 3, 4, 5, 6].map((i) => e.term(1, i))).toEqual([1, 1, 1, 2, 2, 2]);
      expect(brief(await e.entries(1, 2, 6))).toEqual([
        [2, 1, 16],
        [3, 1, 16],
        [4, 2, 16],
        [5, 2, 16],
      ]);
      expect(await e.entries(1, 3, 3)).toEqual([]);
      expect(e.regionIds()).toEqual([1]);
    });

    it('keeps entry type, data and context byte for byte', async () => {
      const es: RaftEntry[] = [
        { index: 1, term: 1, entryType: 1, data: Uint8Array.of(1, 2, 3), context: Uint8Array.of(9, 9) },
        { index: 2, term: 1, entryType: 2, data: new Uint8Array(0) },
        { index: 3, term: 1, entryType: 255, data: new Uint8Array(0), context: new Uint8Array(0) },
      ];
      await e.write(e.newBatch().append(7, es));
      const got = await e.entries(7, 1, 4);
      expect(got.map((x) => [x.index, x.entryType, Buffer.from(x.data).toString('hex'), x.context && Buffer.from(x.context).toString('hex')])).toEqual([
        [1, 1, '010203', '0909'],
        [2, 2, '', undefined],
        [3, 255, '', ''],
      ]);
    });

    it('limits entries by bytes of data and context, but returns at least one', async () => {
      await e.write(e.newBatch().append(1, makeEntries(1, 10, 1, 100)));
      expect((await e.entries(1, 1, 11, 250)).length).toBe(2);
      expect((await e.entries(1, 1, 11, 300)).length).toBe(3);
      expect((await e.entries(1, 1, 11, 0)).length).toBe(1);
      expect((await e.entries(1, 4, 11, 10)).map((x) => x.index)).toEqual([4]);
      expect((await e.entries(1, 1, 11)).length).toBe(10);
    });

    it('reads long ranges (beyond one multi-get) in order, with byte limits', async () => {
      await e.write(e.newBatch().append(1, makeEntries(1, 300, 1, 10)));
      await e.write(e.newBatch().append(2, makeEntries(1, 300, 1, 10, 2)));
      const all = await e.entries(1, 1, 301);
      expect(all.map((x) => x.index)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
      expect((await e.entries(1, 5, 301, 1000)).length).toBe(100);
      expect((await e.entries(2, 150, 251)).map((x) => x.index)[100]).toBe(250);
    });

    it('refuses reads outside the log: EntriesCompacted below, EntriesUnavailable beyond', async () => {
      await e.write(e.newBatch().append(1, makeEntries(1, 10, 1)));
      await e.write(e.newBatch().compact(1, 5));
      await expect(e.entries(1, 4, 6)).rejects.toMatchObject({ code: EngineErrorCodes.ENTRIES_COMPACTED });
      await expect(e.entries(1, 5, 12)).rejects.toMatchObject({ code: EngineErrorCodes.ENTRIES_UNAVAILABLE });
      await expect(e.entries(1, 6, 5)).rejects.toMatchObject({ code: EngineErrorCodes.INVALID_ARGUMENT });
      await expect(e.entries(9, 1, 2)).rejects.toMatchObject({ code: EngineErrorCodes.ENTRIES_UNAVAILABLE });
      expect(codeOf(() => e.term(1, 3))).toBe(EngineErrorCodes.ENTRIES_COMPACTED);
      expect(e.term(1, 4)).toBe(1);
      expect(codeOf(() => e.term(1, 11))).toBe(EngineErrorCodes.ENTRIES_UNAVAILABLE);
    });

    it('overwrites a conflicting suffix and deletes entries beyond the new last index', async () => {
      await e.write(e.newBatch().append(1, makeEntries(1, 10, 1)));
      await e.write(e.newBatch().append(1, makeEntries(6, 7, 3, 5)));
      expect(e.state(1)).toMatchObject({ firstIndex: 1, lastIndex: 7, lastTerm: 3 });
      expect(brief(await e.entries(1, 5, 8))).toEqual([
        [5, 1, 16],
        [6, 3, 5],
        [7, 3, 5],
      ]);
      await expect(e.entries(1, 1, 9)).rejects.toMatchObject({ code: EngineErrorCodes.ENTRIES_UNAVAILABLE });
      // Appending from the first index replaces the whole log.
      await e.write(e.newBatch().append(1, makeEntries(1, 2, 4)));
      expect(e.state(1)).toMatchObject({ lastIndex: 2, lastTerm: 4 });
      expect(e.term(1, 2)).toBe(4);
      // The deleted entries stay deleted across a reopen.
      e = await fx.reopen();
      expect(e.state(1)).toMatchObject({ firstIndex: 1, lastIndex: 2, lastTerm: 4 });
      expect(brief(await e.entries(1, 1, 3))).toEqual([
        [1, 4, 16],
        [2, 4, 16],
      ]);
    });

    it('refuses bad shapes when they are added to a batch', () => {
      const b = e.newBatch();
      expect(codeOf(() => b.append(0, makeEntries(1, 1, 1)))).toBe(EngineErrorCodes.INVALID_ARGUMENT);
      expect(codeOf(() => b.append(1, [...makeEntries(1, 1, 1), ...makeEntries(3, 3, 1)]))).toBe(EngineErrorCodes.INVALID_ARGUMENT);
      expect(codeOf(() => b.append(1, [...makeEntries(1, 1, 2), ...makeEntries(2, 2, 1)]))).toBe(EngineErrorCodes.INVALID_ARGUMENT);
      expect(codeOf(() => b.append(1, [{ index: 1, term: 0, entryType: 0, data: new Uint8Array(0) }]))).toBe(EngineErrorCodes.INVALID_ARGUMENT);
      expect(codeOf(() => b.append(1, [{ index: 1, term: 1, entryType: 256, data: new Uint8Array(0) }]))).toBe(EngineErrorCodes.INVALID_ARGUMENT);
      expect(codeOf(() => b.append(1, [{ index: 1, term: 1, entryType: 0, data: 'x' as unknown as Uint8Array }]))).toBe(EngineErrorCodes.INVALID_ARGUMENT);
      expect(codeOf(() => b.setHardState(1, { term: -1, vote: 0, commit: 0 }))).toBe(EngineErrorCodes.INVALID_ARGUMENT);
      expect(codeOf(() => b.compact(1, 0))).toBe(EngineErrorCodes.INVALID_ARGUMENT);
      expect(codeOf(() => b.reset(1, 5, 0))).toBe(EngineErrorCodes.INVALID_ARGUMENT);
      expect(codeOf(() => b.removeRegion(2 ** 53))).toBe(EngineErrorCodes.INVALID_ARGUMENT);
      expect(b.isEmpty()).toBe(true);
      expect(b.count).toBe(0);
    });

    it('refuses a batch that does not fit the log, whole, while the rest of its group is written', async () => {
      await e.write(e.newBatch().append(1, makeEntries(1, 5, 2)));
      const good1 = e.write(e.newBatch().append(2, makeEntries(1, 3, 1)));
      const gap = e.write(e.newBatch().append(3, makeEntries(1, 1, 1)).append(1, makeEntries(7, 7, 2)));
      const lowTerm = e.write(e.newBatch().append(1, makeEntries(6, 6, 1)));
      const beyond = e.write(e.newBatch().compact(1, 7));
      const good2 = e.write(e.newBatch().append(1, makeEntries(6, 6, 2)), { sync: true });
      await expect(gap).rejects.toMatchObject({ code: EngineErrorCodes.INVALID_ARGUMENT });
      await expect(lowTerm).rejects.toMatchObject({ code: EngineErrorCodes.INVALID_ARGUMENT });
      await expect(beyond).rejects.toMatchObject({ code: EngineErrorCodes.INVALID_ARGUMENT });
      await good1;
      await good2;
      expect(e.regionIds()).toEqual([1, 2]);
      expect(e.state(1)).toMatchObject({ lastIndex: 6 });
      await e.write(e.newBatch().compact(1, 4));
      const below = e.write(e.newBatch().append(1, makeEntries(3, 3, 2)));
      await expect(below).rejects.toMatchObject({ code: EngineErrorCodes.INVALID_ARGUMENT });
    });

    it('refuses batches it did not create', async () => {
      const foreign = { ...e.newBatch() } as unknown as ReturnType<RaftLogEngine['newBatch']>;
      await expect(e.write(foreign)).rejects.toMatchObject({ code: EngineErrorCodes.INVALID_ARGUMENT });
    });

    it('compacts below an index, keeping the term of the entry before the log', async () => {
      await e.write(e.newBatch().append(1, [...makeEntries(1, 4, 1), ...makeEntries(5, 8, 3)]));
      await e.write(e.newBatch().compact(1, 6));
      expect(e.state(1)).toMatchObject({ firstIndex: 6, lastIndex: 8, lastTerm: 3 });
      expect(e.term(1, 5)).toBe(3);
      await e.write(e.newBatch().compact(1, 3)); // at or below the first index: a no-op
      expect(e.state(1)).toMatchObject({ firstIndex: 6 });
      await e.write(e.newBatch().compact(1, 9)); // everything: an empty log after 8
      expect(e.state(1)).toMatchObject({ firstIndex: 9, lastIndex: 8, lastTerm: 3 });
      expect(e.term(1, 8)).toBe(3);
      await e.write(e.newBatch().append(1, makeEntries(9, 9, 4)));
      e = await fx.reopen();
      expect(e.state(1)).toMatchObject({ firstIndex: 9, lastIndex: 9, lastTerm: 4 });
      expect(e.term(1, 8)).toBe(3);
      expect(brief(await e.entries(1, 9, 10))).toEqual([[9, 4, 16]]);
    });

    it('resets a log after a snapshot index, keeping the hard state', async () => {
      await e.write(e.newBatch().append(1, makeEntries(1, 10, 1)).setHardState(1, { term: 1, vote: 1, commit: 10 }));
      await e.write(e.newBatch().reset(1, 20, 3));
      expect(e.state(1)).toEqual({ regionId: 1, hardState: { term: 1, vote: 1, commit: 10 }, firstIndex: 21, lastIndex: 20, lastTerm: 3 });
      expect(e.term(1, 20)).toBe(3);
      expect(codeOf(() => e.term(1, 10))).toBe(EngineErrorCodes.ENTRIES_COMPACTED);
      // A new region initialised at TiKV's RAFT_INIT_LOG_INDEX / term.
      await e.write(e.newBatch().reset(2, 5, 5).setHardState(2, { term: 5, vote: 0, commit: 5 }).append(2, makeEntries(6, 7, 6)));
      e = await fx.reopen();
      expect(e.state(1)).toMatchObject({ firstIndex: 21, lastIndex: 20, lastTerm: 3 });
      expect(e.state(2)).toEqual({ regionId: 2, hardState: { term: 5, vote: 0, commit: 5 }, firstIndex: 6, lastIndex: 7, lastTerm: 6 });
      expect(e.term(2, 5)).toBe(5);
      expect(brief(await e.entries(2, 6, 8))).toEqual([
        [6, 6, 16],
        [7, 6, 16],
      ]);
    });

    it('removes a region with its log and state, and can recreate it', async () => {
      await e.write(e.newBatch().append(1, makeEntries(1, 5, 1)).append(2, makeEntries(1, 5, 1)).setHardState(2, { term: 1, vote: 2, commit: 3 }));
      await e.write(e.newBatch().removeRegion(2));
      expect(e.regionIds()).toEqual([1]);
      expect(e.state(2)).toBeUndefined();
      await expect(e.entries(2, 1, 2)).rejects.toMatchObject({ code: EngineErrorCodes.ENTRIES_UNAVAILABLE });
      e = await fx.reopen();
      expect(e.regionIds()).toEqual([1]);
      await e.write(e.newBatch().append(2, makeEntries(1, 1, 7)));
      expect(e.state(2)).toEqual({ regionId: 2, hardState: { term: 0, vote: 0, commit: 0 }, firstIndex: 1, lastIndex: 1, lastTerm: 7 });
      // Remove and recreate in one batch.
      await e.write(e.newBatch().removeRegion(1).append(1, makeEntries(1, 2, 9)));
      expect(e.state(1)).toMatchObject({ firstIndex: 1, lastIndex: 2, lastTerm: 9 });
      expect(brief(await e.entries(1, 1, 3))).toEqual([
        [1, 9, 16],
        [2, 9, 16],
      ]);
    });

    it('writes many regions in one batch, and group-commits overlapping writes in order', async () => {
      const b = e.newBatch();
      for (let r = 1; r <= 300; r++) b.append(r, makeEntries(1, 2, 1, 32, r)).setHardState(r, { term: 1, vote: r, commit: 1 });
      expect(b.count).toBe(600);
      await e.write(b, { sync: true });
      const writes: Array<Promise<void>> = [];
      for (let i = 3; i <= 40; i++) {
        const w = e.newBatch();
        for (let r = 1; r <= 300; r += 37) w.append(r, makeEntries(i, i, 1, 8, r)).setHardState(r, { term: 1, vote: r, commit: i - 1 });
        writes.push(e.write(w, { sync: i % 10 === 0 }));
      }
      await Promise.all(writes);
      expect(e.regionIds().length).toBe(300);
      expect(e.state(38)).toEqual({ regionId: 38, hardState: { term: 1, vote: 38, commit: 39 }, firstIndex: 1, lastIndex: 40, lastTerm: 1 });
      expect(e.state(2)).toMatchObject({ lastIndex: 2, hardState: { term: 1, vote: 2, commit: 1 } });
      e = await fx.reopen();
      expect(e.regionIds()).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
      expect((await e.entries(75, 1, 41)).map((x) => x.index)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      expect(e.state(300)).toMatchObject({ lastIndex: 2, hardState: { vote: 300 } });
    });

    it('sees a write in state() as soon as it resolves, and reads racing compaction stay correct', async () => {
      await e.write(e.newBatch().append(1, makeEntries(1, 100, 1)));
      const read = e.entries(1, 1, 101);
      const compact = e.write(e.newBatch().compact(1, 50));
      const got = await read.catch((err: unknown) => err);
      await compact;
      // Either the read saw the log before the compaction, or it reports the compaction.
      if (Array.isArray(got)) expect(got.length).toBe(100);
      else expect(got).toMatchObject({ code: EngineErrorCodes.ENTRIES_COMPACTED });
      expect(e.state(1)).toMatchObject({ firstIndex: 50 });
    });

    it('syncs, closes idempotently, and refuses writes after close', async () => {
      await e.write(e.newBatch().append(1, makeEntries(1, 3, 1)));
      await e.sync();
      const pending = e.write(e.newBatch().append(1, makeEntries(4, 4, 1)), { sync: true });
      await e.close();
      await pending;
      await e.close();
      await expect(e.write(e.newBatch().append(1, makeEntries(5, 5, 1)))).rejects.toMatchObject({ code: EngineErrorCodes.CLOSED });
      e = await fx.reopen();
      expect(e.state(1)).toMatchObject({ lastIndex: 4 });
    });

    it('answers exactly as a naive model for random operation sequences (fast-check)', async () => {
      await raftLogModelProperty(open, { numRuns: options.propertyRuns ?? 40 });
    }, 60_000);
  });
}
