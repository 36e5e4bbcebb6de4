/**
 * The entry points: check a history (operations or call/return events) against a model.
 *
 * Process overview: validate the history at the boundary (`checkOperationsInput`), split it by
 * `model.partitionKey` (linearizability is local: a history is linearizable iff each object's
 * sub-history is, Herlihy & Wing §3.3), search each partition in turn, smallest first, under one
 * shared budget, stop at the first illegal partition and explain it (`explainViolation`).
 */
import { invariant } from '@mrkv/common';
import { Budget } from './budget.js';
import type { BudgetOptions } from './budget.js';
import { invalidHistory } from './errors.js';
import { explainViolation } from './explain.js';
import type { CheckedOperation } from './history.js';
import { checkOperationsInput, compareTime, eventsToOperations } from './history.js';
import type { HistoryEvent, Model, Operation } from './model.js';
import { INDETERMINATE } from './model.js';
import type { CheckResult, PartitionReport, Verdict, Violation } from './result.js';
import { searchPartition } from './search.js';

export interface CheckOptions extends BudgetOptions {
  /** Build a `Violation` explaining an illegal history (default true). */
  readonly explain?: boolean;
  /** Wall-clock budget of the explanation in ms (default 5000), on top of `timeoutMs`. */
  readonly explainTimeoutMs?: number;
}

/** Default budget of an explanation. */
export const DEFAULT_EXPLAIN_TIMEOUT_MS = 5000;

interface Partition<I, O> {
  readonly key: string | undefined;
  readonly ops: CheckedOperation<I, O>[];
  readonly first: number;
}

/** Operations in call order, so that the search's linearized sets are nearly prefixes (see search-cache.ts). */
function byCall<I, O>(ops: CheckedOperation<I, O>[]): CheckedOperation<I, O>[] {
  return ops.sort((a, b) => compareTime(a.call, b.call) || a.index - b.index);
}

function partitionHistory<S, I, O>(model: Model<S, I, O>, ops: CheckedOperation<I, O>[]): Partition<I, O>[] {
  const keyOf = model.partitionKey;
  if (keyOf === undefined) return ops.length === 0 ? [] : [{ key: undefined, ops: byCall(ops), first: 0 }];
  const byKey = new Map<string, Partition<I, O>>();
  for (const op of ops) {
    const key = keyOf.call(model, op.input);
    if (typeof key !== 'string') throw invalidHistory(`operation ${op.index}: partition key must be a string`, { index: op.index });
    let p = byKey.get(key);
    if (p === undefined) {
      p = { key, ops: [], first: byKey.size };
      byKey.set(key, p);
    }
    p.ops.push(op);
  }
  for (const p of byKey.values()) byCall(p.ops);
  // Smallest first: cheap partitions are decided before a hard one can use up the budget.
  return [...byKey.values()].sort((a, b) => a.ops.length - b.ops.length || a.first - b.first);
}

/** The partition's operations after the model's patches (`Model.patchIndeterminate`). */
function patchPartition<S, I, O>(model: Model<S, I, O>, ops: CheckedOperation<I, O>[]): CheckedOperation<I, O>[] {
  const patches = model.patchIndeterminate?.(ops);
  if (patches === undefined || patches.size === 0) return ops;
  const out: CheckedOperation<I, O>[] = [];
  ops.forEach((op, i) => {
    const patch = patches.get(i);
    if (patch === undefined) return void out.push(op);
    invariant(op.indeterminate, 'patchIndeterminate patched a definite operation', { index: op.index });
    if (patch.kind === 'drop') return;
    invariant(patch.ret !== INDETERMINATE && compareTime(patch.ret, op.call) >= 0, 'patchIndeterminate bound must be finite and not before the call', {
      index: op.index,
    });
    out.push({ ...op, ret: patch.ret, indeterminate: false, optional: false, bounded: true });
  });
  return out;
}

/**
 * Checks that `history` is linearizable with respect to `model`. Throws `KV:Checker:InvalidHistory`
 * for a malformed history; never throws for an illegal one (that is the `not-linearizable` verdict).
 */
export function checkOperations<S, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
  options: CheckOptions = {},
): CheckResult<S, I, O> {
  const now = options.now ?? (() => performance.now());
  const started = now();
  const ops = checkOperationsInput(model, history);
  const partitions = partitionHistory(model, ops);
  const budget = new Budget({ ...options, now });
  const reports: PartitionReport[] = [];
  let verdict: Verdict = 'linearizable';
  let violation: Violation<S, I, O> | undefined;
  let dropped = history.length - ops.length;
  for (const p of partitions) {
    const t0 = now();
    const ops = patchPartition(model, p.ops);
    dropped += p.ops.length - ops.length;
    const outcome = searchPartition(model, ops, budget);
    reports.push({
      partition: p.key,
      verdict: outcome.kind,
      operations: ops.length,
      steps: outcome.steps,
      cacheSize: outcome.cacheSize,
      elapsedMs: now() - t0,
      ...(outcome.kind === 'linearizable' ? { linearization: outcome.order.map((k) => ops[k]!.index) } : {}),
    });
    if (outcome.kind === 'linearizable') continue;
    verdict = outcome.kind;
    if (outcome.kind === 'not-linearizable' && options.explain !== false) {
      violation = explainViolation(model, p.key, ops, outcome.deadEnd, {
        timeoutMs: options.explainTimeoutMs ?? DEFAULT_EXPLAIN_TIMEOUT_MS,
        now,
        recorded: p.ops as readonly CheckedOperation<unknown, unknown>[],
      });
    }
    break;
  }
  return {
    verdict,
    partitions: reports,
    skippedPartitions: partitions.length - reports.length,
    droppedOperations: dropped,
    ...(violation === undefined ? {} : { violation }),
    elapsedMs: now() - started,
  };
}

/** Checks an event-stream history (see `HistoryEvent`). */
export function checkEvents<S, I, O>(
  model: Model<S, I, O>,
  events: readonly HistoryEvent<I, O>[],
  options: CheckOptions = {},
): CheckResult<S, I, O> {
  return checkOperations(model, eventsToOperations(events), options);
}
