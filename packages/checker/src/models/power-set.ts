/**
 * Determinizes a nondeterministic model by the subset construction: the search runs over sets
 * of states, and an operation is legal if it is legal from at least one state of the set.
 * The sets are kept duplicate-free (by the model's `equal`) so that equal sets compare equal.
 */
import type { Model, NondeterministicModel } from '../model.js';

function dedupe<S>(states: S[], equal: (a: S, b: S) => boolean): S[] {
  const out: S[] = [];
  for (const s of states) if (!out.some((t) => equal(s, t))) out.push(s);
  return out;
}

/** The deterministic model over sets of `model`'s states. */
export function powerSetModel<S, I, O>(model: NondeterministicModel<S, I, O>): Model<readonly S[], I, O> {
  const equal = (a: S, b: S): boolean => model.equal(a, b);
  const wrapped: Model<readonly S[], I, O> = {
    init: () => dedupe(model.init(), equal),
    step(states, input, output) {
      const next: S[] = [];
      for (const s of states) for (const t of model.step(s, input, output)) next.push(t);
      const set = dedupe(next, equal);
      return { ok: set.length > 0, state: set };
    },
    equal: (a, b) => a.length === b.length && a.every((s) => b.some((t) => equal(s, t))),
    // Order-independent: a sum of member hashes.
    hash: (states) => states.reduce((h, s) => (h + model.hash(s)) | 0, states.length),
  };
  if (model.partitionKey !== undefined) wrapped.partitionKey = (input) => model.partitionKey!(input);
  if (model.isReadOnly !== undefined) wrapped.isReadOnly = (input) => model.isReadOnly!(input);
  if (model.validate !== undefined) wrapped.validate = (input, output) => model.validate!(input, output);
  if (model.describeOperation !== undefined) wrapped.describeOperation = (input, output) => model.describeOperation!(input, output);
  const describeState = model.describeState;
  wrapped.describeState = (states) =>
    `{${states.map((s) => (describeState !== undefined ? describeState(s) : JSON.stringify(s))).join(', ')}}`;
  return wrapped;
}
