/**
 * _breakpoint: does nothing. Put it in a script and a debugger breakpoint here to stop at that
 * point of the scenario.
 */
import type { ScriptCase } from '../../datadriven.js';
import type { InteractionEnv } from '../env.js';

export function handleBreakpoint(_env: InteractionEnv, _c: ScriptCase): void {
  // Set a breakpoint on this line.
}
