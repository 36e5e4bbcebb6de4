/** tick-heartbeat <id>: ticks the node heartbeatTick times. */
import type { ScriptCase } from '../../datadriven.js';
import { ScriptError, positionalInts } from '../../datadriven.js';
import type { InteractionEnv } from '../env.js';

export function handleTickHeartbeat(env: InteractionEnv, c: ScriptCase): void {
  const [id] = positionalInts(c);
  if (id === undefined) throw new ScriptError(c.line, 'tick-heartbeat needs a node id');
  const n = env.node(id);
  for (let i = 0; i < n.config.heartbeatTick; i++) n.rn.tick();
}
