/**
 * The deterministic executor: a discrete-event scheduler on virtual time. Every poll round,
 * timer and simulated message delivery of every store is an event here, so one seed gives one
 * interleaving and a failing seed replays exactly (FoundationDB / madsim style).
 *
 * Events at the same virtual instant run in FIFO order, or, with `shuffle`, in an order drawn
 * from the seeded Rng, which explores more interleavings. Between two events all pending
 * microtasks (promise continuations, e.g. memory-engine I/O) run to completion, so async code
 * behaves as it would on a real event loop.
 */
import type { Clock, Rng } from '@mrkv/common';
import type { Scheduler } from './scheduler.js';

interface SimEvent {
  at: number;
  key: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** A cancellable timer. */
export interface SimTimer {
  cancel(): void;
}

export interface SimSchedulerOptions {
  /** Randomize the order of events due at the same instant (needs `rng`). */
  shuffle?: boolean;
  rng?: Rng;
  /** Virtual start time in ms. */
  startMs?: number;
}

export class SimScheduler implements Scheduler, Clock {
  private heap: SimEvent[] = [];
  private seq = 0;
  private now: number;
  private readonly rng: Rng | undefined;
  private readonly shuffle: boolean;
  /** Events run so far. */
  eventsRun = 0;

  constructor(opts: SimSchedulerOptions = {}) {
    this.now = opts.startMs ?? 0;
    this.rng = opts.rng;
    this.shuffle = Boolean(opts.shuffle && opts.rng);
  }

  nowMs(): number {
    return this.now;
  }

  wallMs(): number {
    return 1_700_000_000_000 + this.now;
  }

  schedule(fn: () => void): void {
    this.push(this.now, fn);
  }

  /** Runs `fn` after `delayMs` of virtual time. */
  setTimer(delayMs: number, fn: () => void): SimTimer {
    const ev = this.push(this.now + Math.max(0, delayMs), fn);
    return { cancel: () => void (ev.cancelled = true) };
  }

  /** Number of events waiting. */
  get pending(): number {
    return this.heap.length;
  }

  /** Time of the next event, or undefined when none is queued. */
  nextAt(): number | undefined {
    this.dropCancelled();
    return this.heap[0]?.at;
  }

  /** Runs one event (advancing virtual time to it) and the microtasks it caused. */
  async step(): Promise<boolean> {
    this.dropCancelled();
    const ev = this.pop();
    if (!ev) return false;
    if (ev.at > this.now) this.now = ev.at;
    this.eventsRun++;
    ev.fn();
    await drainMicrotasks();
    return true;
  }

  /** Runs every event due at or before `untilMs`, then sets the clock to `untilMs`. */
  async runUntil(untilMs: number, maxEvents = Number.POSITIVE_INFINITY): Promise<void> {
    let n = 0;
    for (;;) {
      const at = this.nextAt();
      if (at === undefined || at > untilMs || n >= maxEvents) break;
      await this.step();
      n++;
    }
    if (untilMs > this.now) this.now = untilMs;
  }

  /** Advances virtual time by `ms`, running everything due. */
  async advance(ms: number): Promise<void> {
    await this.runUntil(this.now + ms);
  }

  /** Runs until `pred()` holds, or throws after `timeoutMs` of virtual time. */
  async runUntilTrue(pred: () => boolean, timeoutMs: number, what = 'condition'): Promise<void> {
    const deadline = this.now + timeoutMs;
    while (!pred()) {
      const at = this.nextAt();
      if (at === undefined || at > deadline) {
        if (pred()) return;
        throw new Error(`sim: ${what} not reached within ${timeoutMs} ms of virtual time (now ${this.now})`);
      }
      await this.step();
    }
  }

  /** Runs until no event is queued (only useful when nothing re-arms timers). */
  async runUntilIdle(maxEvents = 10_000_000): Promise<void> {
    let n = 0;
    while (n++ < maxEvents && (await this.step()));
  }

  private push(at: number, fn: () => void): SimEvent {
    const ev: SimEvent = {
      at,
      key: this.shuffle ? this.rng!.next() : 0,
      seq: this.seq++,
      fn,
      cancelled: false,
    };
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
    return ev;
  }

  private pop(): SimEvent | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && less(h[l]!, h[m]!)) m = l;
        if (r < h.length && less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }

  private dropCancelled(): void {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) this.pop();
  }
}

function less(a: SimEvent, b: SimEvent): boolean {
  if (a.at !== b.at) return a.at < b.at;
  if (a.key !== b.key) return a.key < b.key;
  return a.seq < b.seq;
}

/** Lets every queued microtask (and the ones they queue) run: one real macrotask turn. */
function drainMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
