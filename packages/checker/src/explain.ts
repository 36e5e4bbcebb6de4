/**
 * Explaining a non-linearizable partition: narrowing a failed history down to a window a person
 * can read. Runs only for the partition that failed, under its own budget.
 *
 * Process overview:
 * 1. Cut: a prefix of the history up to instant t keeps the operations called by t; those that
 *    returned by t keep their outputs, the others become indeterminate. If a prefix cannot be
 *    linearized, neither can the history (restrict any linearization of the history to it). The
 *    property is monotone in t, so a binary search over the return times finds the earliest
 *    return at which the history breaks: the failing operation.
 * 2. Window: the search over that cut reports its deepest dead end: the partial linearization,
 *    the state after it and the operations pending at the blocking return.
 * 3. Core: relaxing an operation to optional ("it happened within its interval, or not at all")
 *    only adds linearizations, so if the cut still fails with some operations relaxed, the
 *    remaining definite ones conflict by themselves, whatever the others did. A delta-debugging
 *    pass (chunks, then single operations) relaxes as many as it can.
 */
import { Budget } from './budget.js';
import type { CheckedOperation } from './history.js';
import { compareTime } from './history.js';
import type { Model, Time } from './model.js';
import { INDETERMINATE } from './model.js';
import type { OperationView, Violation, WindowOperation } from './result.js';
import type { DeadEnd, SearchOutcome } from './search.js';
import { searchPartition } from './search.js';

export interface ExplainOptions {
  /** Wall-clock budget for the whole explanation, in ms. */
  readonly timeoutMs: number;
  readonly now: () => number;
  /**
   * The partition as recorded, before `Model.patchIndeterminate` (default: `ops`): the window
   * also lists recorded operations the patching left out of the search.
   */
  readonly recorded?: readonly CheckedOperation<unknown, unknown>[];
}

/** A sub-history of a partition: `source[k]` is the partition-local index of `ops[k]`. */
interface SubHistory<I, O> {
  readonly ops: CheckedOperation<I, O>[];
  readonly source: number[];
}

/** Still running at the cut: it may take effect at any later time, or never. */
function unfinished<I, O>(op: CheckedOperation<I, O>): CheckedOperation<I, O> {
  return { ...op, output: undefined, ret: INDETERMINATE, indeterminate: true, optional: true };
}

/** Relaxed by the minimization: it happened within its interval with its output, or not at all. */
function optional<I, O>(op: CheckedOperation<I, O>): CheckedOperation<I, O> {
  return { ...op, optional: true };
}

/**
 * The prefix of `ops` at instant `t`. With `definite` given, the operations finished by `t` but
 * not in it are made optional (a relaxed read constrains nothing, so it is dropped).
 */
function cutAt<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly CheckedOperation<I, O>[],
  t: Time,
  definite?: ReadonlySet<number>,
): SubHistory<I, O> {
  const out: CheckedOperation<I, O>[] = [];
  const source: number[] = [];
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    if (compareTime(op.call, t) > 0) continue;
    const finished = !op.indeterminate && compareTime(op.ret, t) <= 0;
    const keep = finished && (definite === undefined || definite.has(i));
    if (!keep && model.isReadOnly?.(op.input) === true) continue;
    out.push(keep ? op : finished ? optional(op) : unfinished(op));
    source.push(i);
  }
  return patchCut(model, { ops: out, source });
}

/**
 * Runs the model's `patchIndeterminate` over a cut, counting the operations that may not have
 * happened (optional or unfinished) as indeterminate: relaxed writes that nothing definite
 * observes are dropped instead of multiplying the states the search has to consider, and
 * observed ones must have happened. Each probe is patched as the standalone history it is.
 */
function patchCut<S, I, O>(model: Model<S, I, O>, sub: SubHistory<I, O>): SubHistory<I, O> {
  if (model.patchIndeterminate === undefined) return sub;
  const patches = model.patchIndeterminate(
    sub.ops.map((op) => ({
      input: op.input,
      output: op.optional ? undefined : op.output,
      call: op.call,
      ret: op.optional ? INDETERMINATE : op.ret,
      indeterminate: op.optional,
    })),
  );
  if (patches.size === 0) return sub;
  const ops: CheckedOperation<I, O>[] = [];
  const source: number[] = [];
  sub.ops.forEach((op, k) => {
    const patch = patches.get(k);
    if (patch?.kind === 'drop') return;
    if (patch === undefined) ops.push(op);
    else if (op.indeterminate) ops.push({ ...op, ret: patch.ret, indeterminate: false, optional: false, bounded: true });
    else ops.push({ ...op, ret: compareTime(patch.ret, op.ret) < 0 ? patch.ret : op.ret, optional: false });
    source.push(sub.source[k]!);
  });
  return { ops, source };
}

