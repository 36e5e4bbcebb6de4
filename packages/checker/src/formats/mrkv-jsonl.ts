/**
 * mrkv's own history format: JSON lines of register operations, written by `HistoryRecorder`,
 * the simulator and the chaos suite. A line is either an event or a whole operation:
 *
 *   {"type":"invoke","client":1,"op":"put","key":"k","value":"v","time":100}
 *   {"type":"ok","client":1,"op":"put","key":"k","time":130}
 *   {"type":"ok","client":2,"op":"get","key":"k","value":"v","call":101,"ret":140}
 *
 * - `type`: `invoke`, or an outcome: `ok` (completed), `fail` (definitely not applied: dropped),
 *   `info` (unknown: may apply at any time after the invoke, or never).
 * - `op`: `get` | `put` | `delete` | `cas`; `key`: a string. Inputs: `value` (put; cas new
 *   value, `null` to delete), `expected` (cas; `null`: absent). Outputs, on `ok`: `value` (get;
 *   `null`: absent), `succeeded` and optionally `previous` (cas).
 * - Event lines carry `time`; a completion matches the client's open invoke (one open operation
 *   per client) and may omit `op` and `key`. Operation lines carry `call` and, unless `info`, `ret`.
 * - Times are numbers, or decimal strings for integers beyond 2^53 (nanosecond clocks).
 * Unknown fields are ignored; blank lines are skipped.
 */
import { parseError } from '../errors.js';
import type { Operation, Time } from '../model.js';
import { INDETERMINATE } from '../model.js';
import type { RegisterInput, RegisterOutput, RegisterValue } from '../models/register.js';
import { EventHistoryBuilder } from './event-builder.js';

type Json = Record<string, unknown>;
type Fail = (message: string, cause?: unknown) => never;

const OPS = ['get', 'put', 'delete', 'cas'] as const;
type RegisterOp = (typeof OPS)[number];

/** The outcome of a recorded operation. */
export type OutcomeType = 'ok' | 'fail' | 'info';

/** One event line, as written by `formatMrkvEvent`. */
export type MrkvEvent =
  | { readonly type: 'invoke'; readonly client: number; readonly input: RegisterInput; readonly time: Time }
  | {
      readonly type: OutcomeType;
      readonly client: number;
      readonly input: RegisterInput;
      /** Only for `ok`. */
      readonly output?: RegisterOutput;
      readonly time: Time;
    };

function timeOf(v: unknown, field: string, fail: Fail): Time {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return BigInt(v);
  return fail(`"${field}" must be a finite number or a decimal string`);
}

function valueOf(v: unknown, field: string, fail: Fail): RegisterValue {
  if (v === null || typeof v === 'string') return v;
  return fail(`"${field}" must be a string or null`);
}

function inputOf(o: Json, fail: Fail): RegisterInput {
  const op = o['op'];
  if (typeof op !== 'string' || !(OPS as readonly string[]).includes(op)) fail(`"op" must be one of ${OPS.join(', ')}`);
  const key = o['key'];
  if (typeof key !== 'string') fail('"key" must be a string');
  switch (op as RegisterOp) {
    case 'get':
      return { op: 'get', key: key as string };
    case 'put': {
      const value = o['value'];
      return typeof value === 'string' ? { op: 'put', key: key as string, value } : fail('a put needs a string "value"');
    }
    case 'delete':
      return { op: 'delete', key: key as string };
    case 'cas':
      if (!('expected' in o) || !('value' in o)) fail('a cas needs "expected" and "value" (each a string or null)');
      return { op: 'cas', key: key as string, expected: valueOf(o['expected'], 'expected', fail), value: valueOf(o['value'], 'value', fail) };
  }
}

function outputOf(input: RegisterInput, o: Json, fail: Fail): RegisterOutput {
  switch (input.op) {
    case 'get':
      return 'value' in o ? { value: valueOf(o['value'], 'value', fail) } : fail('a completed get needs "value" (a string or null)');
    case 'put':
    case 'delete':
      return {};
    case 'cas': {
      const succeeded = o['succeeded'];
      if (typeof succeeded !== 'boolean') fail('a completed cas needs a boolean "succeeded"');
      return 'previous' in o
        ? { succeeded: succeeded as boolean, previous: valueOf(o['previous'], 'previous', fail) }
        : { succeeded: succeeded as boolean };
    }
  }
}

function outcomeOf(v: unknown, fail: Fail): 'invoke' | OutcomeType {
  if (v === 'invoke' || v === 'ok' || v === 'fail' || v === 'info') return v;
  return fail('"type" must be invoke, ok, fail or info');
}

