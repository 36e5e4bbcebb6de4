/** log-level debug|info|warn|error|none: which raft log lines appear in the output. */
import type { ScriptCase } from '../../datadriven.js';
import { ScriptError, positionals } from '../../datadriven.js';
import type { InteractionEnv, LogLevel } from '../env.js';

const LEVELS = ['debug', 'info', 'warn', 'error', 'none'];

export function handleLogLevel(env: InteractionEnv, c: ScriptCase): void {
  const [l] = positionals(c);
  if (l === undefined || !LEVELS.includes(l)) throw new ScriptError(c.line, `log-level takes one of ${LEVELS.join('|')}`);
  env.setLogLevel(l as LogLevel);
}
