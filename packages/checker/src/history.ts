/**
 * History plumbing shared by the search and the reports: validation of caller-supplied
 * operations (the boundary: interior code trusts what leaves here), event-stream conversion,
 * and time comparison across `number` and `bigint` clocks.
 */
import { invalidHistory } from './errors.js';
import { INDETERMINATE } from './model.js';
import type { HistoryEvent, Model, Operation, Time } from './model.js';

/**
 * A validated operation. `index` is its position in the caller's array (stable across
 * partitioning), `output` is `undefined` exactly when the operation is indeterminate.
 */
export interface CheckedOperation<I, O> {
  readonly index: number;
  readonly clientId: number;
  readonly input: I;
  readonly output: O | undefined;
  readonly call: Time;
  readonly ret: Time;
  readonly indeterminate: boolean;
  /**
   * The operation may not have happened at all. True for indeterminate operations; the
   * explanation also sets it on definite ones it relaxes ("happened in its interval, or not").
   */
  readonly optional: boolean;
  /** Recorded as indeterminate, then bounded by `Model.patchIndeterminate`: reports show it as recorded. */
  readonly bounded: boolean;
}

/** Orders two times; `number` and `bigint` compare by value, `Infinity` is after every bigint. */
export function compareTime(a: Time, b: Time): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** True for the return time of an operation that never returned. */
export function isIndeterminateTime(t: Time): boolean {
  return t === INDETERMINATE;
}

function isTime(t: unknown, allowInfinity: boolean): t is Time {
  if (typeof t === 'bigint') return true;
  if (typeof t !== 'number' || Number.isNaN(t)) return false;
  return Number.isFinite(t) || (allowInfinity && t === INDETERMINATE);
}

/**
 * Validates operations and drops those that constrain nothing (indeterminate read-only ones, when
 * the model says which inputs are read-only). Throws `KV:Checker:InvalidHistory` on bad input.
 */
export function checkOperationsInput<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
): CheckedOperation<I, O>[] {
  if (!Array.isArray(ops)) throw invalidHistory('history must be an array of operations');
  const out: CheckedOperation<I, O>[] = [];
  for (let index = 0; index < ops.length; index++) {
    const op = ops[index];
    if (op === null || typeof op !== 'object') throw invalidHistory(`operation ${index} is not an object`, { index });
    if (!isTime(op.call, false)) {
      throw invalidHistory(`operation ${index}: call time must be a finite number or a bigint`, { index });
    }
    if (!isTime(op.ret, true)) {
      throw invalidHistory(`operation ${index}: return time must be a number, a bigint or INDETERMINATE`, { index });
    }
    if (compareTime(op.ret, op.call) < 0) {
      throw invalidHistory(`operation ${index} returns (${String(op.ret)}) before its call (${String(op.call)})`, {
        index,
      });
    }
    if (typeof op.clientId !== 'number') throw invalidHistory(`operation ${index}: clientId must be a number`, { index });
    const indeterminate = op.ret === INDETERMINATE;
    const output = indeterminate ? undefined : op.output;
    if (op.input === null || op.input === undefined) throw invalidHistory(`operation ${index} has no input`, { index });
    const problem = model.validate?.(op.input, output);
    if (problem !== undefined) throw invalidHistory(`operation ${index}: ${problem}`, { index });
    if (indeterminate && model.isReadOnly?.(op.input) === true) continue;
    out.push({
      index,
      clientId: op.clientId,
      input: op.input,
      output,
      call: op.call,
      ret: op.ret,
      indeterminate,
      optional: indeterminate,
      bounded: false,
    });
  }
  return out;
}

/**
 * Turns an ordered call/return event stream into operations. Without `time` fields an event's
 * position is its time; a call with no return becomes an indeterminate operation.
 */
export function eventsToOperations<I, O>(events: readonly HistoryEvent<I, O>[]): Operation<I, O>[] {
  if (!Array.isArray(events)) throw invalidHistory('history must be an array of events');
  const open = new Map<number, { clientId: number; input: I; call: Time }>();
  const closed = new Set<number>();
  const ops: Operation<I, O>[] = [];
  const byId = new Map<number, number>();
  let timed: boolean | undefined;
  for (let i = 0; i < events.length; i++) {
    const ev = events[i]!;
    const hasTime = ev.time !== undefined;
    if (timed === undefined) timed = hasTime;
    if (timed !== hasTime) throw invalidHistory(`event ${i}: either every event has a time or none does`, { event: i });
    const time = ev.time ?? i;
    if (ev.kind === 'call') {
      if (open.has(ev.id) || closed.has(ev.id)) throw invalidHistory(`event ${i}: duplicate call id ${ev.id}`, { event: i });
      open.set(ev.id, { clientId: ev.clientId, input: ev.input, call: time });
      byId.set(ev.id, ops.length);
      ops.push({ clientId: ev.clientId, input: ev.input, call: time, ret: INDETERMINATE });
    } else if (ev.kind === 'return') {
      const pending = open.get(ev.id);
      if (pending === undefined) throw invalidHistory(`event ${i}: return for unknown or finished id ${ev.id}`, { event: i });
      open.delete(ev.id);
      closed.add(ev.id);
      ops[byId.get(ev.id)!] = { clientId: pending.clientId, input: pending.input, output: ev.output, call: pending.call, ret: time };
    } else {
      throw invalidHistory(`event ${i}: kind must be 'call' or 'return'`, { event: i });
    }
  }
  return ops;
}
