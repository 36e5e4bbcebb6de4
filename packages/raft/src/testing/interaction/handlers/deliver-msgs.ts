/**
 * deliver-msgs [type=MsgApp] <id>... [drop=(<id>,...)]: delivers the queued messages addressed
 * to each listed node (optionally of one type), and drops those addressed to the `drop` nodes.
 */
import { MessageType } from '../../../types.js';
import type { ScriptCase } from '../../datadriven.js';
import { ScriptError, argInts, argVal, positionalInts } from '../../datadriven.js';
import type { InteractionEnv } from '../env.js';

export function handleDeliverMsgs(env: InteractionEnv, c: ScriptCase): void {
  const typeName = argVal(c, 'type');
  let msgType: number | undefined;
  if (typeName !== undefined) {
    msgType = (MessageType as Record<string, number>)[typeName];
    if (msgType === undefined) throw new ScriptError(c.line, `unknown message type ${typeName}`);
  }
  for (const id of argInts(c, 'drop')) env.deliverMsgs(id, { drop: true, msgType });
  for (const id of positionalInts(c)) env.deliverMsgs(id, { msgType });
}
