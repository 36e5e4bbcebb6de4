/** read-index <id> <ctx>: requests a read point; the answer is a read state with the same ctx. */
import type { ScriptCase } from '../../datadriven.js';
import { ScriptError, positionals } from '../../datadriven.js';
import type { InteractionEnv } from '../env.js';

export function handleReadIndex(env: InteractionEnv, c: ScriptCase): void {
  const [id, ctx] = positionals(c);
  if (id === undefined || ctx === undefined) throw new ScriptError(c.line, 'usage: read-index <id> <ctx>');
  env.node(Number(id)).rn.readIndex(new TextEncoder().encode(ctx));
}
