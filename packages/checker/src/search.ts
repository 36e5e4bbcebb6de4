/**
 * The linearizability search over one partition: Wing & Gong's backtracking search (1993) with
 * Lowe's memoization of (linearized set, state) configurations, in the shape Porcupine uses.
 *
 * Process overview:
 * 1. Sort the 2n call and return entries by time, calls before returns on ties (intervals are
 *    closed, so touching operations are concurrent), into a doubly linked list kept in index
 *    arrays (no per-node objects). Indeterminate returns sit at +∞, after every other entry.
 * 2. Walk the list from the head. At a call whose step from the current state is legal, mark the
 *    operation in the bitset; if (bitset, new state) is not in the cache, record it, push
 *    (entry, state) on an explicit stack, lift the call and its return out of the list, and
 *    restart from the head. A legal but already-cached configuration is skipped.
 * 3. Reaching a return means the operation it closes could not be placed before it: pop the
 *    stack, put the popped call back, and try the entry after it. An empty stack at a return
 *    means no linearization exists.
 * 4. Success when the list is empty, or when the walk reaches an indeterminate return: every
 *    definite operation is then placed, and the indeterminate ones left over are those that
 *    never took effect.
 * 5. Optional operations (used by the explanation: "happened in its interval, or not at all")
 *    get one more choice at their return: resolve them as not happened, on the same stack and
 *    under the same cache (placed-or-skipped with equal states are the same configuration).
 *
 * On failure the search reports its deepest dead end: the longest partial linearization it
 * built, the state after it, the operation whose return blocked it and the operations that
 * were pending (called, not yet placed) at that return.
 */
import type { Budget } from './budget.js';
import { STEPS_PER_CLOCK_READ } from './budget.js';
import type { CheckedOperation } from './history.js';
import { compareTime } from './history.js';
import type { Model } from './model.js';
import { ConfigurationCache } from './search-cache.js';

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

const NIL = -1;
const HEAD = 0;

/** The sorted entry list as parallel index arrays. Node 0 is the head sentinel. */
interface EntryList {
  readonly next: Int32Array;
  readonly prev: Int32Array;
  /** Partition-local operation of each node. */
  readonly op: Int32Array;
  /** 1 for a call node, 0 for a return node (and the head). */
  readonly isCall: Uint8Array;
  /** For a call node, the node of its return; for a return node, the node of its call. */
  readonly match: Int32Array;
}

function buildEntryList<I, O>(ops: readonly CheckedOperation<I, O>[]): EntryList {
  const n = ops.length;
  const order = new Array<number>(2 * n);
  for (let i = 0; i < 2 * n; i++) order[i] = i;
  // Entry e < n is the call of op e, entry e ≥ n the return of op e - n.
  const timeOf = (e: number): CheckedOperation<I, O>['call'] => (e < n ? ops[e]!.call : ops[e - n]!.ret);
  order.sort((a, b) => {
    const c = compareTime(timeOf(a), timeOf(b));
    if (c !== 0) return c;
    const aCall = a < n ? 0 : 1;
    const bCall = b < n ? 0 : 1;
    return aCall !== bCall ? aCall - bCall : a - b;
  });
  const size = 2 * n + 1;
  const next = new Int32Array(size);
  const prev = new Int32Array(size);
  const op = new Int32Array(size).fill(NIL);
  const match = new Int32Array(size).fill(NIL);
  const isCall = new Uint8Array(size);
  const callNode = new Int32Array(n);
  for (let p = 1; p < size; p++) {
    const e = order[p - 1]!;
    prev[p] = p - 1;
    next[p - 1] = p;
    if (e < n) {
      op[p] = e;
      isCall[p] = 1;
      callNode[e] = p;
    } else {
      op[p] = e - n;
      match[callNode[e - n]!] = p;
      match[p] = callNode[e - n]!;
    }
  }
  next[size - 1] = NIL;
  prev[HEAD] = NIL;
  return { next, prev, op, isCall, match };
}

/** Removes a call node and its return node (dancing links: the removed nodes keep their links). */
function lift(l: EntryList, call: number): void {
  const { next, prev } = l;
  next[prev[call]!] = next[call]!;
  if (next[call] !== NIL) prev[next[call]!] = prev[call]!;
  const ret = l.match[call]!;
  next[prev[ret]!] = next[ret]!;
  if (next[ret] !== NIL) prev[next[ret]!] = prev[ret]!;
}

/** Undoes `lift`. Valid only in LIFO order with respect to lifts. */
function unlift(l: EntryList, call: number): void {
  const { next, prev } = l;
  const ret = l.match[call]!;
  next[prev[ret]!] = ret;
  if (next[ret] !== NIL) prev[next[ret]!] = ret;
  next[prev[call]!] = call;
  if (next[call] !== NIL) prev[next[call]!] = call;
}

/** A fixed pseudo-random 32-bit value per operation, for the incremental (Zobrist) bitset hash. */
function zobrist(i: number): number {
  let z = Math.imul((i + 1) ^ 0x5bd1e995, 0x9e3779b1);
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) | 0;
}

