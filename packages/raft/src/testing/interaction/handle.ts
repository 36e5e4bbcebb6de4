/**
 * Runs one script command against an InteractionEnv and returns its output ("ok" when it
 * printed nothing). Each command lives in its own file under handlers/.
 */
import type { ScriptCase } from '../datadriven.js';
import { ScriptError } from '../datadriven.js';
import type { InteractionEnv } from './env.js';
import { handleAddNodes } from './handlers/add-nodes.js';
import { handleBreakpoint } from './handlers/breakpoint.js';
import { handleCampaign } from './handlers/campaign.js';
import { handleCompact } from './handlers/compact.js';
import { handleDeliverMsgs } from './handlers/deliver-msgs.js';
import { handleForgetLeader } from './handlers/forget-leader.js';
import { handleLogLevel } from './handlers/log-level.js';
import { handleProcessAppendThread } from './handlers/process-append-thread.js';
import { handleProcessApplyThread } from './handlers/process-apply-thread.js';
import { handleProcessReady } from './handlers/process-ready.js';
import { handlePropose } from './handlers/propose.js';
import { handleProposeConfChange } from './handlers/propose-conf-change.js';
import { handleRaftLog } from './handlers/raft-log.js';
import { handleRaftState } from './handlers/raft-state.js';
import { handleReadIndex } from './handlers/read-index.js';
import { handleReportSnapshot } from './handlers/report-snapshot.js';
import { handleReportUnreachable } from './handlers/report-unreachable.js';
import { handleSendSnapshot } from './handlers/send-snapshot.js';
import { handleSetRandomizedElectionTimeout } from './handlers/set-randomized-election-timeout.js';
import { handleStabilize } from './handlers/stabilize.js';
import { handleStatus } from './handlers/status.js';
import { handleTickElection } from './handlers/tick-election.js';
import { handleTickHeartbeat } from './handlers/tick-heartbeat.js';
import { handleTransferLeadership } from './handlers/transfer-leadership.js';

type Handler = (env: InteractionEnv, c: ScriptCase) => void;

const HANDLERS: Record<string, Handler> = {
  'add-nodes': handleAddNodes,
  campaign: handleCampaign,
  compact: handleCompact,
  'deliver-msgs': handleDeliverMsgs,
  'forget-leader': handleForgetLeader,
  'log-level': handleLogLevel,
  'process-append-thread': handleProcessAppendThread,
  'process-apply-thread': handleProcessApplyThread,
  'process-ready': handleProcessReady,
  propose: handlePropose,
  'propose-conf-change': handleProposeConfChange,
  'raft-log': handleRaftLog,
  'raft-state': handleRaftState,
  'read-index': handleReadIndex,
  'report-snapshot': handleReportSnapshot,
  'report-unreachable': handleReportUnreachable,
  'send-snapshot': handleSendSnapshot,
  'set-randomized-election-timeout': handleSetRandomizedElectionTimeout,
  stabilize: handleStabilize,
  status: handleStatus,
  'tick-election': handleTickElection,
  'tick-heartbeat': handleTickHeartbeat,
  'transfer-leadership': handleTransferLeadership,
  _breakpoint: handleBreakpoint,
};

/** The command names the scripts may use. */
export const COMMANDS: readonly string[] = Object.keys(HANDLERS);

export function handleCommand(env: InteractionEnv, c: ScriptCase): string {
  const h = HANDLERS[c.cmd];
  if (h === undefined) throw new ScriptError(c.line, `unknown command "${c.cmd}"`);
  h(env, c);
  const out = env.takeOutput();
  return out === '' ? 'ok' : out;
}
