/** Runs a whole datadriven script in a fresh InteractionEnv. */
import { parseScript, rewriteScript } from '../datadriven.js';
import { InteractionEnv } from './env.js';
import { handleCommand } from './handle.js';

export interface ScriptResult {
  /** The script with every expected output replaced by the actual one. */
  rewritten: string;
  /** The first case whose output differs: its line, expected and actual output. */
  firstMismatch: { line: number; cmd: string; expected: string; actual: string } | undefined;
}

export function runScript(text: string): ScriptResult {
  const cases = parseScript(text);
  const env = new InteractionEnv();
  const outputs: string[] = [];
  let firstMismatch: ScriptResult['firstMismatch'];
  for (const c of cases) {
    const actual = handleCommand(env, c);
    outputs.push(actual);
    if (firstMismatch === undefined && actual !== c.expected) firstMismatch = { line: c.line, cmd: c.cmd, expected: c.expected, actual };
  }
  return { rewritten: rewriteScript(text, cases, outputs), firstMismatch };
}
