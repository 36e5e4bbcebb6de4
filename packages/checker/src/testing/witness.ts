/**
 * An independent check of a `linearizable` verdict: replays each partition's reported
 * linearization through the model and checks real-time order, so tests do not have to trust
 * the search they are testing.
 */
import { compareTime } from '../history.js';
import type { Model, Operation } from '../model.js';
import { INDETERMINATE } from '../model.js';
import type { CheckResult } from '../result.js';

/**
 * Returns the problems found (empty when every partition's linearization is a valid witness):
 * each definite operation placed exactly once (indeterminate ones at most once), every step
 * legal, and no operation placed before one that returned before it was called.
 */
export function witnessProblems<S, I, O>(model: Model<S, I, O>, history: readonly Operation<I, O>[], result: CheckResult<S, I, O>): string[] {
  const problems: string[] = [];
  const placed = new Map<number, number>();
  for (const p of result.partitions) {
    if (p.linearization === undefined) {
      problems.push(`partition ${String(p.partition)} has no linearization`);
      continue;
    }
    let state = model.init();
    const order = p.linearization;
    order.forEach((index, pos) => {
      const op = history[index];
      if (op === undefined) return void problems.push(`index ${index} is not in the history`);
      if (placed.has(index)) problems.push(`operation ${index} placed twice`);
      placed.set(index, pos);
      if (model.partitionKey !== undefined && model.partitionKey(op.input) !== p.partition) {
        problems.push(`operation ${index} is in partition ${String(p.partition)} but has key ${model.partitionKey(op.input)}`);
      }
      const r = model.step(state, op.input, op.ret === INDETERMINATE ? undefined : op.output);
      if (!r.ok) problems.push(`operation ${index} is illegal at position ${pos}`);
      state = r.state;
    });
    for (let a = 0; a < order.length; a++) {
      for (let b = a + 1; b < order.length; b++) {
        const early = history[order[a]!]!;
        const late = history[order[b]!]!;
        if (compareTime(late.ret, early.call) < 0) problems.push(`operation ${order[b]} returned before ${order[a]} was called but is placed after it`);
      }
    }
  }
  history.forEach((op, index) => {
    const indeterminate = op.ret === INDETERMINATE;
    if (!indeterminate && !placed.has(index)) problems.push(`definite operation ${index} is not placed`);
  });
  return problems;
}
