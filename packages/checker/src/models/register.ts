/**
 * The per-key register of mrkv: what a client sees of one key. `get` answers the value or `null`
 * (absent), `put` sets it, `delete` makes it absent, and `cas(expected, value)` sets `value` (or
 * deletes, when `value` is `null`) if the current value equals `expected` (`null`: absent), and
 * answers whether it did and, optionally, the value it found. Keys are independent objects, so
 * the model partitions by key.
 */
import { compareTime } from '../history.js';
import type { IndeterminatePatch, Model, PatchCandidate, StepResult } from '../model.js';
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

/** The value an operation writes when it takes effect (a cas: when it swaps), if it is a string. */
function writtenValue(input: RegisterInput): string | undefined {
  if (input.op === 'put') return input.value;
  if (input.op === 'cas' && input.value !== null) return input.value;
  return undefined;
}

type Candidate = PatchCandidate<RegisterInput, RegisterOutput>;
type When = Candidate['ret'];

/**
 * Patches indeterminate writes of values written only once in the key's history (the chaos
 * suite writes unique values, as etcd's robustness tests do). Let w be such a write of v.
 *
 * Bound: if v was observed (a completed get returned it, a completed cas found it as `previous`
 * or swapped from it, or a bounded cas swapped from it), w happened, and before the first
 * observer took effect, so by that observer's return (or bound). This runs to a fixpoint, since
 * bounding an indeterminate cas makes its `expected` observed in turn.
 *
 * Drop: if v is not observed and no remaining indeterminate cas expects v, whether w happened
 * cannot matter: right after it only optional operations could run before the next write, and
 * that write does not depend on the state (a swap from v would be an observer). A failed cas that
 * does not report the value it found could be explained by v, so a key with one is not dropped
 * from. Dropping runs to a fixpoint too (a dropped cas no longer expects anything).
 */
function patchRegister(ops: readonly Candidate[]): ReadonlyMap<number, IndeterminatePatch> {
  const writers = new Map<string, number>();
  const seen = new Map<string, When>();
  let blindFailedCas = false;
  const observe = (v: RegisterValue | undefined, when: When): boolean => {
    if (typeof v !== 'string') return false;
    const first = seen.get(v);
    if (first !== undefined && compareTime(first, when) <= 0) return false;
    seen.set(v, when);
    return true;
  };
  for (const op of ops) {
    const written = writtenValue(op.input);
    if (written !== undefined) writers.set(written, (writers.get(written) ?? 0) + 1);
    if (op.indeterminate || op.output === undefined) continue;
    if (op.input.op === 'get') observe((op.output as GetOutput).value, op.ret);
    if (op.input.op === 'cas') {
      const out = op.output as CasOutput;
      if (out.succeeded) observe(op.input.expected, op.ret);
      observe(out.previous, op.ret);
      if (!out.succeeded && out.previous === undefined) blindFailedCas = true;
    }
  }
  // Indeterminate writers of a unique value, by position.
  const unique = ops.flatMap((op, i) => {
    const v = writtenValue(op.input);
    return op.indeterminate && v !== undefined && writers.get(v) === 1 ? [{ i, op, v }] : [];
  });
  const bounds = new Map<number, When>();
  for (let changed = true; changed; ) {
    changed = false;
    for (const { i, op, v } of unique) {
      const when = seen.get(v);
      // (Seen before it was even called: illegal whatever we do; left to the search.)
      if (when === undefined || compareTime(when, op.call) < 0 || bounds.get(i) === when) continue;
      bounds.set(i, when);
      if (op.input.op === 'cas') observe(op.input.expected, when);
      changed = true;
    }
  }
  const patches = new Map<number, IndeterminatePatch>();
  for (const [i, ret] of bounds) patches.set(i, { kind: 'bound', ret });
  if (blindFailedCas) return patches;
  const expecting = new Map<string, number>();
  ops.forEach((op, i) => {
    if (op.indeterminate && op.input.op === 'cas' && op.input.expected !== null && !bounds.has(i)) {
      expecting.set(op.input.expected, (expecting.get(op.input.expected) ?? 0) + 1);
    }
  });
  for (let changed = true; changed; ) {
    changed = false;
    for (const { i, op, v } of unique) {
      if (patches.has(i) || seen.has(v) || (expecting.get(v) ?? 0) > 0) continue;
      patches.set(i, { kind: 'drop' });
      if (op.input.op === 'cas' && op.input.expected !== null) expecting.set(op.input.expected, expecting.get(op.input.expected)! - 1);
      changed = true;
    }
  }
  return patches;
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
  patchIndeterminate: patchRegister,
  describeOperation: describe,
  describeState: (s) => (s === null ? 'absent' : quote(s)),
};
