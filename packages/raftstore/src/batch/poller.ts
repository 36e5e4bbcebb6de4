/**
 * The poller: one batch-system worker's loop (TiKV `batch-system/src/batch.rs`).
 *
 * Process overview of one round:
 *   1. take up to `maxBatchSize` FSMs that have mail (each FSM is queued at most once, and only
 *      when it has work — its slot is "notified");
 *   2. `begin`, then `handleControl` if the control FSM has mail, then `handleNormal` on each FSM
 *      with the messages drained from its mailbox (at most `messagesPerTick` at a time);
 *      FSMs that receive mail during the round are topped up into the same round;
 *   3. `lightEnd` (flush cheap work such as network sends), then `end`, which does the round's
 *      batched I/O (one write batch and one fsync for every FSM of the round) and may be async;
 *   4. the next round starts only after `end` has finished; mail that arrived meanwhile is
 *      handled together, which is what makes group commit happen without any timer.
 *
 * The poller knows nothing of Raft. It is single-threaded: cross-thread delivery is the
 * executor's job (see `thread-system.ts`), which calls `send` on the owning thread.
 */
import { invariant } from '@mrkv/common';
import type { Scheduler } from './scheduler.js';

/** The hooks of one poll round. `N` is a normal FSM, `M` its messages, `C`/`CM` the control FSM and its messages. */
export interface PollHandler<N, M, C, CM> {
  /** Called first in every round with the number of normal FSMs taken. */
  begin(batchSize: number): void;
  /** Handles the control FSM's mail (only called when it has any). */
  handleControl(control: C, msgs: CM[]): void;
  /** Handles one normal FSM's mail. */
  handleNormal(fsm: N, msgs: M[]): void;
  /** Optional cheap flush before `end` (e.g. sending network messages collected this round). */
  lightEnd?(): void;
  /** The round's batched I/O. The next round waits for the returned promise. */
  end(fsms: readonly N[]): void | Promise<void>;
  /** Called when the poller goes idle (no mail left). */
  pause?(): void;
}

export interface PollerConfig {
  /** Most normal FSMs handled per round (TiKV `max_batch_size`, 256). */
  maxBatchSize: number;
  /** Most messages handed to one FSM per round; the rest wait for the next round (TiKV 4096). */
  messagesPerTick: number;
}

export const defaultPollerConfig: PollerConfig = { maxBatchSize: 256, messagesPerTick: 4096 };

interface Slot<N, M> {
  readonly id: number;
  readonly fsm: N;
  queue: M[];
  /** Invariant: notified ⇔ the slot is queued in `ready` (cleared just before it is handled). */
  notified: boolean;
  removed: boolean;
  /** The last round (`stats.rounds`) that put this FSM in its batch: no Set per round. */
  inRound: number;
}

/** Counters for tests, metrics and benchmarks. */
export interface PollerStats {
  rounds: number;
  normalsHandled: number;
  messagesHandled: number;
}

