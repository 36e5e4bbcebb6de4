/**
 * A naive model of the `RaftLogEngine` contract (plain maps, no records, no batching tricks) and
 * a fast-check property that drives an engine and the model with the same random operations and
 * compares every observable answer after every step, like etcd's `quick_test.go` compares an
 * optimised function with an oracle.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { EngineErrorCodes } from '../errors.js';
import type { HardState, RaftEntry, RaftLogBatch, RaftLogEngine } from '../traits/index.js';
import type { EngineFixture, OpenFixture } from './fixture.js';

interface ModelLog {
  hs: HardState;
  first: number;
  last: number;
  /** Term of `first - 1` (the snapshot or compaction point); 0 before index 1. */
  prevTerm: number;
  entries: Map<number, RaftEntry>;
}

/** One region operation, resolved against the model into concrete arguments. */
type ConcreteOp =
  | { type: 'append'; regionId: number; entries: RaftEntry[] }
  | { type: 'hardState'; regionId: number; hs: HardState }
  | { type: 'compact'; regionId: number; compactTo: number }
  | { type: 'reset'; regionId: number; index: number; term: number }
  | { type: 'remove'; regionId: number };

/** The oracle: what the engine's durable state must be. */
export class RaftLogModel {
  readonly logs = new Map<number, ModelLog>();

  private static empty(): ModelLog {
    return { hs: { term: 0, vote: 0, commit: 0 }, first: 1, last: 0, prevTerm: 0, entries: new Map() };
  }

  clone(): RaftLogModel {
    const m = new RaftLogModel();
    for (const [r, l] of this.logs) m.logs.set(r, { ...l, entries: new Map(l.entries) });
    return m;
  }

  log(regionId: number): ModelLog {
    return this.logs.get(regionId) ?? RaftLogModel.empty();
  }

  termOf(regionId: number, index: number): number | undefined {
    const l = this.log(regionId);
    if (index === 0) return 0;
    if (index === l.first - 1) return l.prevTerm;
    if (index < l.first || index > l.last) return undefined;
    return l.entries.get(index)!.term;
  }

  /** Applies one op; returns false (changing nothing that matters) if the engine must refuse it. */
  apply(op: ConcreteOp): boolean {
    const r = op.regionId;
    const l = this.log(r);
    switch (op.type) {
      case 'append': {
        const head = op.entries[0]!;
        if (head.index > l.last + 1 || head.index < l.first) return false;
        const prev = this.termOf(r, head.index - 1);
        if (prev !== undefined && head.term < prev) return false;
        for (let i = head.index; i <= l.last; i++) l.entries.delete(i);
        for (const e of op.entries) l.entries.set(e.index, e);
        l.last = op.entries[op.entries.length - 1]!.index;
        break;
      }
      case 'hardState':
        l.hs = op.hs;
        break;
      case 'compact': {
        if (op.compactTo > l.last + 1) return false;
        if (op.compactTo > l.first) {
          l.prevTerm = this.termOf(r, op.compactTo - 1)!;
          for (let i = l.first; i < op.compactTo; i++) l.entries.delete(i);
          l.first = op.compactTo;
        }
        break;
      }
      case 'reset':
        l.entries.clear();
        l.first = op.index + 1;
        l.last = op.index;
        l.prevTerm = op.index === 0 ? 0 : op.term;
        break;
      case 'remove':
        this.logs.delete(r);
        return true;
    }
    this.logs.set(r, l);
    return true;
  }
}

/** Abstract operations: numbers that are turned into concrete, mostly valid, ones. */
type AbstractOp =
  | { type: 'append'; regionId: number; at: number; n: number; bump: number; size: number; ctx: boolean }
  | { type: 'appendGap'; regionId: number }
  | { type: 'hardState'; regionId: number; term: number; vote: number; commit: number }
  | { type: 'compact'; regionId: number; at: number }
  | { type: 'compactBeyond'; regionId: number }
  | { type: 'reset'; regionId: number; ahead: number; bump: number }
  | { type: 'remove'; regionId: number };

