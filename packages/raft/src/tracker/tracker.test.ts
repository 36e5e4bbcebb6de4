import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RaftInvariantViolation } from '../errors.js';
import { Inflights } from './inflights.js';
import { Progress, ProgressState } from './progress.js';
import { ProgressMap } from './progress-map.js';
import { ProgressTracker } from './tracker.js';
import { EMPTY_IDS, hasId, symmetricDifference, withId, withoutId } from './sorted-ids.js';

describe('Inflights', () => {
  it('adds until full by count, then frees up to an index', () => {
    const in1 = new Inflights(10, Infinity);
    for (let i = 0; i < 5; i++) in1.add(i, 100);
    expect(in1.count).toBe(5);
    expect(in1.indexes()).toEqual([0, 1, 2, 3, 4]);
    for (let i = 5; i < 10; i++) in1.add(i, 100);
    expect(in1.full()).toBe(true);
    expect(() => in1.add(10, 1)).toThrow(RaftInvariantViolation);
    in1.freeLE(4);
    expect(in1.count).toBe(5);
    expect(in1.bytes).toBe(500);
    // Wrap around the ring.
    for (let i = 10; i < 15; i++) in1.add(i, 100);
    expect(in1.indexes()).toEqual([5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
    in1.freeLE(12);
    expect(in1.indexes()).toEqual([13, 14]);
    in1.freeLE(2); // stale
    expect(in1.count).toBe(2);
    in1.freeLE(100);
    expect(in1.count).toBe(0);
    expect(in1.bytes).toBe(0);
  });

  it('is full by bytes once the byte bound is reached', () => {
    const w = new Inflights(100, 1000);
    w.add(1, 600);
    expect(w.full()).toBe(false);
    w.add(2, 600); // may overshoot by one message
    expect(w.full()).toBe(true);
    w.freeLE(1);
    expect(w.full()).toBe(false);
  });

  it('clone is independent and reset empties', () => {
    const w = new Inflights(4, Infinity);
    w.add(1, 1);
    const c = w.clone();
    c.add(2, 1);
    expect(w.count).toBe(1);
    w.reset();
    expect(w.count).toBe(0);
    expect(c.indexes()).toEqual([1, 2]);
  });

  it('matches a naive queue under random operations (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.oneof(fc.constant(Infinity), fc.integer({ min: 1, max: 50 })),
        fc.array(fc.oneof(fc.record({ add: fc.integer({ min: 0, max: 20 }) }), fc.record({ free: fc.integer({ min: 0, max: 60 }) })), { maxLength: 60 }),
        (cap, maxBytes, ops) => {
          const w = new Inflights(cap, maxBytes);
          const naive: [number, number][] = [];
          let next = 1;
          for (const op of ops) {
            const naiveBytes = naive.reduce((s, [, b]) => s + b, 0);
            const naiveFull = naive.length === cap || naiveBytes >= maxBytes;
            expect(w.full()).toBe(naiveFull);
            if ('add' in op) {
              if (naiveFull) continue;
              w.add(next, op.add);
              naive.push([next, op.add]);
              next++;
            } else {
              w.freeLE(op.free);
              while (naive.length > 0 && naive[0]![0] <= op.free) naive.shift();
            }
            expect(w.indexes()).toEqual(naive.map(([i]) => i));
            expect(w.bytes).toBe(naive.reduce((s, [, b]) => s + b, 0));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

function pr(match: number, next: number, cap = 4): Progress {
  return new Progress(match, next, new Inflights(cap, Infinity), false);
}

describe('Progress', () => {
  it('becomeProbe from Snapshot resumes after the snapshot', () => {
    const p = pr(1, 5);
    p.becomeSnapshot(10);
    expect(p.state).toBe(ProgressState.Snapshot);
    expect(p.isPaused()).toBe(true);
    p.becomeProbe();
    expect(p.state).toBe(ProgressState.Probe);
    expect(p.next).toBe(11);
    const q = pr(1, 5);
    q.becomeReplicate();
    q.becomeProbe();
    expect(q.next).toBe(2);
  });

  it('maybeUpdate ignores stale acks and unpauses', () => {
    const p = pr(3, 5);
    p.msgAppFlowPaused = true;
    expect(p.maybeUpdate(2)).toBe(false);
    expect(p.msgAppFlowPaused).toBe(true);
    expect(p.maybeUpdate(7)).toBe(true);
    expect(p.match).toBe(7);
    expect(p.next).toBe(8);
    expect(p.msgAppFlowPaused).toBe(false);
  });

  it('maybeDecrTo in Replicate falls back to match+1 and ignores stale rejects', () => {
    const p = pr(5, 10);
    p.state = ProgressState.Replicate;
    expect(p.maybeDecrTo(4, 4)).toBe(false);
    expect(p.maybeDecrTo(9, 9)).toBe(true);
    expect(p.next).toBe(6);
  });

  it('maybeDecrTo in Probe only accepts the answer to the outstanding probe, using the hint', () => {
    const p = pr(0, 10);
    expect(p.maybeDecrTo(5, 5)).toBe(false); // not next-1
    p.msgAppFlowPaused = true;
    expect(p.maybeDecrTo(9, 3)).toBe(true);
    expect(p.next).toBe(4);
    expect(p.msgAppFlowPaused).toBe(false);
    expect(p.maybeDecrTo(3, 100)).toBe(true); // hint above the rejected index: next = rejected
    expect(p.next).toBe(3);
    const q = pr(2, 4);
    expect(q.maybeDecrTo(3, 0)).toBe(true); // never below match+1
    expect(q.next).toBe(3);
  });

  it('sentEntries: Probe pauses, Replicate fills the window', () => {
    const p = pr(0, 1, 2);
    p.sentEntries(0, 0);
    expect(p.msgAppFlowPaused).toBe(false);
    p.sentEntries(3, 30);
    expect(p.msgAppFlowPaused).toBe(true);
    expect(p.next).toBe(1); // probing does not move next
    p.becomeReplicate();
    p.sentEntries(2, 20);
    expect(p.next).toBe(3);
    expect(p.isPaused()).toBe(false);
    p.sentEntries(1, 10);
    expect(p.isPaused()).toBe(true);
    p.becomeSnapshot(9);
    expect(() => p.sentEntries(1, 1)).toThrow(RaftInvariantViolation);
  });

  it('canBumpCommit only when the follower can use a higher commit', () => {
    const p = pr(0, 5);
    p.sentCommitIndex(3);
    expect(p.canBumpCommit(3)).toBe(false);
    expect(p.canBumpCommit(4)).toBe(true);
    p.sentCommitIndex(4);
    expect(p.canBumpCommit(9)).toBe(false); // it has nothing beyond next-1 = 4
  });
});

describe('ProgressMap and ProgressTracker', () => {
  it('keeps ids sorted and acts as an AckedIndexer', () => {
    const m = new ProgressMap();
    m.set(3, pr(7, 8));
    m.set(1, pr(5, 6));
    m.set(2, pr(6, 7));
    expect(m.ids).toEqual([1, 2, 3]);
    expect(m.ackedIndex(2)).toBe(6);
    expect(m.ackedIndex(9)).toBeUndefined();
    m.delete(2);
    expect(m.ids).toEqual([1, 3]);
    const c = m.clone();
    c.get(1)!.match = 100;
    expect(m.get(1)!.match).toBe(5);
  });

  it('computes committed index, quorum activity and vote tallies', () => {
    const t = new ProgressTracker(4, Infinity);
    for (const id of [1, 2, 3]) t.progress.set(id, pr(id * 2, id * 2 + 1));
    t.config = { ...t.config, voters: { incoming: [1, 2, 3], outgoing: [] } };
    expect(t.committed()).toBe(4);
    expect(t.isSingleton()).toBe(false);
    expect(t.quorumActive(1)).toBe(false);
    t.progress.get(3)!.recentActive = true;
    expect(t.quorumActive(1)).toBe(true);
    t.recordVote(1, true);
    t.recordVote(2, false);
    t.recordVote(2, true); // first vote wins
    expect(t.tallyVotes()).toEqual({ granted: 1, rejected: 1, result: 1 });
    t.recordVote(3, true);
    expect(t.tallyVotes().result).toBe(3);
    t.resetVotes();
    expect(t.tallyVotes()).toEqual({ granted: 0, rejected: 0, result: 1 });
  });
});

describe('sorted ids', () => {
  it('adds, removes and diffs', () => {
    expect(withId([1, 3], 2)).toEqual([1, 2, 3]);
    expect(withId([1, 3], 3)).toEqual([1, 3]);
    expect(withoutId([1], 1)).toBe(EMPTY_IDS);
    expect(hasId([1, 5, 9], 5)).toBe(true);
    expect(symmetricDifference([1, 2, 3], [2, 3, 4])).toBe(2);
  });
});
