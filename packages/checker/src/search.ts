/**
 * The linearizability search over one partition: Wing & Gong's backtracking search (1993) with
 * Lowe's memoization of (linearized set, state) configurations, in the shape Porcupine uses,
 * plus pruning for indeterminate operations.
 *
 * Process overview:
 * 1. Sort the call and return entries of the operations that must take effect by time, calls
 *    before returns on ties (intervals are closed, so touching operations are concurrent), into
 *    the main list. Indeterminate operations (no response: they may take effect at any time after
 *    their call, or never) have no return; their calls go into a second, pending list.
 * 2. Walk the main list from the head. At a call whose step from the current state is legal,
 *    mark the operation; if the configuration is not in the cache, record it, push (entry, state)
 *    on an explicit stack, lift the call and its return out of the list, and restart from the
 *    head. A legal but already-cached configuration is skipped.
 * 3. At the first return, try the pending calls made before it the same way (phase 1). Trying
 *    them only after the definite calls, and caching them by dominance (search-cache.ts), means
 *    the configurations without them are explored first and prune most with them. Identical
 *    pending operations (a retried write, two timed-out deletes) are interchangeable, so they are
 *    placed in call order only.
 * 4. With nothing left to try, the operation of that return could not be placed before it: pop
 *    the stack, put the popped entry back, and try the entry after it. An empty stack means no
 *    linearization exists. A legal read-only operation is never worth backtracking over (see the
 *    backtracking code), nor is a skip.
 * 5. Success when the main list is empty: every operation that must take effect is placed, and
 *    the pending ones left over never took effect.
 * 6. Optional operations (used by the explanation: "happened in its interval, or not at all")
 *    get one more choice at their return: resolve them as not happened, on the same stack and
 *    under the same cache (placed-or-skipped with equal states are the same configuration).
 *
 * On failure the search reports its deepest dead end: the longest partial linearization it
 * built, the state after it, the operation whose return blocked it and the operations that
 * were pending (called, not yet placed) at that return.
 */
import type { Budget } from './budget.js';
import { STEPS_PER_CLOCK_READ } from './budget.js';
import type { EntryList } from './entry-list.js';
import { buildEntryList, HEAD, lift, liftNode, NIL, unlift, unliftNode } from './entry-list.js';
import type { CheckedOperation } from './history.js';
import { compareTime } from './history.js';
import type { Model, Time } from './model.js';
import { ConfigurationCache, LinearizedSet } from './search-cache.js';

/** The deepest point the search reached before backtracking, in partition-local op indexes. */
export interface DeadEnd<S> {
  /** Operations placed so far, in linearization order. */
  readonly linearized: readonly number[];
  /** The model state after them. */
  readonly state: S;
  /** The operation whose return was reached while it was still unplaced. */
  readonly blocked: number;
  /** Every operation called before that return and not yet placed (includes `blocked`). */
  readonly pending: readonly number[];
}

export type SearchOutcome<S> =
  | { readonly kind: 'linearizable'; readonly order: readonly number[]; readonly steps: number; readonly cacheSize: number }
  | { readonly kind: 'not-linearizable'; readonly deadEnd: DeadEnd<S>; readonly steps: number; readonly cacheSize: number }
  | { readonly kind: 'unknown'; readonly steps: number; readonly cacheSize: number };

/** Frame kinds on the search stack. */
const PLACED = 0;
const SKIPPED = 1;
const PLACED_PENDING = 2;

/**
 * Searches for a linearization of one partition's operations.
 *
 * NB: one long function on purpose. The walk's state (node, phase, depth, state) lives in locals
 * that V8 keeps in registers across millions of iterations; the helpers it calls are small and
 * get inlined.
 */
