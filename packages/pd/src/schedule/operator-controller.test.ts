import { ManualClock } from '@mrkv/common';
import { describe, expect, it } from 'vitest';
import { info, peer, region } from '../__tests__/fixtures.js';
import { applyCommand } from '../__tests__/sim-store.js';
import { DEFAULT_SCHEDULE_CONFIG } from '../config.js';
import type { RegionInfo } from '../core/region-info.js';
import { addPeerOperator, movePeerOperator, removePeerOperator, transferLeaderOperator, type BuildContext } from './builder.js';
import type { HeartbeatCommand } from './operator.js';
import { OperatorController } from './operator-controller.js';

const ctx: BuildContext = { kind: 'admin', source: 'test', storeUsable: () => true };

function setup(r: RegionInfo) {
  const clock = new ManualClock();
  let cur = r;
  const sent: HeartbeatCommand[] = [];
  const oc = new OperatorController({
    clock,
    config: () => ({ ...DEFAULT_SCHEDULE_CONFIG, fastStepTimeoutMs: 1000, slowStepTimeoutMs: 5000 }),
    region: () => cur,
    dispatch: (c) => sent.push(c),
  });
  return { clock, oc, sent, set: (x: RegionInfo) => (cur = x) };
}

describe('OperatorController', () => {
  it('tracks a move through its steps from heartbeats and sends each step to the leader', () => {
    const r0 = info(region(1, '', '', [peer(11, 1), peer(12, 2), peer(13, 3)]));
    const { oc, sent, set } = setup(r0);
    const op = oc.add(movePeerOperator(r0, 1, 4, 14, ctx));
    // dispatched at once: add learner 14 on store 4, addressed to the leader (peer 11)
    expect(sent).toHaveLength(1);
    expect(sent[0]!.targetPeer).toEqual(peer(11, 1));
    expect(sent[0]!.command).toEqual({ kind: 'changePeer', changeType: 'AddLearnerNode', peer: peer(14, 4, 'Learner') });
    const sim = { meta: r0.meta, leader: r0.leader! };
    const seen: string[] = [];
    for (let i = 0; i < 10; i++) {
      const cur = info(sim.meta, { leader: sim.leader });
      set(cur);
      const cmd = oc.onRegionHeartbeat(cur);
      if (cmd === undefined) break;
      seen.push(cmd.command.kind === 'changePeer' ? `${cmd.command.changeType}:${cmd.command.peer.id}` : `${cmd.command.kind}:${(cmd.command as { peer: { id: number } }).peer.id}`);
      expect(cmd.regionEpoch).toEqual(sim.meta.regionEpoch);
      applyCommand(sim, cmd);
    }
    expect(seen).toEqual(['AddLearnerNode:14', 'AddNode:14', 'transferLeader:14', 'RemoveNode:11']);
    expect(op.status).toBe('success');
    expect(sim.meta.peers.map((p) => p.storeId).sort()).toEqual([2, 3, 4]);
    expect(oc.list()).toHaveLength(0);
    expect(oc.history()[0]).toBe(op);
  });

  it('re-sends the current step until the heartbeat shows it done, and waits out a pending learner', () => {
    const r0 = info(region(1, '', '', [peer(11, 1), peer(12, 2)]));
    const { oc } = setup(r0);
    oc.add(addPeerOperator(r0, 3, 13, ctx));
    expect(oc.onRegionHeartbeat(r0)?.command).toMatchObject({ changeType: 'AddLearnerNode' });
    expect(oc.onRegionHeartbeat(r0)?.command).toMatchObject({ changeType: 'AddLearnerNode' });
    const withLearner = region(1, '', '', [peer(11, 1), peer(12, 2), peer(13, 3, 'Learner')], 1, 2);
    // still pending (catching up): not finished
    expect(oc.onRegionHeartbeat(info(withLearner, { pendingPeers: [peer(13, 3, 'Learner')] }))?.command).toMatchObject({ changeType: 'AddLearnerNode' });
    expect(oc.onRegionHeartbeat(info(withLearner))?.command).toMatchObject({ changeType: 'AddNode', peer: peer(13, 3) });
  });

  it('allows one operator per region; an admin replace ends the old one', () => {
    const r0 = info(region(1, '', '', [peer(11, 1), peer(12, 2)]));
    const { oc } = setup(r0);
    const first = oc.add(transferLeaderOperator(r0, 2, ctx));
    expect(() => oc.add(removePeerOperator(r0, 2, ctx))).toThrow(expect.objectContaining({ code: 'PD:schedule:ErrOperator' }));
    oc.add(removePeerOperator(r0, 2, ctx), { replace: true });
    expect(first.status).toBe('replaced');
    expect(oc.list()).toHaveLength(1);
  });

  it('times steps out: fast steps after fast-step-timeout, slow ones after slow-step-timeout', () => {
    const r0 = info(region(1, '', '', [peer(11, 1), peer(12, 2)]));
    const { oc, clock } = setup(r0);
    const fast = oc.add(transferLeaderOperator(r0, 2, ctx));
    clock.advance(1001);
    oc.tick();
    expect(fast.status).toBe('timeout');
    const slow = oc.add(addPeerOperator(r0, 3, 13, ctx));
    clock.advance(4000);
    expect(oc.onRegionHeartbeat(r0)).toBeDefined();
    clock.advance(1001);
    expect(oc.onRegionHeartbeat(r0)).toBeUndefined();
    expect(slow.status).toBe('timeout');
    expect(slow.reason).toContain('add learner');
  });

  it('cancels by region, and ends operators whose region moved on unexpectedly', () => {
    const r0 = info(region(1, '', '', [peer(11, 1), peer(12, 2)]));
    const { oc } = setup(r0);
    const op = oc.add(transferLeaderOperator(r0, 2, ctx));
    expect(oc.cancel(1).status).toBe('cancelled');
    expect(op.status).toBe('cancelled');
    expect(() => oc.cancel(1)).toThrow(expect.objectContaining({ code: 'PD:schedule:ErrOperatorNotFound' }));
    const again = oc.add(transferLeaderOperator(r0, 2, ctx));
    // someone split the region: version changed under a leader transfer
    expect(oc.onRegionHeartbeat(info(region(1, '', 'm', [peer(11, 1), peer(12, 2)], 2)))).toBeUndefined();
    expect(again.status).toBe('stale');
  });

  it('ends the operator of a region that another region replaced', () => {
    const r0 = info(region(1, '', '', [peer(11, 1), peer(12, 2)]));
    const { oc } = setup(r0);
    const op = oc.add(transferLeaderOperator(r0, 2, ctx));
    oc.onRegionsRemoved([r0]);
    expect(op.status).toBe('stale');
  });
});
