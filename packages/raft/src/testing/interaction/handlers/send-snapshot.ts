/** send-snapshot <from> <to>: queues a MsgSnap with `from`'s latest snapshot, at its term. */
import { describeMessage } from '../../../describe.js';
import { MessageType, newMessage } from '../../../types.js';
import type { ScriptCase } from '../../datadriven.js';
import { ScriptError, positionalInts } from '../../datadriven.js';
import type { InteractionEnv } from '../env.js';

export function handleSendSnapshot(env: InteractionEnv, c: ScriptCase): void {
  const [from, to] = positionalInts(c);
  if (from === undefined || to === undefined) throw new ScriptError(c.line, 'usage: send-snapshot <from> <to>');
  const n = env.node(from);
  const m = newMessage(MessageType.MsgSnap, to, from, n.rn.term);
  m.snapshot = n.storage.latestSnapshot();
  env.messages.push(m);
  env.line(describeMessage(m));
}
