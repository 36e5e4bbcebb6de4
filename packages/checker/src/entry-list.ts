/**
 * The search's lists of call and return entries, sorted by time, as parallel index arrays (no
 * per-node objects): `next`/`prev` links, the operation of each node, whether it is a call, and
 * the node at the other end of the operation. Node 0 is the head sentinel.
 *
 * Removal is dancing links (Knuth): a removed node keeps its own links, so removals undone in
 * LIFO order restore the list exactly.
 */
import type { CheckedOperation } from './history.js';
import { compareTime } from './history.js';

export const NIL = -1;
export const HEAD = 0;

export interface EntryList {
  readonly next: Int32Array;
  readonly prev: Int32Array;
  /** Partition-local operation of each node. */
  readonly op: Int32Array;
  /** 1 for a call node, 0 for a return node (and the head). */
  readonly isCall: Uint8Array;
  /** For a call node, the node of its return; for a return node, its call; NIL without returns. */
  readonly match: Int32Array;
}

/**
 * The entries of the operations `members` (partition-local indexes): their calls, and their
 * returns if `withReturns`. Ties sort calls before returns (intervals are closed), then by index.
 */
export function buildEntryList<I, O>(ops: readonly CheckedOperation<I, O>[], members: readonly number[], withReturns: boolean): EntryList {
  const m = members.length;
  const count = withReturns ? 2 * m : m;
  // Entry e < m is the call of members[e], entry e ≥ m the return of members[e - m].
  const timeOf = (e: number): CheckedOperation<I, O>['call'] => (e < m ? ops[members[e]!]!.call : ops[members[e - m]!]!.ret);
  const order = Array.from({ length: count }, (_, e) => e);
  order.sort((a, b) => compareTime(timeOf(a), timeOf(b)) || (a < m ? 0 : 1) - (b < m ? 0 : 1) || a - b);
  const size = count + 1;
  const next = new Int32Array(size);
  const prev = new Int32Array(size);
  const op = new Int32Array(size).fill(NIL);
  const match = new Int32Array(size).fill(NIL);
  const isCall = new Uint8Array(size);
  const callNode = new Int32Array(m);
  for (let p = 1; p < size; p++) {
    const e = order[p - 1]!;
    prev[p] = p - 1;
    next[p - 1] = p;
    if (e < m) {
      op[p] = members[e]!;
      isCall[p] = 1;
      callNode[e] = p;
    } else {
      op[p] = members[e - m]!;
      match[callNode[e - m]!] = p;
      match[p] = callNode[e - m]!;
    }
  }
  next[size - 1] = NIL;
  prev[HEAD] = NIL;
  return { next, prev, op, isCall, match };
}

/** Removes one node. */
export function liftNode(l: EntryList, node: number): void {
  const { next, prev } = l;
  next[prev[node]!] = next[node]!;
  if (next[node] !== NIL) prev[next[node]!] = prev[node]!;
}

/** Undoes `liftNode` (LIFO). */
export function unliftNode(l: EntryList, node: number): void {
  const { next, prev } = l;
  next[prev[node]!] = node;
  if (next[node] !== NIL) prev[next[node]!] = node;
}

/** Removes a call node and its return node. */
export function lift(l: EntryList, call: number): void {
  liftNode(l, call);
  liftNode(l, l.match[call]!);
}

/** Undoes `lift` (LIFO). */
export function unlift(l: EntryList, call: number): void {
  unliftNode(l, l.match[call]!);
  unliftNode(l, call);
}
