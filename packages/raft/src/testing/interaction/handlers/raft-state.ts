/** raft-state: one line per node with its role, membership, term and leader. */
import { stateRoleName } from '../../../types.js';
import type { ScriptCase } from '../../datadriven.js';
import type { InteractionEnv } from '../env.js';

export function handleRaftState(env: InteractionEnv, _c: ScriptCase): void {
  for (const n of env.nodes) {
    const st = n.rn.basicStatus();
    const cs = n.confState;
    const member = cs.voters.includes(n.id) || cs.votersOutgoing.includes(n.id) ? 'Voter' : cs.learners.includes(n.id) ? 'Learner' : 'Non-member';
    env.line(`${n.id}: ${stateRoleName(st.raftState)} (${member}) term=${st.term} lead=${st.lead} commit=${st.commit} persisted=${st.persisted} applied=${st.applied}`);
  }
}