export function searchPartition<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly CheckedOperation<I, O>[],
  budget: Budget,
): SearchOutcome<S> {
  const n = ops.length;
  const definiteOps: number[] = [];
  const pendingOps: number[] = [];
  const readOnly = new Uint8Array(n);
  // Each operation has a bit in one of two sets: `placed` for those that must be placed (or, when
  // optional, resolved), `pending` for indeterminate ones.
  const bit = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const op = ops[i]!;
    if (model.isReadOnly?.(op.input) === true) readOnly[i] = 1;
    const group = op.indeterminate ? pendingOps : definiteOps;
    bit[i] = group.length;
    group.push(i);
  }
  const main = buildEntryList(ops, definiteOps, true);
  const pend = buildEntryList(ops, pendingOps, false);
  const twin = identicalPredecessors(ops, pendingOps);
  const placed = new LinearizedSet(definiteOps.length);
  const pending = new LinearizedSet(pendingOps.length);
  const cache = new ConfigurationCache<S>((a, b) => model.equal(a, b));
  const configKey = (set: LinearizedSet, toggled: number, s: S): number =>
    ((toggled === NIL ? set.hash : set.hashWith(toggled)) ^ Math.imul(model.hash(s) | 0, 0x27d4eb2d)) | 0;

  /** Frames: the node placed (main call, pending call, or main call of a SKIPPED operation). */
  const stackNode = new Int32Array(n);
  const stackKind = new Uint8Array(n);
  /** For PLACED_PENDING frames: the main-list return that bounded the pending walk. */
  const stackLimit = new Int32Array(n);
  const stackState = new Array<S>(n);
  let depth = 0;
  /** SKIPPED frames on the stack (so depth - skipped operations are placed). */
  let skipped = 0;
  let state = model.init();
  let steps = 0;
  let sinceClock = 0;
  let deadEnd: DeadEnd<S> | undefined;

  // Phase 0 walks the main list (`node`); phase 1 walks the pending list (`pnode`) for calls made
  // no later than the main-list return `limit` that ended phase 0.
  let phase = 0;
  let node = main.next[HEAD]!;
  let pnode = NIL;
  let limit = NIL;
  let limitTime: Time = 0;

  for (;;) {
    if (++sinceClock === STEPS_PER_CLOCK_READ) {
      steps += sinceClock;
      sinceClock = 0;
      if (!budget.spend(STEPS_PER_CLOCK_READ)) return { kind: 'unknown', steps, cacheSize: cache.size };
    }
    if (phase === 0) {
      if (node === NIL) break; // every operation that must take effect is placed
      const i = main.op[node]!;
      if (main.isCall[node] === 0) {
        phase = 1;
        limit = node;
        limitTime = ops[i]!.ret;
        pnode = pend.next[HEAD]!;
        continue;
      }
      const opI = ops[i]!;
      const r = model.step(state, opI.input, opI.output);
      if (r.ok) {
        const key = configKey(placed, bit[i]!, r.state);
        placed.toggle(bit[i]!);
        if (cache.addIfAbsent(key, placed, pending, r.state)) {
          stackNode[depth] = node;
          stackKind[depth] = PLACED;
          stackState[depth] = state;
          depth++;
          state = r.state;
          lift(main, node);
          node = main.next[HEAD]!;
          continue;
        }
        placed.toggle(bit[i]!);
      }
      node = main.next[node]!;
      continue;
    }

    // Phase 1: pending calls made before the return `limit`.
    if (pnode !== NIL && compareTime(ops[pend.op[pnode]!]!.call, limitTime) <= 0) {
      const i = pend.op[pnode]!;
      // A pending operation whose identical, earlier-called twin is still unplaced is skipped:
      // placing the twin instead leads to the same futures, and was tried first.
      if (twin[i] === NIL || pending.has(bit[twin[i]!]!)) {
        const r = model.step(state, ops[i]!.input, undefined);
        if (r.ok) {
          const key = configKey(placed, NIL, r.state);
          pending.toggle(bit[i]!);
          if (cache.addIfAbsent(key, placed, pending, r.state)) {
            stackNode[depth] = pnode;
            stackKind[depth] = PLACED_PENDING;
            stackLimit[depth] = limit;
            stackState[depth] = state;
            depth++;
            state = r.state;
            liftNode(pend, pnode);
            phase = 0;
            node = main.next[HEAD]!;
            continue;
          }
          pending.toggle(bit[i]!);
        }
      }
      pnode = pend.next[pnode]!;
      continue;
    }

    // Nothing left to place before `limit`: its operation is still unplaced.
    const blocked = main.op[limit]!;
    if (ops[blocked]!.optional) {
      // It may not have happened at all: resolve it without a step (the state is unchanged).
      const key = configKey(placed, bit[blocked]!, state);
      placed.toggle(bit[blocked]!);
      if (cache.addIfAbsent(key, placed, pending, state)) {
        const call = main.match[limit]!;
        stackNode[depth] = call;
        stackKind[depth] = SKIPPED;
        stackState[depth] = state;
        depth++;
        skipped++;
        lift(main, call);
        phase = 0;
        node = main.next[HEAD]!;
        continue;
      }
      placed.toggle(bit[blocked]!);
    }
    if (deadEnd === undefined || depth - skipped > deadEnd.linearized.length) {
      deadEnd = recordDeadEnd(ops, main, pend, stackNode, stackKind, depth, state, limit);
    }
    // Backtrack: undo the last placement and try the entry after it, in the list it came from.
    // Undoing a skip leaves us at that operation's return again, which is then a dead end too, so
    // unwinding goes on. So does undoing a read-only placement: a legal read can be moved to the
    // front of any completion (it changes no state, and everything that had to precede it is
    // placed), so if no completion starts with it, none exists from before it either.
    for (;;) {
      if (depth === 0) {
        budget.spend(sinceClock);
        return { kind: 'not-linearizable', deadEnd, steps: steps + sinceClock, cacheSize: cache.size };
      }
      depth--;
      const kind = stackKind[depth]!;
      const frameNode = stackNode[depth]!;
      state = stackState[depth]!;
      stackState[depth] = undefined as S;
      if (kind === PLACED_PENDING) {
        pending.toggle(bit[pend.op[frameNode]!]!);
        unliftNode(pend, frameNode);
        phase = 1;
        limit = stackLimit[depth]!;
        limitTime = ops[main.op[limit]!]!.ret;
        pnode = pend.next[frameNode]!;
        break;
      }
      const j = main.op[frameNode]!;
      placed.toggle(bit[j]!);
      unlift(main, frameNode);
      if (kind === SKIPPED) {
        skipped--;
        continue;
      }
      if (readOnly[j] === 1) continue;
      phase = 0;
      node = main.next[frameNode]!;
      break;
    }
  }
  budget.spend(sinceClock);
  const order: number[] = [];
  for (let d = 0; d < depth; d++) {
    const kind = stackKind[d]!;
    if (kind === PLACED) order.push(main.op[stackNode[d]!]!);
    else if (kind === PLACED_PENDING) order.push(pend.op[stackNode[d]!]!);
  }
  return { kind: 'linearizable', order, steps: steps + sinceClock, cacheSize: cache.size };
}

