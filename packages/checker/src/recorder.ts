/**
 * `HistoryRecorder`: what a test client uses to record the register operations it performs, for
 * the checker. Each operation is an invoke followed by one outcome:
 * - `ok(output)`: it completed with that answer;
 * - `fail()`: it definitely did not take effect (rejected before proposing: validation errors,
 *   NotLeader / EpochNotMatch answered before the proposal). It is dropped from the history;
 * - `info()`: the outcome is unknown (timeout, connection reset, undetermined result): it may
 *   take effect at any time after the invoke, or never. An operation never completed counts so too.
 *
 * Times come from the caller, or from the injected `now` (default `process.hrtime.bigint()`), so
 * a simulation can record virtual time. One clock must serve every client of a history. Like a
 * Jepsen process, a client has at most one operation open; after `info` it may invoke again.
 */
import { writeFile } from 'node:fs/promises';
import { MrkvError } from '@mrkv/common';
import { CheckerCodes } from './errors.js';
import { formatMrkvEvent } from './formats/mrkv-jsonl.js';
import type { MrkvEvent } from './formats/mrkv-jsonl.js';
import type { Operation, Time } from './model.js';
import { INDETERMINATE } from './model.js';
import type { RegisterInput, RegisterOutput } from './models/register.js';
import { validateRegisterOperation } from './models/register.js';

export interface HistoryRecorderOptions {
  /** The clock used when a call passes no time. Default: `process.hrtime.bigint()`. */
  readonly now?: () => Time;
  /** Receives each JSON line as it is recorded (e.g. to append to a file while the run goes on). */
  readonly sink?: (line: string) => void;
}

/** A handle on a recorded operation, returned by `invoke`. */
export type OperationHandle = number;

interface Recorded {
  readonly client: number;
  readonly input: RegisterInput;
  readonly call: Time;
  outcome: 'open' | 'ok' | 'fail' | 'info';
  output?: RegisterOutput;
  ret?: Time;
}

function badUse(message: string, details: Record<string, unknown> = {}): MrkvError {
  return new MrkvError(CheckerCodes.INVALID_ARGUMENT, message, { details });
}

export class HistoryRecorder {
  private readonly now: () => Time;
  private readonly sink: ((line: string) => void) | undefined;
  private readonly ops: Recorded[] = [];
  /** Every event in order; formatted as JSON lines only when asked (`toJsonl`) or for the sink. */
  private readonly events: MrkvEvent[] = [];
  private readonly openByClient = new Map<number, OperationHandle>();

  constructor(options: HistoryRecorderOptions = {}) {
    this.now = options.now ?? (() => process.hrtime.bigint());
    this.sink = options.sink;
  }

  /** Operations recorded so far (of any outcome). */
  get size(): number {
    return this.ops.length;
  }

  /** Records that `client` issued `input`. Returns the handle to record its outcome with. */
  invoke(client: number, input: RegisterInput, time?: Time): OperationHandle {
    if (!Number.isSafeInteger(client)) throw badUse(`client must be an integer, got ${String(client)}`);
    const open = this.openByClient.get(client);
    if (open !== undefined) {
      throw badUse(`client ${client} invokes while its operation ${open} is still open; record its outcome first`, { client, open });
    }
    const problem = validateRegisterOperation(input, undefined);
    if (problem !== undefined) throw badUse(`invalid input: ${problem}`, { client });
    const call = this.timeOf(time);
    const handle = this.ops.length;
    this.ops.push({ client, input, call, outcome: 'open' });
    this.openByClient.set(client, handle);
    this.emit({ type: 'invoke', client, input, time: call });
    return handle;
  }

  /** The operation completed with `output`. */
  ok(handle: OperationHandle, output: RegisterOutput, time?: Time): void {
    const op = this.openOp(handle);
    const problem = validateRegisterOperation(op.input, output);
    if (problem !== undefined) throw badUse(`invalid output for operation ${handle}: ${problem}`, { handle });
    this.close(handle, op, 'ok', time, output);
  }

  /** The operation definitely did not take effect. */
  fail(handle: OperationHandle, time?: Time): void {
    this.close(handle, this.openOp(handle), 'fail', time);
  }

  /** The outcome of the operation is unknown. */
  info(handle: OperationHandle, time?: Time): void {
    this.close(handle, this.openOp(handle), 'info', time);
  }

  /** The history for `checkOperations(registerModel, …)`: failed operations left out. */
  operations(): Operation<RegisterInput, RegisterOutput>[] {
    const out: Operation<RegisterInput, RegisterOutput>[] = [];
    for (const op of this.ops) {
      if (op.outcome === 'fail') continue;
      if (op.outcome === 'ok') out.push({ clientId: op.client, input: op.input, output: op.output, call: op.call, ret: op.ret! });
      else out.push({ clientId: op.client, input: op.input, call: op.call, ret: INDETERMINATE });
    }
    return out;
  }

  /** Every event recorded so far as mrkv JSON lines (`--format mrkv-jsonl`). */
  toJsonl(): string {
    return this.events.length === 0 ? '' : `${this.events.map(formatMrkvEvent).join('\n')}\n`;
  }

  /** Writes `toJsonl()` to `path`. */
  async writeJsonl(path: string): Promise<void> {
    await writeFile(path, this.toJsonl(), 'utf8');
  }

  private timeOf(time: Time | undefined): Time {
    const t = time ?? this.now();
    const valid = typeof t === 'bigint' ? t >= 0n : typeof t === 'number' && Number.isFinite(t);
    if (!valid) throw badUse(`time must be a finite number or a non-negative bigint, got ${String(t)}`);
    return t;
  }

  private openOp(handle: OperationHandle): Recorded {
    const op = this.ops[handle];
    if (op === undefined) throw badUse(`no operation ${String(handle)} was invoked`, { handle });
    if (op.outcome !== 'open') throw badUse(`operation ${handle} already has outcome ${op.outcome}`, { handle });
    return op;
  }

  private close(handle: OperationHandle, op: Recorded, outcome: 'ok' | 'fail' | 'info', time: Time | undefined, output?: RegisterOutput): void {
    const ret = this.timeOf(time);
    if (ret < op.call) throw badUse(`operation ${handle} completes at ${String(ret)}, before its invoke at ${String(op.call)}`, { handle });
    op.outcome = outcome;
    op.ret = ret;
    if (output !== undefined) op.output = output;
    this.openByClient.delete(op.client);
    this.emit({ type: outcome, client: op.client, input: op.input, ...(output === undefined ? {} : { output }), time: ret });
  }

  private emit(ev: MrkvEvent): void {
    // Recorded inputs and outputs are never changed afterwards, so formatting later gives the same line.
    this.events.push(ev);
    if (this.sink !== undefined) this.sink(formatMrkvEvent(ev));
  }
}