/** One batch-system worker: a set of normal FSMs plus one control FSM, driven in rounds. */
export class Poller<N, M, C, CM> {
  private readonly slots = new Map<number, Slot<N, M>>();
  private ready: Slot<N, M>[] = [];
  private controlQueue: CM[] = [];
  private running = false;
  private scheduled = false;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];
  readonly stats: PollerStats = { rounds: 0, normalsHandled: 0, messagesHandled: 0 };

  constructor(
    private readonly handler: PollHandler<N, M, C, CM>,
    private readonly control: C,
    private readonly scheduler: Scheduler,
    private readonly config: PollerConfig = defaultPollerConfig,
  ) {
    invariant(config.maxBatchSize > 0 && config.messagesPerTick > 0, 'poller limits must be positive', { ...config });
  }

  /** Adds a normal FSM. Throws if the id is taken: one FSM per id per poller. */
  register(id: number, fsm: N): void {
    invariant(!this.slots.has(id), 'FSM id already registered', { id });
    this.slots.set(id, { id, fsm, queue: [], notified: false, removed: false, inRound: 0 });
  }

  /** Removes an FSM and returns the mail it had not handled (so callers can fail callbacks). */
  deregister(id: number): M[] {
    const slot = this.slots.get(id);
    if (!slot) return [];
    this.slots.delete(id);
    slot.removed = true;
    const left = slot.queue;
    slot.queue = [];
    return left;
  }

  has(id: number): boolean {
    return this.slots.has(id);
  }

  get(id: number): N | undefined {
    return this.slots.get(id)?.fsm;
  }

  /** Ids of all registered FSMs. */
  ids(): IterableIterator<number> {
    return this.slots.keys();
  }

  get size(): number {
    return this.slots.size;
  }

  /** Delivers `msg` to FSM `id`. Returns false if no such FSM is registered here. */
  send(id: number, msg: M): boolean {
    const slot = this.slots.get(id);
    if (!slot) return false;
    slot.queue.push(msg);
    if (!slot.notified) {
      slot.notified = true;
      this.ready.push(slot);
      this.wake();
    }
    return true;
  }

  /** Delivers `msg` to the control FSM. */
  sendControl(msg: CM): void {
    this.controlQueue.push(msg);
    this.wake();
  }

  /** True when no round is running or queued and no mail is waiting. */
  isIdle(): boolean {
    return !this.running && !this.scheduled && this.ready.length === 0 && this.controlQueue.length === 0;
  }

  /** Resolves once the poller is idle (for tests and graceful shutdown). */
  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops scheduling rounds; mail still queued is left unhandled. */
  stop(): void {
    this.stopped = true;
  }

  private wake(): void {
    if (this.running || this.scheduled || this.stopped) return;
    this.scheduled = true;
    this.scheduler.schedule(() => this.round());
  }

  private round(): void {
    this.scheduled = false;
    if (this.stopped) return;
    this.running = true;
    this.stats.rounds++;
    const batch: N[] = [];
    const roundNo = this.stats.rounds;
    const first = this.ready.splice(0, this.config.maxBatchSize);
    this.handler.begin(first.length);
    if (this.controlQueue.length > 0) {
      const msgs = this.controlQueue;
      this.controlQueue = [];
      this.handler.handleControl(this.control, msgs);
    }
    // `calls` bounds the round even if an FSM keeps mailing itself: at most maxBatchSize handles.
    let calls = 0;
    let pending = first;
    while (pending.length > 0) {
      for (const slot of pending) {
        if (slot.removed) continue;
        calls++;
        this.handleSlot(slot);
        if (slot.inRound !== roundNo) {
          slot.inRound = roundNo;
          batch.push(slot.fsm);
        }
      }
      // Top up with FSMs that got mail during this round (TiKV fetches more while the batch has room).
      const room = this.config.maxBatchSize - calls;
      pending = room > 0 ? this.ready.splice(0, room) : [];
    }
    this.handler.lightEnd?.();
    let result: void | Promise<void>;
    try {
      result = this.handler.end(batch);
    } catch (e) {
      this.finishRound();
      throw e;
    }
    if (result && typeof (result as Promise<void>).then === 'function') {
      (result as Promise<void>).then(
        () => this.finishRound(),
        (e: unknown) => {
          this.finishRound();
          // An I/O failure in `end` is fatal for the poller's owner (persist-before-ack is broken).
          setImmediate(() => {
            throw e;
          });
        },
      );
    } else {
      this.finishRound();
    }
  }

  private handleSlot(slot: Slot<N, M>): void {
    let msgs: M[];
    if (slot.queue.length <= this.config.messagesPerTick) {
      msgs = slot.queue;
      slot.queue = [];
    } else {
      msgs = slot.queue.splice(0, this.config.messagesPerTick);
    }
    // Clear `notified` before handling so mail sent to this FSM during the round re-queues it.
    slot.notified = false;
    if (slot.queue.length > 0) {
      slot.notified = true;
      this.ready.push(slot);
    }
    this.stats.normalsHandled++;
    this.stats.messagesHandled += msgs.length;
    this.handler.handleNormal(slot.fsm, msgs);
  }

  private finishRound(): void {
    this.running = false;
    if (this.ready.length > 0 || this.controlQueue.length > 0) {
      this.wake();
      return;
    }
    this.handler.pause?.();
    if (this.isIdle() && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}
