/** stabilize [<id>...]: handles Readies and delivers messages among the nodes until quiet. */
import type { ScriptCase } from '../../datadriven.js';
import { positionalInts } from '../../datadriven.js';
import type { InteractionEnv } from '../env.js';

export function handleStabilize(env: InteractionEnv, c: ScriptCase): void {
  const ids = positionalInts(c);
  env.stabilize(ids.length > 0 ? ids : env.nodes.map((n) => n.id));
}