function describe<S, I, O>(model: Model<S, I, O>, op: CheckedOperation<I, O>): string {
  if (model.describeOperation !== undefined) return model.describeOperation(op.input, op.output);
  return `${toJsonText(op.input)} → ${op.output === undefined ? '?' : toJsonText(op.output)}`;
}

/** JSON text with bigints as decimal strings (for reports). */
export function toJsonText(v: unknown): string {
  const s = JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
  return s === undefined ? String(v) : s;
}

/** The report form of an operation. */
export function viewOf<S, I, O>(model: Model<S, I, O>, op: CheckedOperation<I, O>): OperationView<I, O> {
  return {
    index: op.index,
    clientId: op.clientId,
    input: op.input,
    output: op.output,
    call: op.call,
    ret: op.bounded ? INDETERMINATE : op.ret,
    indeterminate: op.indeterminate || op.bounded,
    description: describe(model, op),
  };
}

/** Renders a state with the model's `describeState`, or as JSON. */
export function describeState<S, I, O>(model: Model<S, I, O>, state: S): string {
  return model.describeState !== undefined ? model.describeState(state) : toJsonText(state);
}

/**
 * Explains why `ops` (one partition, known not linearizable; `deadEnd` from that search) cannot
 * be linearized. Never fails for lack of budget: it falls back to the wider window it has.
 */
export function explainViolation<S, I, O>(
  model: Model<S, I, O>,
  partition: string | undefined,
  ops: readonly CheckedOperation<I, O>[],
  deadEnd: DeadEnd<S>,
  options: ExplainOptions,
): Violation<S, I, O> {
  const deadline = options.now() + options.timeoutMs;
  const probe = (sub: SubHistory<I, O>): SearchOutcome<S> =>
    searchPartition(model, sub.ops, new Budget({ timeoutMs: Math.max(0, deadline - options.now()), now: options.now }));

  const cuts = returnTimes(ops);
  const hasTime = (): boolean => options.now() < deadline;
  // Invariants: the cut at cuts[hi] fails (the last cut is the whole history); those before lo pass.
  let lo = 0;
  let hi = cuts.length - 1;
  let failing: { at: number; sub: SubHistory<I, O>; deadEnd: DeadEnd<S> } | undefined;
  const tryCut = (k: number): boolean => {
    const sub = cutAt(model, ops, cuts[k]!);
    const outcome = probe(sub);
    if (outcome.kind !== 'not-linearizable') return false;
    failing = { at: k, sub, deadEnd: outcome.deadEnd };
    return true;
  };
  // Failing cuts cost a whole exhaustive search and passing ones are cheap, so start where the
  // search got stuck and gallop backwards from there: a local violation costs about two probes.
  const start = cuts.findIndex((t) => compareTime(t, ops[deadEnd.blocked]!.ret) === 0);
  if (start >= 0 && hasTime()) {
    if (tryCut(start)) {
      hi = start;
      for (let step = 1; hi - step >= lo && hasTime(); step *= 2) {
        if (!tryCut(hi - step)) {
          lo = hi - step + 1;
          break;
        }
        hi -= step;
      }
    } else {
      lo = start + 1;
    }
  }
  while (lo < hi && hasTime()) {
    const mid = (lo + hi) >>> 1;
    if (tryCut(mid)) hi = mid;
    else lo = mid + 1;
  }
  const cutTime = cuts[hi] ?? INDETERMINATE;
  const found = failing as { at: number; sub: SubHistory<I, O>; deadEnd: DeadEnd<S> } | undefined;
  if (found === undefined || found.at !== hi) {
    const sub = cutAt(model, ops, cutTime);
    const outcome = probe(sub);
    failing =
      outcome.kind === 'not-linearizable'
        ? { at: hi, sub, deadEnd: outcome.deadEnd }
        : { at: hi, sub: { ops: [...ops], source: ops.map((_, i) => i) }, deadEnd };
  }
  const { sub, deadEnd: end } = failing!;
  const toPartition = (k: number): number => sub.source[k]!;

  const blockedOp = toPartition(end.blocked);
  const failingIndex = compareTime(ops[blockedOp]!.ret, cutTime) === 0 ? blockedOp : firstReturningAt(ops, cutTime);
  const { core, minimal } = minimizeCore(model, ops, cutTime, probe, hasTime);

  return {
    partition,
    failingOperation: viewOf(model, ops[failingIndex]!),
    linearized: end.linearized.map((k) => viewOf(model, ops[toPartition(k)]!)),
    state: end.state,
    stateDescription: describeState(model, end.state),
    window: windowOf(ops, (options.recorded ?? ops) as readonly CheckedOperation<I, O>[], end, toPartition, blockedOp).map((op) =>
      windowOp(model, op, end.state),
    ),
    core: core.map((i) => viewOf(model, ops[i]!)),
    coreMinimal: minimal,
  };
}

