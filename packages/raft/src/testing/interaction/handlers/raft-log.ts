/** raft-log <id>: prints the entries in the node's storage. */
import { describeEntry } from '../../../describe.js';
import type { ScriptCase } from '../../datadriven.js';
import { ScriptError, positionalInts } from '../../datadriven.js';
import type { InteractionEnv } from '../env.js';

export function printRaftLog(env: InteractionEnv, id: number): void {
  const s = env.node(id).storage;
  const ents = s.allEntries();
  if (ents.length === 0) {
    env.line(`log is empty: first index=${s.firstIndex()}, last index=${s.lastIndex()}`);
    return;
  }
  for (const e of ents) env.line(describeEntry(e));
}

export function handleRaftLog(env: InteractionEnv, c: ScriptCase): void {
  const [id] = positionalInts(c);
  if (id === undefined) throw new ScriptError(c.line, 'raft-log needs a node id');
  printRaftLog(env, id);
}