/** Searches for a linearization of one partition's operations. */
export function searchPartition<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly CheckedOperation<I, O>[],
  budget: Budget,
): SearchOutcome<S> {
  const n = ops.length;
  const list = buildEntryList(ops);
  const { next, op: nodeOp, match, isCall } = list;
  const width = (n + 31) >>> 5;
  const bits = new Uint32Array(Math.max(1, width));
  const zob = new Int32Array(n);
  for (let i = 0; i < n; i++) zob[i] = zobrist(i);
  const cache = new ConfigurationCache<S>(width, (a, b) => model.equal(a, b));
  /** Frames: the call node placed (or, when `stackSkip`, the optional operation resolved as not happened). */
  const stackNode = new Int32Array(n);
  const stackSkip = new Uint8Array(n);
  const stackState = new Array<S>(n);
  let depth = 0;
  let state = model.init();
  let bitsHash = 0;
  let steps = 0;
  let sinceClock = 0;
  let deadEnd: DeadEnd<S> | undefined;

  let node = next[HEAD]!;
  while (node !== NIL) {
    if (++sinceClock === STEPS_PER_CLOCK_READ) {
      steps += sinceClock;
      sinceClock = 0;
      if (!budget.spend(STEPS_PER_CLOCK_READ)) return { kind: 'unknown', steps, cacheSize: cache.size };
    }
    const i = nodeOp[node]!;
    const opI = ops[i]!;
    const word = i >>> 5;
    const bit = 1 << (i & 31);
    if (isCall[node] === 1) {
      const r = model.step(state, opI.input, opI.output);
      if (r.ok) {
        bits[word]! ^= bit;
        const h = bitsHash ^ zob[i]!;
        const key = (h ^ Math.imul(model.hash(r.state) | 0, 0x27d4eb2d)) | 0;
        if (cache.addIfAbsent(key, bits, r.state)) {
          bitsHash = h;
          stackNode[depth] = node;
          stackSkip[depth] = 0;
          stackState[depth] = state;
          depth++;
          state = r.state;
          lift(list, node);
          node = next[HEAD]!;
          continue;
        }
        bits[word]! ^= bit;
      }
      node = next[node]!;
      continue;
    }
    // A return: the operation it closes is still unplaced.
    if (opI.indeterminate) break;
    if (opI.optional) {
      // It may not have happened at all: resolve it without a step (the state is unchanged).
      bits[word]! ^= bit;
      const h = bitsHash ^ zob[i]!;
      const key = (h ^ Math.imul(model.hash(state) | 0, 0x27d4eb2d)) | 0;
      if (cache.addIfAbsent(key, bits, state)) {
        bitsHash = h;
        const call = match[node]!;
        stackNode[depth] = call;
        stackSkip[depth] = 1;
        stackState[depth] = state;
        depth++;
        lift(list, call);
        node = next[HEAD]!;
        continue;
      }
      bits[word]! ^= bit;
    }
    if (deadEnd === undefined || placedCount(stackSkip, depth) > deadEnd.linearized.length) {
      deadEnd = recordDeadEnd(list, stackNode, stackSkip, depth, state, i, node);
    }
    // Backtrack: undo the last placement and try the entry after it. Undoing a skip leaves us at
    // that operation's return again, which is then a dead end too, so unwinding goes on.
    for (;;) {
      if (depth === 0) {
        budget.spend(sinceClock);
        return { kind: 'not-linearizable', deadEnd, steps: steps + sinceClock, cacheSize: cache.size };
      }
      depth--;
      const call = stackNode[depth]!;
      state = stackState[depth]!;
      stackState[depth] = undefined as S;
      const j = nodeOp[call]!;
      bits[j >>> 5]! ^= 1 << (j & 31);
      bitsHash ^= zob[j]!;
      unlift(list, call);
      if (stackSkip[depth] === 0) {
        node = next[call]!;
        break;
      }
    }
  }
  budget.spend(sinceClock);
  const order: number[] = [];
  for (let d = 0; d < depth; d++) if (stackSkip[d] === 0) order.push(nodeOp[stackNode[d]!]!);
  return { kind: 'linearizable', order, steps: steps + sinceClock, cacheSize: cache.size };
}

function placedCount(stackSkip: Uint8Array, depth: number): number {
  let n = 0;
  for (let d = 0; d < depth; d++) n += 1 - stackSkip[d]!;
  return n;
}

function recordDeadEnd<S>(
  list: EntryList,
  stackNode: Int32Array,
  stackSkip: Uint8Array,
  depth: number,
  state: S,
  blocked: number,
  retNode: number,
): DeadEnd<S> {
  const linearized: number[] = [];
  for (let d = 0; d < depth; d++) if (stackSkip[d] === 0) linearized.push(list.op[stackNode[d]!]!);
  const pending: number[] = [];
  for (let p = list.next[HEAD]!; p !== retNode && p !== NIL; p = list.next[p]!) {
    if (list.isCall[p] === 1) pending.push(list.op[p]!);
  }
  return { linearized, state, blocked, pending };
}
