/**
 * Operator influence: only the unfinished steps of running operators count, on the stores they
 * touch, and ScheduleContext's loads include them.
 */
import { describe, expect, it } from 'vitest';
import { clusterEnv } from '../__tests__/cluster-env.js';
import { info, peer, region } from '../__tests__/fixtures.js';
import { movePeerOperator, transferLeaderOperator } from './builder.js';
import { ScheduleContext } from './context.js';
import { unfinishedInfluence } from './influence.js';

const build = { kind: 'region' as const, source: 'test', storeUsable: () => true };

describe('unfinishedInfluence', () => {
  it('counts the steps not yet done: a move adds on the target and removes on the source, with the leader', () => {
    const r = info(region(1, '', '', [peer(11, 1), peer(12, 2), peer(13, 3)]), { approximateSize: 8 << 20 });
    const move = movePeerOperator(r, 1, 4, 14, build); // add learner, promote, transfer leader 1 -> 4, remove
    const inf = unfinishedInfluence([move], () => r);
    expect(inf.get(4)).toEqual({ regionCount: 1, leaderCount: 1, regionUnits: 8 });
    expect(inf.get(1)).toEqual({ regionCount: -1, leaderCount: -1, regionUnits: -8 });
    move.currentStep = 3; // only the removal is left
    const later = unfinishedInfluence([move], () => r);
    expect(later.get(4)).toBeUndefined();
    expect(later.get(1)).toEqual({ regionCount: -1, leaderCount: 0, regionUnits: -8 });
    move.currentStep = 4;
    expect(unfinishedInfluence([move], () => r).size).toBe(0);
  });

  it('is in the loads a ScheduleContext hands out, and gone once the heartbeat shows the step', async () => {
    const env = await clusterEnv(3);
    const meta = region(1, '', '', [peer(101, 1), peer(102, 2), peer(103, 3)], 2, 1);
    env.beatStores();
    await env.beat(meta);
    env.pd.operators.add(transferLeaderOperator(env.pd.cluster.requireRegion(1), 2, { ...build, kind: 'leader' }));
    const during = new ScheduleContext(env.pd.cluster, env.pd.operators);
    expect([1, 2, 3].map((id) => during.loads.get(id)?.leaderCount)).toEqual([0, 1, 0]);
    await env.beat(meta, { leader: peer(102, 2) });
    expect(env.pd.operators.list()).toHaveLength(0);
    const after = new ScheduleContext(env.pd.cluster, env.pd.operators);
    expect([1, 2, 3].map((id) => after.loads.get(id)?.leaderCount)).toEqual([0, 1, 0]);
  });
});
