import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JointConfig } from './joint.js';
import { describeJoint, jointCommittedIndex, jointIds, jointVoteResult } from './joint.js';
import { VoteResult, majorityCommittedIndex, majorityVoteResult } from './majority.js';

const acked = (m: Record<number, number>) => ({ ackedIndex: (id: number) => m[id] });
const votes = (m: Record<number, boolean>) => new Map(Object.entries(m).map(([k, v]) => [Number(k), v]));

describe('majority committed index (table)', () => {
  const cases: [number[], Record<number, number>, number][] = [
    [[], {}, Infinity],
    [[1], {}, 0],
    [[1], { 1: 12 }, 12],
    [[1, 2], { 1: 12 }, 0],
    [[1, 2], { 1: 12, 2: 5 }, 5],
    [[1, 2, 3], { 1: 12, 2: 5 }, 5],
    [[1, 2, 3], { 1: 12 }, 0],
    [[1, 2, 3], { 1: 12, 2: 5, 3: 7 }, 7],
    [[1, 2, 3, 4], { 1: 12, 2: 5, 3: 7, 4: 100 }, 7],
    [[1, 2, 3, 4, 5], { 1: 1, 2: 2, 3: 3, 4: 4, 5: 5 }, 3],
    [[1, 2, 3, 4, 5], { 1: 5, 2: 5, 4: 5 }, 5],
    [[1, 2, 3, 4, 5], { 1: 5, 2: 5 }, 0],
  ];
  for (const [voters, a, want] of cases) {
    it(`(${voters.join(' ')}) acked ${JSON.stringify(a)} → ${want}`, () => {
      expect(majorityCommittedIndex(voters, acked(a))).toBe(want);
    });
  }
});

describe('joint committed index (table)', () => {
  it('takes the minimum of both halves, and an empty half is neutral', () => {
    const a = acked({ 1: 10, 2: 9, 3: 8, 4: 3, 5: 2 });
    expect(jointCommittedIndex({ incoming: [1, 2, 3], outgoing: [] }, a)).toBe(9);
    expect(jointCommittedIndex({ incoming: [1, 2, 3], outgoing: [3, 4, 5] }, a)).toBe(3);
    expect(jointCommittedIndex({ incoming: [4, 5], outgoing: [1, 2, 3] }, a)).toBe(2);
  });
});

describe('vote results (table)', () => {
  it('majority', () => {
    expect(majorityVoteResult([], votes({}))).toBe(VoteResult.Won);
    expect(majorityVoteResult([1], votes({}))).toBe(VoteResult.Pending);
    expect(majorityVoteResult([1], votes({ 1: false }))).toBe(VoteResult.Lost);
    expect(majorityVoteResult([1, 2], votes({ 1: true }))).toBe(VoteResult.Pending);
    expect(majorityVoteResult([1, 2], votes({ 1: true, 2: false }))).toBe(VoteResult.Lost);
    expect(majorityVoteResult([1, 2, 3], votes({ 1: true, 2: true }))).toBe(VoteResult.Won);
    expect(majorityVoteResult([1, 2, 3], votes({ 1: false, 2: false }))).toBe(VoteResult.Lost);
    expect(majorityVoteResult([1, 2, 3], votes({ 1: true, 2: false }))).toBe(VoteResult.Pending);
    // Votes of non-members do not count.
    expect(majorityVoteResult([1, 2, 3], votes({ 1: true, 7: true, 8: true }))).toBe(VoteResult.Pending);
  });
  it('joint', () => {
    const c: JointConfig = { incoming: [1, 2, 3], outgoing: [3, 4, 5] };
    expect(jointVoteResult(c, votes({ 1: true, 2: true }))).toBe(VoteResult.Pending);
    expect(jointVoteResult(c, votes({ 1: true, 2: true, 4: true, 5: true }))).toBe(VoteResult.Won);
    expect(jointVoteResult(c, votes({ 1: true, 2: true, 4: false, 5: false }))).toBe(VoteResult.Lost);
    expect(jointVoteResult(c, votes({ 1: false, 2: false, 4: true, 5: true }))).toBe(VoteResult.Lost);
    expect(jointIds(c)).toEqual([1, 2, 3, 4, 5]);
    expect(describeJoint(c)).toBe('(1 2 3)&&(3 4 5)');
  });
});

// --- Property tests against naive oracles (etcd quick_test.go style). ---

/** Naive: the largest index such that a majority acked at least it (missing = 0). */
function oracleCommitted(voters: number[], a: Map<number, number>): number {
  if (voters.length === 0) return Infinity;
  const q = Math.floor(voters.length / 2) + 1;
  const candidates = [0, ...voters.map((v) => a.get(v) ?? 0)];
  let best = 0;
  for (const idx of candidates) {
    const n = voters.filter((v) => (a.get(v) ?? 0) >= idx).length;
    if (n >= q && idx > best) best = idx;
  }
  return best;
}

/** Naive: enumerate every way the missing voters could still vote. */
function oracleVote(halves: number[][], v: Map<number, boolean>): VoteResult {
  const all = [...new Set(halves.flat())];
  const missing = all.filter((id) => !v.has(id));
  let wins = 0;
  const total = 1 << missing.length;
  for (let mask = 0; mask < total; mask++) {
    const full = new Map(v);
    missing.forEach((id, i) => full.set(id, ((mask >> i) & 1) === 1));
    const won = halves.every((h) => h.length === 0 || h.filter((id) => full.get(id)).length > h.length / 2);
    if (won) wins++;
  }
  if (wins === total) return VoteResult.Won;
  if (wins === 0) return VoteResult.Lost;
  return VoteResult.Pending;
}

const idSet = fc.uniqueArray(fc.integer({ min: 1, max: 9 }), { maxLength: 7 }).map((a) => a.sort((x, y) => x - y));

describe('quorum properties', () => {
  it('majority commit index equals the naive oracle', () => {
    fc.assert(
      fc.property(idSet, fc.dictionary(fc.integer({ min: 1, max: 9 }).map(String), fc.nat(20)), (voters, d) => {
        const a = new Map(Object.entries(d).map(([k, x]) => [Number(k), x]));
        expect(majorityCommittedIndex(voters, { ackedIndex: (id) => a.get(id) })).toBe(oracleCommitted(voters, a));
      }),
      { numRuns: 500 },
    );
  });

  it('joint commit index equals the minimum of the naive oracles', () => {
    fc.assert(
      fc.property(idSet, idSet, fc.dictionary(fc.integer({ min: 1, max: 9 }).map(String), fc.nat(20)), (inc, out, d) => {
        const a = new Map(Object.entries(d).map(([k, x]) => [Number(k), x]));
        const got = jointCommittedIndex({ incoming: inc, outgoing: out }, { ackedIndex: (id) => a.get(id) });
        expect(got).toBe(Math.min(oracleCommitted(inc, a), oracleCommitted(out, a)));
      }),
      { numRuns: 500 },
    );
  });

  it('majority and joint vote results equal the enumeration oracle', () => {
    fc.assert(
      fc.property(idSet, idSet, fc.dictionary(fc.integer({ min: 1, max: 9 }).map(String), fc.boolean()), (inc, out, d) => {
        const v = new Map(Object.entries(d).map(([k, x]) => [Number(k), x]));
        expect(majorityVoteResult(inc, v)).toBe(oracleVote([inc], v));
        expect(jointVoteResult({ incoming: inc, outgoing: out }, v)).toBe(oracleVote([inc, out], v));
      }),
      { numRuns: 500 },
    );
  });
});
