/** report-snapshot <id> <target> [failure]: reports how sending a snapshot to `target` ended. */
import { SnapshotStatus } from '../../../types.js';
import type { ScriptCase } from '../../datadriven.js';
import { ScriptError, argBool, positionalInts } from '../../datadriven.js';
import type { InteractionEnv } from '../env.js';

export function handleReportSnapshot(env: InteractionEnv, c: ScriptCase): void {
  const [id, target] = positionalInts(c);
  if (id === undefined || target === undefined) throw new ScriptError(c.line, 'usage: report-snapshot <id> <target> [failure]');
  env.node(id).rn.reportSnapshot(target, argBool(c, 'failure') ? SnapshotStatus.Failure : SnapshotStatus.Finish);
}
