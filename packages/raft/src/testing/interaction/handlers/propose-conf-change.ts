/**
 * propose-conf-change <id> [v1] [transition=auto|implicit|explicit]
 * v2 l3 r4
 *
 * Proposes a configuration change written as change tokens (v = voter, l = learner,
 * r = remove) on the input line; `v1` sends the single change as a V1 ConfChange.
 */
import { confChangesFromString } from '../../../conf-change.js';
import { isRaftError } from '../../../errors.js';
import type { ConfChangeTransition } from '../../../types.js';
import type { ScriptCase } from '../../datadriven.js';
import { ScriptError, argBool, argVal, positionalInts } from '../../datadriven.js';
import type { InteractionEnv } from '../env.js';

const TRANSITIONS: Record<string, ConfChangeTransition> = { auto: 0, implicit: 1, explicit: 2 };

export function handleProposeConfChange(env: InteractionEnv, c: ScriptCase): void {
  const [id] = positionalInts(c);
  if (id === undefined) throw new ScriptError(c.line, 'propose-conf-change needs a node id');
  const changes = confChangesFromString(c.input.join(' '));
  const transition = TRANSITIONS[argVal(c, 'transition') ?? 'auto'];
  if (transition === undefined) throw new ScriptError(c.line, `unknown transition ${argVal(c, 'transition')}`);
  const ctx = new Uint8Array(0);
  try {
    if (argBool(c, 'v1')) {
      if (changes.length !== 1) throw new ScriptError(c.line, 'v1 takes exactly one change');
      env.node(id).rn.proposeConfChange({ id: 0, changeType: changes[0]!.changeType, nodeId: changes[0]!.nodeId, context: ctx });
    } else {
      env.node(id).rn.proposeConfChange({ transition, changes, context: ctx });
    }
  } catch (e) {
    if (!isRaftError(e)) throw e;
    env.line(`error: ${e.message}`);
  }
}
