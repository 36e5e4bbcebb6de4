/**
 * A persistent (immutable, path-copying) treap of byte-string keys: the sorted map behind the
 * memory engine. Every update returns a new root and shares everything it did not touch, so a
 * snapshot, an iterator or the "durable" state of the crash model is just a root pointer.
 *
 * Nodes keep the key count and byte size of their subtree, so range statistics are exact in
 * O(log n); delete-range is two splits and a merge, also O(log n). Priorities come from a seeded
 * xorshift generator owned by the tree, so the same operations build the same shape every run.
 */
import { invariant } from '@mrkv/common';

/** A tree node. Immutable once built. */
export interface TreeNode {
  readonly key: Buffer;
  readonly value: Buffer;
  readonly prio: number;
  readonly left: TreeNode | null;
  readonly right: TreeNode | null;
  /** Keys in this subtree. */
  readonly count: number;
  /** Bytes of keys and values in this subtree. */
  readonly bytes: number;
}

export type Root = TreeNode | null;

function mk(key: Buffer, value: Buffer, prio: number, left: Root, right: Root): TreeNode {
  return {
    key,
    value,
    prio,
    left,
    right,
    count: 1 + (left?.count ?? 0) + (right?.count ?? 0),
    bytes: key.length + value.length + (left?.bytes ?? 0) + (right?.bytes ?? 0),
  };
}

export function treeGet(root: Root, key: Buffer): Buffer | undefined {
  let n = root;
  while (n !== null) {
    const c = Buffer.compare(key, n.key);
    if (c === 0) return n.value;
    n = c < 0 ? n.left : n.right;
  }
  return undefined;
}

export function treeInsert(n: Root, key: Buffer, value: Buffer, prio: number): TreeNode {
  if (n === null) return mk(key, value, prio, null, null);
  const c = Buffer.compare(key, n.key);
  if (c === 0) return mk(n.key, value, n.prio, n.left, n.right);
  if (c < 0) {
    const l = treeInsert(n.left, key, value, prio);
    if (l.prio > n.prio) return mk(l.key, l.value, l.prio, l.left, mk(n.key, n.value, n.prio, l.right, n.right));
    return mk(n.key, n.value, n.prio, l, n.right);
  }
  const r = treeInsert(n.right, key, value, prio);
  if (r.prio > n.prio) return mk(r.key, r.value, r.prio, mk(n.key, n.value, n.prio, n.left, r.left), r.right);
  return mk(n.key, n.value, n.prio, n.left, r);
}

function merge(a: Root, b: Root): Root {
  if (a === null) return b;
  if (b === null) return a;
  if (a.prio > b.prio) return mk(a.key, a.value, a.prio, a.left, merge(a.right, b));
  return mk(b.key, b.value, b.prio, merge(a, b.left), b.right);
}

export function treeRemove(n: Root, key: Buffer): Root {
  if (n === null) return null;
  const c = Buffer.compare(key, n.key);
  if (c === 0) return merge(n.left, n.right);
  if (c < 0) {
    const l = treeRemove(n.left, key);
    return l === n.left ? n : mk(n.key, n.value, n.prio, l, n.right);
  }
  const r = treeRemove(n.right, key);
  return r === n.right ? n : mk(n.key, n.value, n.prio, n.left, r);
}

/** Splits into keys `< key` and keys `≥ key`. */
function split(n: Root, key: Buffer): [Root, Root] {
  if (n === null) return [null, null];
  if (Buffer.compare(n.key, key) < 0) {
    const [l, r] = split(n.right, key);
    return [mk(n.key, n.value, n.prio, n.left, l), r];
  }
  const [l, r] = split(n.left, key);
  return [l, mk(n.key, n.value, n.prio, r, n.right)];
}

/** Removes every key in `[start, end)`. */
export function treeDeleteRange(root: Root, start: Buffer, end: Buffer): Root {
  const [below, rest] = split(root, start);
  if (rest === null) return root;
  const [, above] = split(rest, end);
  return merge(below, above);
}

/** Count and bytes of the keys `< key` (all keys when `key` is undefined). */
function rank(root: Root, key: Buffer | undefined): { count: number; bytes: number } {
  if (key === undefined) return { count: root?.count ?? 0, bytes: root?.bytes ?? 0 };
  let count = 0;
  let bytes = 0;
  let n = root;
  while (n !== null) {
    if (Buffer.compare(n.key, key) < 0) {
      count += 1 + (n.left?.count ?? 0);
      bytes += n.key.length + n.value.length + (n.left?.bytes ?? 0);
      n = n.right;
    } else {
      n = n.left;
    }
  }
  return { count, bytes };
}

/** Exact count and bytes of the keys in `[start, end)`. */
export function treeRangeStats(root: Root, start: Buffer | undefined, end: Buffer | undefined): { count: number; bytes: number } {
  const lo = start === undefined ? { count: 0, bytes: 0 } : rank(root, start);
  const hi = rank(root, end);
  return { count: Math.max(0, hi.count - lo.count), bytes: Math.max(0, hi.bytes - lo.bytes) };
}

/**
 * An in-order cursor over `[start, end)` of one root, ascending or descending. Holds only the
 * root it was built on, so later updates never affect it.
 */
export class TreeCursor {
  private readonly stack: TreeNode[] = [];

  constructor(
    root: Root,
    private readonly start: Buffer | undefined,
    private readonly end: Buffer | undefined,
    private readonly reverse: boolean,
  ) {
    let n = root;
    if (!reverse) {
      while (n !== null) {
        if (start === undefined || Buffer.compare(n.key, start) >= 0) {
          this.stack.push(n);
          n = n.left;
        } else {
          n = n.right;
        }
      }
    } else {
      while (n !== null) {
        if (end === undefined || Buffer.compare(n.key, end) < 0) {
          this.stack.push(n);
          n = n.right;
        } else {
          n = n.left;
        }
      }
    }
  }

  /** The next node in range, or undefined at the end. */
  next(): TreeNode | undefined {
    const n = this.stack.pop();
    if (n === undefined) return undefined;
    if (!this.reverse) {
      if (this.end !== undefined && Buffer.compare(n.key, this.end) >= 0) {
        this.stack.length = 0;
        return undefined;
      }
      for (let c = n.right; c !== null; c = c.left) this.stack.push(c);
    } else {
      if (this.start !== undefined && Buffer.compare(n.key, this.start) < 0) {
        this.stack.length = 0;
        return undefined;
      }
      for (let c = n.left; c !== null; c = c.right) this.stack.push(c);
    }
    return n;
  }
}

/** Seeded xorshift32 priorities: the same update sequence gives the same tree shape. */
export class PriorityGen {
  private s: number;
  constructor(seed = 0x9e3779b9) {
    invariant(seed !== 0, 'xorshift seed must be non-zero');
    this.s = seed | 0;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x;
    return x >>> 0;
  }
}
