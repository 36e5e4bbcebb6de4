/** The raft membership a region's peer list stands for (TiKV `conf_state_from_region`). */
import type { ConfState } from '@mrkv/raft';
import type { Region } from '@mrkv/proto';

/**
 * Voters are `Voter` and `IncomingVoter` peers; in a joint configuration (any `IncomingVoter` or
 * `DemotingVoter`) the outgoing voters are `Voter` and `DemotingVoter` peers, and demoting voters
 * become learners when the joint state is left.
 */
export function confStateFromRegion(region: Region): ConfState {
  const cs: ConfState = { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
  const joint = region.peers.some((p) => p.role === 'IncomingVoter' || p.role === 'DemotingVoter');
  for (const p of region.peers) {
    switch (p.role) {
      case 'Voter':
        cs.voters.push(p.id);
        if (joint) cs.votersOutgoing.push(p.id);
        break;
      case 'IncomingVoter':
        cs.voters.push(p.id);
        break;
      case 'DemotingVoter':
        cs.votersOutgoing.push(p.id);
        cs.learnersNext.push(p.id);
        break;
      case 'Learner':
        cs.learners.push(p.id);
        break;
    }
  }
  for (const a of [cs.voters, cs.learners, cs.votersOutgoing, cs.learnersNext]) a.sort((x, y) => x - y);
  return cs;
}
