/** set-randomized-election-timeout <id> timeout=N: pins the node's current election timeout. */
import type { ScriptCase } from '../../datadriven.js';
import { ScriptError, argInt, positionalInts } from '../../datadriven.js';
import type { InteractionEnv } from '../env.js';

export function handleSetRandomizedElectionTimeout(env: InteractionEnv, c: ScriptCase): void {
  const [id] = positionalInts(c);
  if (id === undefined) throw new ScriptError(c.line, 'set-randomized-election-timeout needs a node id');
  env.node(id).rn.raft.randomizedElectionTimeout = argInt(c, 'timeout');
}
