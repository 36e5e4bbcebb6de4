/**
 * @mrkv/checker: a linearizability checker for recorded histories (Wing & Gong search with
 * Lowe's memoization, partitioned per key, as Porcupine does), with models of mrkv's per-key
 * register and of the Jepsen register and KV workloads, readers of the Jepsen and mrkv history
 * formats, a `HistoryRecorder` for test clients, and explanations of violations narrowed down to
 * the smallest window found. See README.md.
 */
export { checkOperations, checkEvents, DEFAULT_EXPLAIN_TIMEOUT_MS } from './check.js';
export type { CheckOptions } from './check.js';
export type { BudgetOptions } from './budget.js';
export { INDETERMINATE } from './model.js';
export type {
  Model,
  NondeterministicModel,
  StepResult,
  Operation,
  HistoryEvent,
  Time,
  PatchCandidate,
  IndeterminatePatch,
} from './model.js';
export { eventsToOperations, compareTime } from './history.js';
export type { CheckResult, Verdict, Violation, OperationView, WindowOperation, PartitionReport } from './result.js';
export { formatResult, resultToJson, verdictText } from './report.js';
export type { FormatOptions } from './report.js';
export { CheckerCodes } from './errors.js';
export type { CheckerCode } from './errors.js';

export { registerModel, validateRegisterOperation } from './models/register.js';
export type { RegisterInput, RegisterOutput, RegisterValue, GetOutput, CasOutput, WriteOutput } from './models/register.js';
export { jepsenRegisterModel } from './models/jepsen-register.js';
export type { JepsenRegisterInput, JepsenRegisterOutput, JepsenRegisterValue } from './models/jepsen-register.js';
export { jepsenKvModel } from './models/jepsen-kv.js';
export type { JepsenKvInput, JepsenKvOutput } from './models/jepsen-kv.js';
export { powerSetModel } from './models/power-set.js';

export { HISTORY_FORMATS, detectFormat, parseHistory, isHistoryFormat } from './formats/index.js';
export type { HistoryFormat, ParsedHistory } from './formats/index.js';
export { parseJepsenRegister } from './formats/jepsen-register.js';
export { parseJepsenKv } from './formats/jepsen-kv.js';
export { parseMrkvJsonl, formatMrkvEvent, formatMrkvOperation } from './formats/mrkv-jsonl.js';
export type { MrkvEvent, OutcomeType } from './formats/mrkv-jsonl.js';

export { HistoryRecorder } from './recorder.js';
export type { HistoryRecorderOptions, OperationHandle } from './recorder.js';
export { runCli, ExitCodes } from './cli-program.js';
export type { CliIo } from './cli-program.js';
