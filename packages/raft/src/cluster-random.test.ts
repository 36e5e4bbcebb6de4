/**
 * The randomized cluster test: many seeded schedules of a simulated 3- or 5-node group with
 * drops, duplicates, reordering, partitions, crashes and restarts, checking Raft's safety
 * properties after every step and liveness after healing (see testing/sim/cluster-sim.ts).
 *
 * CI runs MRKV_RAFT_SEEDS (default 2000) schedules. A failure names its seed; replay it with
 *
 *   MRKV_RAFT_SEED=<seed> pnpm exec vitest run packages/raft/src/cluster-random.test.ts
 *
 * which prints the full trace of that schedule. Longer soaks: MRKV_RAFT_SEEDS=100000.
 */
import { describe, expect, it } from 'vitest';
import { runSchedule } from './testing/sim/cluster-sim.js';

// Run knobs come from the environment. Tests may read it; the core may not (lint), hence the
// one exception here.
// eslint-disable-next-line no-restricted-globals
const env = process.env;
const seeds = Number(env.MRKV_RAFT_SEEDS ?? 2000);
const only = env.MRKV_RAFT_SEED === undefined ? undefined : Number(env.MRKV_RAFT_SEED);

describe('randomized cluster', () => {
  if (only !== undefined) {
    it(`replays seed ${only}`, () => {
      const r = runSchedule(only, { trace: true });
      console.log(`seed ${only}: ${r.config}\n${r.trace.join('\n')}\n${JSON.stringify(r.stats)}`);
      expect(r.violation).toBeUndefined();
    });
    return;
  }

  it(
    `keeps safety and liveness over ${seeds} seeded schedules`,
    () => {
      const totals: Record<string, number> = {};
      for (let seed = 1; seed <= seeds; seed++) {
        const r = runSchedule(seed);
        if (r.violation !== undefined) {
          throw new Error(`seed ${seed} (${r.config}): ${r.violation}\nreplay: MRKV_RAFT_SEED=${seed} pnpm exec vitest run packages/raft/src/cluster-random.test.ts`);
        }
        for (const [k, v] of Object.entries(r.stats)) totals[k] = (totals[k] ?? 0) + v;
      }
      // The schedules must actually exercise the protocol.
      for (const k of ['elected', 'applied', 'restart', 'crash', 'churn', 'snapshot-installed', 'compact', 'partitioned', 'duplicated', 'lost', 'dropped', 'read', 'read-answered']) {
        expect(totals[k] ?? 0, k).toBeGreaterThan(seeds >= 100 ? 10 : 0);
      }
    },
    Math.max(60_000, seeds * 100),
  );

  it('replays a seed exactly', () => {
    const a = runSchedule(7, { trace: true });
    const b = runSchedule(7, { trace: true });
    expect(a.trace).toEqual(b.trace);
    expect(a.trace.length).toBeGreaterThan(100);
  });
});
