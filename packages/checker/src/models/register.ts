/**
 * The per-key register of mrkv: what a client sees of one key. `get` answers the value or `null`
 * (absent), `put` sets it, `delete` makes it absent, and `cas(expected, value)` sets `value` (or
 * deletes, when `value` is `null`) if the current value equals `expected` (`null`: absent), and
 * answers whether it did and, optionally, the value it found. Keys are independent objects, so
 * the model partitions by key.
 */
import type { Model, StepResult } from '../model.js';
import { hashNullableString, quote } from './hash.js';

/** A register's state: the value, or `null` when the key is absent. */
export type RegisterValue = string | null;

export type RegisterInput =
  | { readonly op: 'get'; readonly key: string }
  | { readonly op: 'put'; readonly key: string; readonly value: string }
  | { readonly op: 'delete'; readonly key: string }
  | { readonly op: 'cas'; readonly key: string; readonly expected: RegisterValue; readonly value: RegisterValue };

/** Output of `get`. */
export interface GetOutput {
  readonly value: RegisterValue;
}

/** Output of `cas`: whether it swapped, and (if the store reports it) the value it compared with. */
export interface CasOutput {
  readonly succeeded: boolean;
  readonly previous?: RegisterValue;
}

/** Output of `put` and `delete`: nothing beyond the acknowledgement. */
export type WriteOutput = Readonly<Record<string, never>>;

export type RegisterOutput = GetOutput | CasOutput | WriteOutput;

const ILLEGAL: StepResult<RegisterValue> = { ok: false, state: null };

function casStep(state: RegisterValue, input: { expected: RegisterValue; value: RegisterValue }, output: CasOutput | undefined): StepResult<RegisterValue> {
  const matches = state === input.expected;
  const next = matches ? input.value : state;
  if (output === undefined) return { ok: true, state: next };
  if (output.succeeded !== matches) return ILLEGAL;
  if (output.previous !== undefined && output.previous !== state) return ILLEGAL;
  return { ok: true, state: next };
}

const isValue = (v: unknown): v is RegisterValue => v === null || typeof v === 'string';

/** Shape check of a register operation (see `Model.validate`). */
export function validateRegisterOperation(input: RegisterInput, output: RegisterOutput | undefined): string | undefined {
  if (typeof input.key !== 'string') return 'the key must be a string';
  switch (input.op) {
    case 'get':
      return output === undefined || ('value' in output && isValue(output.value)) ? undefined : 'a get answers { value: string | null }';
    case 'put':
      return typeof input.value === 'string' ? undefined : 'a put takes a string value';
    case 'delete':
      return undefined;
    case 'cas':
      if (!isValue(input.expected) || !isValue(input.value)) return 'a cas takes expected and value, each a string or null';
      if (output === undefined) return undefined;
      if (!('succeeded' in output) || typeof output.succeeded !== 'boolean') return 'a cas answers { succeeded: boolean }';
      return output.previous === undefined || isValue(output.previous) ? undefined : 'a cas previous value must be a string or null';
    default:
      return `unknown operation ${JSON.stringify((input as { op?: unknown }).op)}`;
  }
}

function describe(input: RegisterInput, output: RegisterOutput | undefined): string {
  const k = JSON.stringify(input.key);
  switch (input.op) {
    case 'get':
      return `get(${k}) → ${output === undefined ? '?' : quote((output as GetOutput).value)}`;
    case 'put':
      return `put(${k}, ${quote(input.value)})${output === undefined ? ' → ?' : ''}`;
    case 'delete':
      return `delete(${k})${output === undefined ? ' → ?' : ''}`;
    case 'cas': {
      const head = `cas(${k}, ${quote(input.expected)} → ${quote(input.value)})`;
      if (output === undefined) return `${head} → ?`;
      const cas = output as CasOutput;
      const prev = cas.previous === undefined ? '' : ` (found ${quote(cas.previous)})`;
      return `${head} → ${cas.succeeded ? 'swapped' : 'not swapped'}${prev}`;
    }
  }
}

/** The mrkv per-key register model (initially every key is absent). */
export const registerModel: Model<RegisterValue, RegisterInput, RegisterOutput> = {
  init: () => null,
  step(state, input, output) {
    switch (input.op) {
      case 'get':
        return output === undefined || (output as GetOutput).value === state ? { ok: true, state } : ILLEGAL;
      case 'put':
        return { ok: true, state: input.value };
      case 'delete':
        return { ok: true, state: null };
      case 'cas':
        return casStep(state, input, output as CasOutput | undefined);
    }
  },
  equal: (a, b) => a === b,
  hash: hashNullableString,
  partitionKey: (input) => input.key,
  isReadOnly: (input) => input.op === 'get',
  validate: validateRegisterOperation,
  describeOperation: describe,
  describeState: (s) => (s === null ? 'absent' : quote(s)),
};
