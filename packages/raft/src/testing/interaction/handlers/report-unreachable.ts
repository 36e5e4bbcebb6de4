/** report-unreachable <id> <target>: tells node `id` that `target` could not be reached. */
import type { ScriptCase } from '../../datadriven.js';
import { ScriptError, positionalInts } from '../../datadriven.js';
import type { InteractionEnv } from '../env.js';

export function handleReportUnreachable(env: InteractionEnv, c: ScriptCase): void {
  const [id, target] = positionalInts(c);
  if (id === undefined || target === undefined) throw new ScriptError(c.line, 'usage: report-unreachable <id> <target>');
  env.node(id).rn.reportUnreachable(target);
}
