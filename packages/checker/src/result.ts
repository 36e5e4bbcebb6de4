/**
 * What a check answers. Everything here is plain data (bigints aside), so callers can store it
 * next to their logs; `formatResult` renders it for people and `resultToJson` for machines.
 */
import type { Time } from './model.js';

/** `unknown` means the budget ran out before the search could decide. */
export type Verdict = 'linearizable' | 'not-linearizable' | 'unknown';

/** One operation as shown in a report. */
export interface OperationView<I, O> {
  /** Position in the history the caller passed in. */
  readonly index: number;
  readonly clientId: number;
  readonly input: I;
  /** `undefined` for an indeterminate operation. */
  readonly output: O | undefined;
  readonly call: Time;
  /** `INDETERMINATE` (+∞) for an operation that never returned. */
  readonly ret: Time;
  readonly indeterminate: boolean;
  /** The model's rendering of the operation (`describeOperation`), or a JSON fallback. */
  readonly description: string;
}

/** A pending operation at the dead end, with what the model says about placing it next. */
export interface WindowOperation<I, O> extends OperationView<I, O> {
  /** Whether its step from the window's state is legal. Legal ones only lead to dead ends later. */
  readonly legalNext: boolean;
}

/**
 * Why a partition is not linearizable, narrowed to the smallest window the checker could find:
 * - the history is cut at the earliest return at which it stops being linearizable (operations
 *   still running at that instant count as indeterminate), which names `failingOperation`;
 * - `linearized` is the longest partial linearization the search built for that cut, and `state`
 *   the model state after it;
 * - `window` lists the operations pending at the return that blocked the search (called, not yet
 *   placed), each with whether the model could take it next;
 * - `core` is a minimal set of operations that cannot be linearized together even when every
 *   other operation of the cut is treated as indeterminate (may or may not have happened).
 */
export interface Violation<S, I, O> {
  /** The partition (key) that failed, or `undefined` when the model does not partition. */
  readonly partition: string | undefined;
  readonly failingOperation: OperationView<I, O>;
  readonly linearized: readonly OperationView<I, O>[];
  readonly state: S;
  readonly stateDescription: string;
  readonly window: readonly WindowOperation<I, O>[];
  readonly core: readonly OperationView<I, O>[];
  /** False when the minimization ran out of budget: `core` is then conflicting but maybe not minimal. */
  readonly coreMinimal: boolean;
}

/** Per-partition statistics. */
export interface PartitionReport {
  readonly partition: string | undefined;
  readonly verdict: Verdict;
  readonly operations: number;
  /** Search steps (list entries visited). */
  readonly steps: number;
  /** Configurations memoized. */
  readonly cacheSize: number;
  readonly elapsedMs: number;
  /** For a linearizable partition: caller indexes of its operations in a valid linearization order. */
  readonly linearization?: readonly number[];
}

export interface CheckResult<S, I, O> {
  readonly verdict: Verdict;
  /** The partitions checked, in order; checking stops at the first illegal one. */
  readonly partitions: readonly PartitionReport[];
  /** Partitions not checked because an earlier one was illegal or the budget ran out. */
  readonly skippedPartitions: number;
  /**
   * Indeterminate operations dropped before the search because they constrain nothing: reads, and
   * writes the model's `patchIndeterminate` proved irrelevant (in the partitions checked).
   */
  readonly droppedOperations: number;
  /** Present when the verdict is `not-linearizable` and explanation was not turned off. */
  readonly violation?: Violation<S, I, O>;
  readonly elapsedMs: number;
}
