/**
 * Linearizable-by-construction register histories, for property tests and benchmarks.
 *
 * A plan is a list of steps. Step k takes effect at the instant `k * SPACING`; the model is run
 * sequentially in that order to compute every output, and the operation's interval is widened
 * around that instant by `before`/`after` (so intervals overlap, yet each contains its
 * linearization point: the history is linearizable, with the plan order as a witness).
 * Indeterminate steps either took effect at their instant (`info-applied`: later reads may
 * observe them) or never did (`info-lost`); both have no response.
 */
import type { Rng } from '@mrkv/common';
import type { Operation } from '../model.js';
import { INDETERMINATE } from '../model.js';
import type { RegisterInput, RegisterOutput, RegisterValue } from '../models/register.js';

/** Distance between two consecutive linearization points. */
export const SPACING = 10;

export type StepOutcome = 'ok' | 'info-applied' | 'info-lost';

export interface RegisterStep {
  readonly client: number;
  readonly input: RegisterInput;
  /** How long before its linearization point the call is issued (≥ 0). */
  readonly before: number;
  /** How long after its linearization point the response arrives (≥ 0). */
  readonly after: number;
  readonly outcome: StepOutcome;
}

export interface GeneratedHistory {
  readonly operations: Operation<RegisterInput, RegisterOutput>[];
  /** Indexes into `operations` of the steps that took effect, in the order they did. */
  readonly witness: number[];
}

/** Answers `input` from `state`: the output and the state after. */
export function applyRegister(state: RegisterValue, input: RegisterInput): { output: RegisterOutput; state: RegisterValue } {
  switch (input.op) {
    case 'get':
      return { output: { value: state }, state };
    case 'put':
      return { output: {}, state: input.value };
    case 'delete':
      return { output: {}, state: null };
    case 'cas': {
      const succeeded = state === input.expected;
      return { output: { succeeded, previous: state }, state: succeeded ? input.value : state };
    }
  }
}

/** Builds the history of a plan (see the module comment). */
export function registerHistoryFromPlan(steps: readonly RegisterStep[]): GeneratedHistory {
  const states = new Map<string, RegisterValue>();
  const operations: Operation<RegisterInput, RegisterOutput>[] = [];
  const witness: number[] = [];
  steps.forEach((step, k) => {
    const point = k * SPACING;
    const call = point - Math.max(0, step.before);
    if (step.outcome === 'info-lost') {
      operations.push({ clientId: step.client, input: step.input, call, ret: INDETERMINATE });
      return;
    }
    const { output, state } = applyRegister(states.get(step.input.key) ?? null, step.input);
    states.set(step.input.key, state);
    witness.push(operations.length);
    operations.push(
      step.outcome === 'ok'
        ? { clientId: step.client, input: step.input, output, call, ret: point + Math.max(0, step.after) }
        : { clientId: step.client, input: step.input, call, ret: INDETERMINATE },
    );
  });
  return { operations, witness };
}

export interface RandomPlanOptions {
  readonly steps: number;
  readonly keys?: number;
  readonly clients?: number;
  /** Distinct values written; few values make searches harder. */
  readonly values?: number;
  /** Maximum of `before` and `after`, in units of SPACING. */
  readonly overlap?: number;
  /** Probability that a step is indeterminate. */
  readonly infoRate?: number;
  /**
   * Every put and cas writes a value of its own (as the chaos suite does), and a cas usually
   * expects the key's latest value. Otherwise values come from a small pool (`values`).
   */
  readonly uniqueValues?: boolean;
}

/** A random plan: the same seed gives the same plan. */
export function randomRegisterPlan(rng: Rng, options: RandomPlanOptions): RegisterStep[] {
  const keys = options.keys ?? 1;
  const clients = options.clients ?? 4;
  const values = options.values ?? 5;
  const overlap = (options.overlap ?? 2) * SPACING;
  const infoRate = options.infoRate ?? 0;
  const latest = new Map<string, string>();
  const plan: RegisterStep[] = [];
  for (let k = 0; k < options.steps; k++) {
    const key = `k${rng.nextInt(keys)}`;
    const value = (): string => (options.uniqueValues === true ? `v${k}` : `v${rng.nextInt(values)}`);
    const expected = (): string | null =>
      options.uniqueValues === true && rng.chance(0.8) ? (latest.get(key) ?? null) : rng.chance(0.2) ? null : value();
    const r = rng.next();
    const input: RegisterInput =
      r < 0.45
        ? { op: 'get', key }
        : r < 0.75
          ? { op: 'put', key, value: value() }
          : r < 0.85
            ? { op: 'delete', key }
            : { op: 'cas', key, expected: expected(), value: rng.chance(0.1) ? null : value() };
    if (input.op === 'put' || (input.op === 'cas' && input.value !== null)) latest.set(key, input.value!);
    const outcome: StepOutcome = rng.chance(infoRate) ? (rng.chance(0.5) ? 'info-applied' : 'info-lost') : 'ok';
    plan.push({ client: rng.nextInt(clients), input, before: rng.nextInt(overlap + 1), after: rng.nextInt(overlap + 1), outcome });
  }
  return plan;
}