/** Parses mrkv JSON lines. Throws `KV:Checker:HistoryParse` naming the line. */
export function parseMrkvJsonl(text: string, source?: string): Operation<RegisterInput, RegisterOutput>[] {
  const events = new EventHistoryBuilder<RegisterInput, RegisterOutput>(source);
  // Operation lines and event lines interleave; keep the file's order of invokes.
  const slots: (Operation<RegisterInput, RegisterOutput> | number | undefined)[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    const raw = lines[i]!.trim();
    if (raw === '') continue;
    const fail: Fail = (message, cause) => {
      throw parseError(line, message, source, cause);
    };
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (e) {
      fail(`not valid JSON (${(e as Error).message})`, e);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) fail('each line must be a JSON object');
    const o = parsed as Json;
    const client = o['client'];
    if (typeof client !== 'number' || !Number.isSafeInteger(client)) fail('"client" must be an integer');
    const type = outcomeOf(o['type'], fail);
    if ('call' in o) {
      slots.push(operationLine(o, client as number, type, fail));
      continue;
    }
    if (!('time' in o)) fail('a line needs "time" (an event) or "call" (an operation)');
    const time = timeOf(o['time'], 'time', fail);
    if (type === 'invoke') {
      slots.push(events.invoke(client as number, String(o['op']), inputOf(o, fail), time, line));
      continue;
    }
    const open = events.openInput(client as number);
    if (open === undefined) fail(`client ${String(client)} has no open operation to complete`);
    const input = open as RegisterInput;
    if ('op' in o && o['op'] !== input.op) fail(`completion of ${String(o['op'])} but the open operation is ${input.op}`);
    if ('key' in o && o['key'] !== input.key) fail(`completion for key ${JSON.stringify(o['key'])} but the open operation is on ${JSON.stringify(input.key)}`);
    if (type === 'ok') events.ok(client as number, input.op, outputOf(input, o, fail), time, line);
    else if (type === 'fail') events.fail(client as number, input.op, line);
    else events.info(client as number, input.op, line);
  }
  return mergeSlots(slots, events.finishSlots());
}

function operationLine(o: Json, client: number, type: 'invoke' | OutcomeType, fail: Fail): Operation<RegisterInput, RegisterOutput> | undefined {
  if (type === 'invoke') return fail('an operation line (with "call") has type ok, fail or info');
  const input = inputOf(o, fail);
  const call = timeOf(o['call'], 'call', fail);
  if (type === 'fail') return undefined;
  if (type === 'info') return { clientId: client, input, call, ret: INDETERMINATE };
  const ret = timeOf(o['ret'], 'ret', fail);
  if (ret < call) fail(`"ret" (${String(ret)}) precedes "call" (${String(call)})`);
  return { clientId: client, input, output: outputOf(input, o, fail), call, ret };
}

function mergeSlots(
  slots: readonly (Operation<RegisterInput, RegisterOutput> | number | undefined)[],
  fromEvents: readonly (Operation<RegisterInput, RegisterOutput> | undefined)[],
): Operation<RegisterInput, RegisterOutput>[] {
  const out: Operation<RegisterInput, RegisterOutput>[] = [];
  for (const s of slots) {
    const op = typeof s === 'number' ? fromEvents[s] : s;
    if (op !== undefined) out.push(op);
  }
  return out;
}

function timeJson(t: Time): number | string {
  return typeof t === 'bigint' ? (t <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(t) : t.toString()) : t;
}

function inputFields(input: RegisterInput): Json {
  switch (input.op) {
    case 'get':
    case 'delete':
      return { op: input.op, key: input.key };
    case 'put':
      return { op: input.op, key: input.key, value: input.value };
    case 'cas':
      return { op: input.op, key: input.key, expected: input.expected, value: input.value };
  }
}

/** One event as a JSON line (no trailing newline). */
export function formatMrkvEvent(ev: MrkvEvent): string {
  const head = { type: ev.type, client: ev.client };
  if (ev.type === 'invoke') return JSON.stringify({ ...head, ...inputFields(ev.input), time: timeJson(ev.time) });
  const out = ev.type === 'ok' && ev.output !== undefined ? ev.output : {};
  return JSON.stringify({ ...head, op: ev.input.op, key: ev.input.key, ...out, time: timeJson(ev.time) });
}

/** One whole operation as a JSON line (no trailing newline); indeterminate ones are `info`. */
export function formatMrkvOperation(op: Operation<RegisterInput, RegisterOutput>): string {
  const indeterminate = op.ret === INDETERMINATE;
  const head = { type: indeterminate ? 'info' : 'ok', client: op.clientId, ...inputFields(op.input), call: timeJson(op.call) };
  if (indeterminate) return JSON.stringify(head);
  return JSON.stringify({ ...head, ...(op.output ?? {}), ret: timeJson(op.ret) });
}