/**
 * The operations shown around the dead end, as recorded: those the search could still have
 * placed there, plus every other unplaced operation concurrent with the blocked one (including
 * any the patching left out of the search as unable to matter), in call order.
 */
function windowOf<S, I, O>(
  ops: readonly CheckedOperation<I, O>[],
  recorded: readonly CheckedOperation<I, O>[],
  end: DeadEnd<S>,
  toPartition: (k: number) => number,
  blocked: number,
): CheckedOperation<I, O>[] {
  const placed = new Set(end.linearized.map((k) => ops[toPartition(k)]!.index));
  const shown = new Set(end.pending.map((k) => ops[toPartition(k)]!.index));
  const b = ops[blocked]!;
  for (const op of recorded) {
    if (!placed.has(op.index) && compareTime(op.call, b.ret) <= 0 && compareTime(op.ret, b.call) >= 0) shown.add(op.index);
  }
  return recorded.filter((op) => shown.has(op.index)).sort((x, y) => compareTime(x.call, y.call) || x.index - y.index);
}

function windowOp<S, I, O>(model: Model<S, I, O>, op: CheckedOperation<I, O>, state: S): WindowOperation<I, O> {
  return { ...viewOf(model, op), legalNext: model.step(state, op.input, op.output).ok };
}

/** Distinct return times of definite operations, ascending. */
function returnTimes<I, O>(ops: readonly CheckedOperation<I, O>[]): Time[] {
  const times = ops.filter((op) => !op.indeterminate).map((op) => op.ret);
  times.sort(compareTime);
  return times.filter((t, i) => i === 0 || compareTime(times[i - 1]!, t) !== 0);
}

function firstReturningAt<I, O>(ops: readonly CheckedOperation<I, O>[], t: Time): number {
  const i = ops.findIndex((op) => !op.indeterminate && compareTime(op.ret, t) === 0);
  return i < 0 ? 0 : i;
}

/**
 * Minimizes the definite operations of the cut: first relax the oldest ones wholesale (a binary
 * search for the longest run of oldest operations that can be relaxed at once, since violations
 * are usually local in time), then delta debugging over the rest (chunks of halving size, down to
 * single operations). Returns partition-local indexes, and whether every probe was decided.
 */
function minimizeCore<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly CheckedOperation<I, O>[],
  cutTime: Time,
  probe: (sub: SubHistory<I, O>) => SearchOutcome<S>,
  hasTime: () => boolean,
): { core: number[]; minimal: boolean } {
  const fails = (candidate: readonly number[]): SearchOutcome<S>['kind'] | undefined =>
    candidate.length === 0 ? undefined : probe(cutAt(model, ops, cutTime, new Set(candidate))).kind;
  let keep = cutAt(model, ops, cutTime)
    .source.filter((i) => !ops[i]!.indeterminate && compareTime(ops[i]!.ret, cutTime) <= 0)
    .sort((a, b) => compareTime(ops[a]!.ret, ops[b]!.ret) || a - b);
  // Invariant: relaxing keep[0, lo) keeps the cut failing; relaxing keep[0, hi) does not (or is undecided).
  let lo = 0;
  let hi = keep.length;
  while (hi - lo > 1 && hasTime()) {
    const mid = (lo + hi) >>> 1;
    if (fails(keep.slice(mid)) === 'not-linearizable') lo = mid;
    else hi = mid;
  }
  keep = keep.slice(lo);
  let minimal = true;
  let chunk = Math.max(1, Math.ceil(keep.length / 2));
  for (;;) {
    let start = 0;
    while (start < keep.length) {
      if (!hasTime()) return { core: keep, minimal: false };
      const candidate = [...keep.slice(0, start), ...keep.slice(start + chunk)];
      const outcome = fails(candidate);
      if (outcome === 'not-linearizable') {
        keep = candidate;
      } else {
        if (outcome === 'unknown' && chunk === 1) minimal = false;
        start += chunk;
      }
    }
    if (chunk === 1) return { core: keep, minimal };
    chunk = Math.ceil(chunk / 2);
  }
}
