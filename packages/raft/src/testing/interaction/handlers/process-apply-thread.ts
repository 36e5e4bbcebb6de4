/** process-apply-thread <id>...: applies the node's handed-out committed entries (async writes). */
import type { ScriptCase } from '../../datadriven.js';
import { positionalInts } from '../../datadriven.js';
import type { InteractionEnv } from '../env.js';

export function handleProcessApplyThread(env: InteractionEnv, c: ScriptCase): void {
  for (const id of positionalInts(c)) {
    env.line(`> ${id} processing apply thread`);
    env.withIndent(() => {
      if (env.node(id).applyWork.length === 0) env.line('nothing to do');
      else env.processApplyThread(id);
    });
  }
}
