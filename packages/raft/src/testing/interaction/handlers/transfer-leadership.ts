/** transfer-leadership from=<id> to=<id>: asks node `from` to hand leadership to `to`. */
import type { ScriptCase } from '../../datadriven.js';
import { argInt } from '../../datadriven.js';
import type { InteractionEnv } from '../env.js';

export function handleTransferLeadership(env: InteractionEnv, c: ScriptCase): void {
  env.node(argInt(c, 'from')).rn.transferLeader(argInt(c, 'to'));
}
