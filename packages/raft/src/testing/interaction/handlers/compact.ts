/** compact <id> <index>: discards the node's stored log up to `index`, then prints the log. */
import type { ScriptCase } from '../../datadriven.js';
import { ScriptError, positionalInts } from '../../datadriven.js';
import type { InteractionEnv } from '../env.js';
import { printRaftLog } from './raft-log.js';

export function handleCompact(env: InteractionEnv, c: ScriptCase): void {
  const [id, index] = positionalInts(c);
  if (id === undefined || index === undefined) throw new ScriptError(c.line, 'usage: compact <id> <index>');
  env.node(id).storage.compact(index);
  printRaftLog(env, id);
}
