/**
 * The vocabulary of the checker: sequential specifications (`Model`) and concurrent histories
 * (`Operation`s with call/return times, or ordered call/return `HistoryEvent`s).
 *
 * A history is linearizable with respect to a model if every operation can be given a single
 * instant between its call and its return such that running the model over the operations in
 * instant order reproduces every observed output (Herlihy & Wing, 1990).
 */

/** A timestamp: any monotonic unit (ns from `process.hrtime.bigint()`, virtual ms, line numbers). */
export type Time = number | bigint;

/**
 * The return time of an indeterminate operation (a Jepsen `:info`, a client timeout): it may
 * take effect at any instant after its call, or never. The model then sees `output === undefined`.
 */
export const INDETERMINATE = Number.POSITIVE_INFINITY;

/** What `Model.step` answers: whether the observed output is legal, and the state after. */
export interface StepResult<S> {
  readonly ok: boolean;
  /** The state after the operation. Only meaningful when `ok`. */
  readonly state: S;
}

/**
 * A sequential specification. `step` must be pure: same (state, input, output), same answer;
 * states are values (never mutated in place), because the search keeps and revisits them.
 */
export interface Model<S, I, O> {
  /** The state before any operation. */
  init(): S;
  /**
   * Applies `input` to `state` and says whether `output` is what the object could have answered.
   * `output` is `undefined` for an indeterminate operation: the step must then accept whatever
   * the operation would have done (and return the state it would have produced).
   */
  step(state: S, input: I, output: O | undefined): StepResult<S>;
  /** State equality for the search cache. */
  equal(a: S, b: S): boolean;
  /** A 32-bit hash of a state, consistent with `equal`. */
  hash(state: S): number;
  /**
   * The name of the independent object an input touches (a key). Operations on different keys are
   * checked separately (P-compositionality, Horn & Kroening, arXiv 1504.00204), which is what makes
   * multi-key histories cheap. Absent: the whole history is one object.
   */
  partitionKey?(input: I): string;
  /**
   * True if the operation cannot change the state. An indeterminate read-only operation constrains
   * nothing, so the checker drops it before searching.
   */
  isReadOnly?(input: I): boolean;
  /**
   * Optional history patching (etcd's robustness tests do the same with unique written values):
   * given one partition's operations, returns patches for some indeterminate ones, by position.
   * The patched partition must be linearizable exactly when the original is; patches only spare
   * the search from guessing when (and whether) a pending-forever operation took effect.
   * Explanations describe the patched history.
   */
  patchIndeterminate?(ops: readonly PatchCandidate<I, O>[]): ReadonlyMap<number, IndeterminatePatch>;
  /**
   * Checks the shape of an operation at the boundary (the search trusts what passes): returns a
   * message saying what is wrong, or `undefined`. `output` is `undefined` if indeterminate.
   */
  validate?(input: I, output: O | undefined): string | undefined;
  /** Renders an operation for reports, e.g. `put('a') → ok`; `output` is `undefined` if indeterminate. */
  describeOperation?(input: I, output: O | undefined): string;
  /** Renders a state for reports. */
  describeState?(state: S): string;
}

/** An operation of one partition, as `Model.patchIndeterminate` sees it. */
export interface PatchCandidate<I, O> {
  readonly input: I;
  /** `undefined` for an indeterminate operation. */
  readonly output: O | undefined;
  readonly call: Time;
  readonly ret: Time;
  readonly indeterminate: boolean;
}

/**
 * A verdict-preserving rewrite of one indeterminate operation: `drop` it (it provably need not
 * have happened), or `bound` its return (it provably happened, no later than `ret`).
 */
export type IndeterminatePatch = { readonly kind: 'drop' } | { readonly kind: 'bound'; readonly ret: Time };

/**
 * A model whose step may lead to several states. `checkOperations` takes a deterministic model;
 * wrap one of these with `powerSetModel` (the search then runs over sets of states).
 */
export interface NondeterministicModel<S, I, O> {
  init(): S[];
  /** Every state the operation may lead to; empty when the output is illegal. */
  step(state: S, input: I, output: O | undefined): S[];
  equal(a: S, b: S): boolean;
  hash(state: S): number;
  partitionKey?(input: I): string;
  isReadOnly?(input: I): boolean;
  validate?(input: I, output: O | undefined): string | undefined;
  describeOperation?(input: I, output: O | undefined): string;
  describeState?(state: S): string;
}

/** One operation of a history, as a closed interval [call, ret] of the caller's clock. */
export interface Operation<I, O> {
  /** The client (Jepsen process) that issued it; used only in reports. */
  readonly clientId: number;
  readonly input: I;
  /** The observed output; ignored (the model sees `undefined`) when `ret` is `INDETERMINATE`. */
  readonly output?: O | undefined;
  /** When the call was issued. */
  readonly call: Time;
  /** When the response arrived (≥ call), or `INDETERMINATE` if it never did. */
  readonly ret: Time;
}

/**
 * An event-stream history: calls and returns in the order they happened (Jepsen logs are such
 * streams). `time` is optional; without it the position in the stream is the time. A call without
 * a return is an indeterminate operation.
 */
export type HistoryEvent<I, O> =
  | { readonly kind: 'call'; readonly id: number; readonly clientId: number; readonly input: I; readonly time?: Time }
  | { readonly kind: 'return'; readonly id: number; readonly output: O; readonly time?: Time };
