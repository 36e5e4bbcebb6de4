/** status <id>: the node's configuration and, on a leader, every member's progress. */
import { describeConfState } from '../../../describe.js';
import { stateRoleName } from '../../../types.js';
import type { ScriptCase } from '../../datadriven.js';
import { ScriptError, positionalInts } from '../../datadriven.js';
import type { InteractionEnv } from '../env.js';

export function handleStatus(env: InteractionEnv, c: ScriptCase): void {
  const [id] = positionalInts(c);
  if (id === undefined) throw new ScriptError(c.line, 'status needs a node id');
  const rn = env.node(id).rn;
  const st = rn.status();
  env.line(`${id}: ${stateRoleName(st.raftState)} term=${st.term} commit=${st.commit} applied=${st.applied} ${describeConfState(st.config)}`);
  if (st.leadTransferee !== 0) env.line(`transferring leadership to ${st.leadTransferee}`);
  const { ids, prs } = rn.raft.trk.progress;
  if (st.progress.size === 0) return;
  ids.forEach((pid, i) => env.line(`${pid}: ${prs[i]!.toString()}`));
}
