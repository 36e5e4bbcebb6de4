/** propose <id> <data>: proposes one normal entry. */
import { isRaftError } from '../../../errors.js';
import type { ScriptCase } from '../../datadriven.js';
import { ScriptError, positionals } from '../../datadriven.js';
import type { InteractionEnv } from '../env.js';

export function handlePropose(env: InteractionEnv, c: ScriptCase): void {
  const [id, data] = positionals(c);
  if (id === undefined || data === undefined) throw new ScriptError(c.line, 'usage: propose <id> <data>');
  try {
    env.node(Number(id)).rn.propose(new TextEncoder().encode(data));
  } catch (e) {
    if (!isRaftError(e)) throw e;
    env.line(`error: ${e.message}`);
  }
}
