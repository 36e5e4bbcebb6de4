/** campaign <id>: the node starts an election now. */
import type { ScriptCase } from '../../datadriven.js';
import { ScriptError, positionalInts } from '../../datadriven.js';
import type { InteractionEnv } from '../env.js';

export function handleCampaign(env: InteractionEnv, c: ScriptCase): void {
  const [id] = positionalInts(c);
  if (id === undefined) throw new ScriptError(c.line, 'campaign needs a node id');
  env.node(id).rn.campaign();
}