const region = fc.integer({ min: 1, max: 3 });
const abstractOp: fc.Arbitrary<AbstractOp> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ type: fc.constant('append' as const), regionId: region, at: fc.double({ min: 0, max: 1, noNaN: true }), n: fc.integer({ min: 1, max: 6 }), bump: fc.integer({ min: 0, max: 2 }), size: fc.integer({ min: 0, max: 300 }), ctx: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('appendGap' as const), regionId: region }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('hardState' as const), regionId: region, term: fc.nat(50), vote: fc.nat(5), commit: fc.nat(100) }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('compact' as const), regionId: region, at: fc.double({ min: 0, max: 1, noNaN: true }) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('compactBeyond' as const), regionId: region }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('reset' as const), regionId: region, ahead: fc.nat(5), bump: fc.nat(2) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('remove' as const), regionId: region }) },
);

/** A step: one write of several ops (batches submitted together when `concurrent`), or a reopen. */
type Step = { type: 'write'; batches: AbstractOp[][]; sync: boolean } | { type: 'reopen' };
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ type: fc.constant('write' as const), batches: fc.array(fc.array(abstractOp, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 3 }), sync: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('reopen' as const) }) },
);

function payload(regionId: number, index: number, term: number, size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (regionId * 31 + index * 7 + term * 13 + i) & 0xff;
  return b;
}

/** Turns an abstract op into a concrete one against the model state it will meet. */
function concretize(m: RaftLogModel, op: AbstractOp): ConcreteOp {
  const r = op.regionId;
  const l = m.log(r);
  switch (op.type) {
    case 'append': {
      const span = l.last + 2 - l.first;
      const start = Math.min(l.last + 1, l.first + Math.floor(op.at * span));
      const base = Math.max(1, (m.termOf(r, start - 1) ?? 1) + op.bump);
      const entries: RaftEntry[] = [];
      for (let i = 0; i < op.n; i++) {
        const index = start + i;
        const term = base + (i === op.n - 1 ? op.bump : 0);
        const data = payload(r, index, term, (op.size + i * 17) % 301);
        entries.push(op.ctx ? { index, term, entryType: index % 3, data, context: payload(r, term, index, 5) } : { index, term, entryType: 0, data });
      }
      return { type: 'append', regionId: r, entries };
    }
    case 'appendGap':
      return { type: 'append', regionId: r, entries: [{ index: l.last + 2, term: Math.max(1, m.termOf(r, l.last) ?? 1), entryType: 0, data: Buffer.from('gap') }] };
    case 'hardState':
      return { type: 'hardState', regionId: r, hs: { term: op.term, vote: op.vote, commit: op.commit } };
    case 'compact':
      return { type: 'compact', regionId: r, compactTo: Math.max(1, l.first + Math.floor(op.at * (l.last + 2 - l.first))) };
    case 'compactBeyond':
      return { type: 'compact', regionId: r, compactTo: l.last + 2 };
    case 'reset': {
      const index = l.last + op.ahead;
      return { type: 'reset', regionId: r, index, term: index === 0 ? 0 : Math.max(1, (m.termOf(r, l.last) ?? 1) + op.bump) };
    }
    case 'remove':
      return { type: 'remove', regionId: r };
  }
}

function addOp(b: RaftLogBatch, op: ConcreteOp): void {
  switch (op.type) {
    case 'append':
      b.append(op.regionId, op.entries);
      break;
    case 'hardState':
      b.setHardState(op.regionId, op.hs);
      break;
    case 'compact':
      b.compact(op.regionId, op.compactTo);
      break;
    case 'reset':
      b.reset(op.regionId, op.index, op.term);
      break;
    case 'remove':
      b.removeRegion(op.regionId);
      break;
  }
}

const norm = (e: RaftEntry) => ({
  index: e.index,
  term: e.term,
  entryType: e.entryType,
  data: Buffer.from(e.data).toString('hex'),
  context: e.context === undefined ? undefined : Buffer.from(e.context).toString('hex'),
});

