/**
 * A toy executor of PD commands for scheduling tests: applies a HeartbeatCommand to a region the
 * way a store's raftstore would (conf changes bump conf_ver, a transfer moves the leader), so a
 * test can loop heartbeat → command → apply → heartbeat until the cluster settles.
 */
import { cloneRegion, type Peer, type Region } from '@mrkv/proto';
import type { HeartbeatCommand } from '../schedule/operator.js';

export interface SimRegion {
  meta: Region;
  leader: Peer;
}

/** Applies `cmd` to `r` in place. Unknown or no-op commands leave it unchanged (idempotence). */
export function applyCommand(r: SimRegion, cmd: HeartbeatCommand): void {
  const c = cmd.command;
  const meta = cloneRegion(r.meta);
  switch (c.kind) {
    case 'changePeer': {
      const i = meta.peers.findIndex((p) => p.id === c.peer.id);
      if (c.changeType === 'AddLearnerNode') {
        if (i >= 0) return;
        meta.peers.push({ ...c.peer, role: 'Learner' });
      } else if (c.changeType === 'AddNode') {
        if (i >= 0 && meta.peers[i]!.role === 'Voter') return;
        if (i >= 0) meta.peers[i] = { ...meta.peers[i]!, role: 'Voter' };
        else meta.peers.push({ ...c.peer, role: 'Voter' });
      } else {
        if (i < 0) return;
        meta.peers.splice(i, 1);
      }
      meta.regionEpoch.confVer++;
      r.meta = meta;
      return;
    }
    case 'transferLeader': {
      const to = meta.peers.find((p) => p.id === c.peer.id);
      if (to !== undefined) r.leader = to;
      return;
    }
    case 'splitRegion':
    case 'merge':
      return;
  }
}
