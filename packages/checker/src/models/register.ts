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

/** The value an operation writes when it takes effect (a cas: when it swaps); `undefined` for a get. */
function writtenValue(input: RegisterInput): RegisterValue | undefined {
  switch (input.op) {
    case 'get':
      return undefined;
    case 'put':
    case 'cas':
      return input.value;
    case 'delete':
      return null;
  }
}

type Candidate = PatchCandidate<RegisterInput, RegisterOutput>;
type When = Candidate['ret'];

/** Per value: its writers, and the first and last return among the operations that observed it. */
interface ValueFacts {
  writers: number;
  firstSeen?: When;
  lastSeen?: When;
  /** Indeterminate cas operations (not dropped) that would swap from this value. */
  expecting: number;
}

/**
 * Patches indeterminate writes (the chaos suite writes unique values, as etcd's robustness tests
 * do; deletes write `null`). Let w be an indeterminate write of v, called at c.
 *
 * Bound: if v is written only once and was observed (a completed get returned it, a completed
 * cas found it as `previous` or swapped from it, or a bounded cas swapped from it), w happened,
 * before the first observer took effect, so by that observer's return (or bound). This runs to a
 * fixpoint, since bounding an indeterminate cas makes its `expected` observed in turn.
 *
 * Drop: if nothing that returned at or after c observed v, and no remaining indeterminate cas
 * expects v, whether w happened cannot matter. Until the next write that changes the state, only
 * operations that cannot tell v from the value before could follow w (anything telling them
 * apart observes v), the indeterminate ones among them may as well not happen, and that next
 * write does not depend on the state (a swap from v would observe it), so removing w from a
 * linearization leaves one. A failed cas that does not report the value it found could be
 * explained by v, so one returning at or after c blocks the drop too. Dropping runs to a
 * fixpoint as well (a dropped cas no longer expects anything).
 */
function patchRegister(ops: readonly Candidate[]): ReadonlyMap<number, IndeterminatePatch> {
  const facts = new Map<RegisterValue, ValueFacts>();
  const factsOf = (v: RegisterValue): ValueFacts => {
    let f = facts.get(v);
    if (f === undefined) facts.set(v, (f = { writers: 0, expecting: 0 }));
    return f;
  };
  const observe = (v: RegisterValue | undefined, when: When): void => {
    if (v === undefined) return;
    const f = factsOf(v);
    if (f.firstSeen === undefined || compareTime(when, f.firstSeen) < 0) f.firstSeen = when;
    if (f.lastSeen === undefined || compareTime(when, f.lastSeen) > 0) f.lastSeen = when;
  };
  let lastBlindFailedCas: When | undefined;
  for (const op of ops) {
    const written = writtenValue(op.input);
    if (written !== undefined) factsOf(written).writers++;
    if (op.indeterminate || op.output === undefined) continue;
    if (op.input.op === 'get') observe((op.output as GetOutput).value, op.ret);
    if (op.input.op === 'cas') {
      const out = op.output as CasOutput;
      if (out.succeeded) observe(op.input.expected, op.ret);
      observe(out.previous, op.ret);
      if (!out.succeeded && out.previous === undefined && (lastBlindFailedCas === undefined || compareTime(op.ret, lastBlindFailedCas) > 0)) {
        lastBlindFailedCas = op.ret;
      }
    }
  }
  const writes = ops.flatMap((op, i) => {
    const v = writtenValue(op.input);
    return op.indeterminate && v !== undefined ? [{ i, op, v }] : [];
  });

  const bounds = new Map<number, When>();
  for (let changed = true; changed; ) {
    changed = false;
    for (const { i, op, v } of writes) {
      const f = factsOf(v);
      const when = f.firstSeen;
      // (Seen before it was even called: illegal whatever we do; left to the search.)
      if (v === null || f.writers !== 1 || when === undefined || compareTime(when, op.call) < 0 || bounds.get(i) === when) continue;
      bounds.set(i, when);
      if (op.input.op === 'cas') observe(op.input.expected, when);
      changed = true;
    }
  }
  const patches = new Map<number, IndeterminatePatch>();
  for (const [i, ret] of bounds) patches.set(i, { kind: 'bound', ret });

  ops.forEach((op, i) => {
    if (op.indeterminate && op.input.op === 'cas' && !bounds.has(i)) factsOf(op.input.expected).expecting++;
  });
  const mayBeSeenAfter = (f: ValueFacts, call: When): boolean =>
    f.expecting > 0 ||
    (f.lastSeen !== undefined && compareTime(f.lastSeen, call) >= 0) ||
    (lastBlindFailedCas !== undefined && compareTime(lastBlindFailedCas, call) >= 0);
  for (let changed = true; changed; ) {
    changed = false;
    for (const { i, op, v } of writes) {
      if (patches.has(i) || mayBeSeenAfter(factsOf(v), op.call)) continue;
      patches.set(i, { kind: 'drop' });
      if (op.input.op === 'cas') factsOf(op.input.expected).expecting--;
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