/**
 * For each indeterminate operation, the latest earlier-called indeterminate operation with an
 * identical input (NIL if none). Two such operations are interchangeable once both are called
 * (same input, no response), so the search only ever places the earlier one first.
 */
function identicalPredecessors<I, O>(ops: readonly CheckedOperation<I, O>[], pendingOps: readonly number[]): Int32Array {
  const twin = new Int32Array(ops.length).fill(NIL);
  const order = [...pendingOps].sort((a, b) => compareTime(ops[a]!.call, ops[b]!.call) || a - b);
  const last = new Map<string, number>();
  for (const i of order) {
    const key = structuralKey(ops[i]!.input);
    if (key === undefined) continue;
    const prev = last.get(key);
    if (prev !== undefined) twin[i] = prev;
    last.set(key, i);
  }
  return twin;
}

/** A string equal for structurally equal plain-data inputs; undefined if there is none. */
function structuralKey(input: unknown): string | undefined {
  try {
    return JSON.stringify(input, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
  } catch {
    return undefined; // not plain data (a cycle): no twins
  }
}

function recordDeadEnd<S, I, O>(
  ops: readonly CheckedOperation<I, O>[],
  main: EntryList,
  pend: EntryList,
  stackNode: Int32Array,
  stackKind: Uint8Array,
  depth: number,
  state: S,
  limit: number,
): DeadEnd<S> {
  const linearized: number[] = [];
  for (let d = 0; d < depth; d++) {
    const kind = stackKind[d]!;
    if (kind === PLACED) linearized.push(main.op[stackNode[d]!]!);
    else if (kind === PLACED_PENDING) linearized.push(pend.op[stackNode[d]!]!);
  }
  const pending: number[] = [];
  for (let p = main.next[HEAD]!; p !== limit && p !== NIL; p = main.next[p]!) {
    if (main.isCall[p] === 1) pending.push(main.op[p]!);
  }
  const limitTime = ops[main.op[limit]!]!.ret;
  for (let p = pend.next[HEAD]!; p !== NIL && compareTime(ops[pend.op[p]!]!.call, limitTime) <= 0; p = pend.next[p]!) {
    pending.push(pend.op[p]!);
  }
  return { linearized, state, blocked: main.op[limit]!, pending };
}
