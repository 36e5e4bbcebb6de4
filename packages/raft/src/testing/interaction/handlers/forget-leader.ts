/** forget-leader <id>: the node forgets its leader. */
import type { ScriptCase } from '../../datadriven.js';
import { ScriptError, positionalInts } from '../../datadriven.js';
import type { InteractionEnv } from '../env.js';

export function handleForgetLeader(env: InteractionEnv, c: ScriptCase): void {
  const [id] = positionalInts(c);
  if (id === undefined) throw new ScriptError(c.line, 'forget-leader needs a node id');
  env.node(id).rn.forgetLeader();
}
