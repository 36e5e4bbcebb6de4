/**
 * process-append-thread <id>... [all]: makes the node's oldest written Ready durable (async
 * writes), or all of them with `all`.
 */
import type { ScriptCase } from '../../datadriven.js';
import { argBool, positionalInts } from '../../datadriven.js';
import type { InteractionEnv } from '../env.js';

export function handleProcessAppendThread(env: InteractionEnv, c: ScriptCase): void {
  const all = argBool(c, 'all');
  for (const id of positionalInts(c)) {
    env.line(`> ${id} processing append thread`);
    env.withIndent(() => {
      const n = env.node(id);
      if (n.appendWork.length === 0) env.line('nothing to do');
      else if (all) while (n.appendWork.length > 0) env.processAppendThread(id);
      else env.processAppendThread(id);
    });
  }
}
