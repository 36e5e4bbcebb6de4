/**
 * The in-flight window of one follower (etcd `tracker/inflights.go`): the last index of each
 * MsgApp sent but not yet acknowledged, with its payload bytes. The leader stops sending new
 * entries when the window is full by count (`maxInflightMsgs`) or by bytes (`maxInflightBytes`).
 *
 * A ring buffer of (index, bytes) pairs in one Float64Array, allocated lazily and grown by
 * doubling up to the capacity, so an idle follower costs no buffer at all.
 */
import { RaftInvariantViolation } from '../errors.js';

export class Inflights {
  /** Ring position of the oldest in-flight message. */
  private start = 0;
  /** Number of in-flight messages. */
  count = 0;
  /** Sum of in-flight payload bytes. */
  bytes = 0;
  /** (index, bytes) pairs; null until the first add. */
  private buffer: Float64Array | null = null;

  /**
   * @param capacity most messages in flight (> 0).
   * @param maxBytes most payload bytes in flight (Infinity: no limit). The window may exceed
   *   it by one message: it is full once `bytes >= maxBytes`.
   */
  constructor(
    readonly capacity: number,
    readonly maxBytes: number,
  ) {}

  /** An independent copy. */
  clone(): Inflights {
    const c = new Inflights(this.capacity, this.maxBytes);
    c.start = this.start;
    c.count = this.count;
    c.bytes = this.bytes;
    c.buffer = this.buffer === null ? null : this.buffer.slice();
    return c;
  }

  /** Records a message whose last entry is `index`. Invariant: indexes increase; not full. */
  add(index: number, bytes: number): void {
    if (this.full()) throw new RaftInvariantViolation('cannot add into a full inflights window', { index, count: this.count });
    let next = this.start + this.count;
    if (next >= this.capacity) next -= this.capacity;
    if (this.buffer === null || next * 2 >= this.buffer.length) this.grow();
    const buf = this.buffer!;
    buf[next * 2] = index;
    buf[next * 2 + 1] = bytes;
    this.count++;
    this.bytes += bytes;
  }

  private grow(): void {
    const old = this.buffer;
    let slots = old === null ? 1 : old.length; // doubles the number of slots
    if (slots > this.capacity) slots = this.capacity;
    const next = new Float64Array(slots * 2);
    if (old !== null) next.set(old);
    this.buffer = next;
  }

  /** Frees every message whose index is ≤ `to` (an acknowledgement up to `to`). */
  freeLE(to: number): void {
    const buf = this.buffer;
    if (this.count === 0 || buf === null || to < buf[this.start * 2]!) return;
    let idx = this.start;
    let i = 0;
    let bytes = 0;
    for (; i < this.count; i++) {
      if (to < buf[idx * 2]!) break;
      bytes += buf[idx * 2 + 1]!;
      if (++idx >= this.capacity) idx -= this.capacity;
    }
    this.count -= i;
    this.bytes -= bytes;
    this.start = this.count === 0 ? 0 : idx;
  }

  /** True when no more messages may be sent. */
  full(): boolean {
    return this.count === this.capacity || this.bytes >= this.maxBytes;
  }

  /** Forgets everything in flight. */
  reset(): void {
    this.count = 0;
    this.start = 0;
    this.bytes = 0;
  }

  /** The in-flight indexes, oldest first (for tests and status). */
  indexes(): number[] {
    const out: number[] = [];
    const buf = this.buffer;
    if (buf === null) return out;
    let idx = this.start;
    for (let i = 0; i < this.count; i++) {
      out.push(buf[idx * 2]!);
      if (++idx >= this.capacity) idx -= this.capacity;
    }
    return out;
  }
}