/** Compares everything observable about regions 1..3 with the model. */
async function check(engine: RaftLogEngine, m: RaftLogModel, maxBytes: number): Promise<void> {
  expect(engine.regionIds()).toEqual([...m.logs.keys()].sort((a, b) => a - b));
  for (let r = 1; r <= 3; r++) {
    const st = engine.state(r);
    if (!m.logs.has(r)) {
      expect(st).toBeUndefined();
      continue;
    }
    const l = m.log(r);
    expect(st).toEqual({ regionId: r, hardState: l.hs, firstIndex: l.first, lastIndex: l.last, lastTerm: m.termOf(r, l.last) });
    for (let i = Math.max(0, l.first - 1); i <= l.last; i++) expect(engine.term(r, i)).toBe(m.termOf(r, i));
    expect(() => engine.term(r, l.last + 1)).toThrow(expect.objectContaining({ code: EngineErrorCodes.ENTRIES_UNAVAILABLE }) as Error);
    if (l.first >= 3) expect(() => engine.term(r, l.first - 2)).toThrow(expect.objectContaining({ code: EngineErrorCodes.ENTRIES_COMPACTED }) as Error);
    const want = [...Array(l.last - l.first + 1).keys()].map((k) => l.entries.get(l.first + k)!);
    expect((await engine.entries(r, l.first, l.last + 1)).map(norm)).toEqual(want.map(norm));
    // Byte limit: the longest prefix within maxBytes, but at least one entry.
    let bytes = 0;
    let n = 0;
    for (const e of want) {
      bytes += e.data.length + (e.context?.length ?? 0);
      if (n > 0 && bytes > maxBytes) break;
      n++;
    }
    expect((await engine.entries(r, l.first, l.last + 1, maxBytes)).map(norm)).toEqual(want.slice(0, n).map(norm));
  }
}

/** Runs one random scenario: each step's batches are written (concurrently), then compared. */
async function runScenario(open: OpenFixture<RaftLogEngine>, steps: Step[], maxBytes: number): Promise<void> {
  const fx: EngineFixture<RaftLogEngine> = await open();
  let engine = fx.engine;
  let m = new RaftLogModel();
  try {
    for (const s of steps) {
      if (s.type === 'reopen') {
        engine = await fx.reopen();
        await check(engine, m, maxBytes);
        continue;
      }
      // Batches of one step are submitted without waiting, so they are group-committed: each is
      // refused or accepted on its own, in order, against the state the ones before it leave.
      const writes: Array<Promise<boolean>> = [];
      const expected: boolean[] = [];
      for (const ops of s.batches) {
        const b = engine.newBatch();
        const next = m.clone();
        let ok = true;
        for (const op of ops) {
          const c = concretize(ok ? next : m, op);
          addOp(b, c);
          if (ok) ok = next.apply(c);
        }
        if (ok) m = next;
        expected.push(ok);
        const refused = (e: unknown): boolean => {
          if ((e as { code?: string }).code !== EngineErrorCodes.INVALID_ARGUMENT) throw e;
          return false;
        };
        writes.push(engine.write(b, { sync: s.sync }).then(() => true, refused));
      }
      expect(await Promise.all(writes)).toEqual(expected);
      await check(engine, m, maxBytes);
    }
  } finally {
    await fx.destroy();
  }
}

/**
 * The property: for random sequences of appends (including conflicting overwrites), hard states,
 * compactions, resets, removals, refused batches and reopens, the engine answers exactly as the
 * model does.
 */
export async function raftLogModelProperty(open: OpenFixture<RaftLogEngine>, options: { numRuns: number; seed?: number }): Promise<void> {
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 25 }), fc.integer({ min: 0, max: 1200 }), (steps, maxBytes) => runScenario(open, steps, maxBytes)),
    { numRuns: options.numRuns, ...(options.seed === undefined ? {} : { seed: options.seed }) },
  );
}
