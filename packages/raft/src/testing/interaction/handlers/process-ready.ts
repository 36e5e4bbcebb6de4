/** process-ready <id>...: each listed node takes and handles one Ready. */
import type { ScriptCase } from '../../datadriven.js';
import { positionalInts } from '../../datadriven.js';
import type { InteractionEnv } from '../env.js';

export function handleProcessReady(env: InteractionEnv, c: ScriptCase): void {
  const ids = positionalInts(c);
  for (const id of ids.length > 0 ? ids : env.nodes.map((n) => n.id)) {
    if (env.node(id).rn.hasReady()) env.processReady(id);
    else env.line(`> ${id} has no Ready`);
  }
}
