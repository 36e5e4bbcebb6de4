/**
 * A toy FSM for batch-system tests (like TiKV's batch-system `test_runner.rs`): counters that
 * add numbers, forward amounts to other counters, and "persist" their totals in each round's
 * `end` — an async step, standing in for the raft log write — counting rounds and batch sizes.
 */
import type { PollHandler } from '../poller.js';
import type { FsmRouter } from '../router.js';

export type ToyMsg =
  | { readonly type: 'add'; readonly n: number }
  | { readonly type: 'forward'; readonly to: number; readonly n: number };

export type ToyControlMsg = { readonly type: 'create'; readonly id: number } | { readonly type: 'report' };

export class Counter {
  total = 0;
  persisted = 0;
  handledMsgs = 0;
  constructor(readonly id: number) {}
}

export interface ToyControl {
  created: number[];
}

export interface ToyHooks {
  readonly router: FsmRouter<ToyMsg>;
  /** Creates and registers a counter on this poller. */
  create(id: number): void;
  /** Emits a report of every counter on this poller. */
  report(counters: Array<{ id: number; total: number; persisted: number; handled: number }>): void;
  /** All counters of this poller. */
  counters(): Iterable<Counter>;
  /** The round's "I/O". */
  persist(): Promise<void>;
}

/** Counts what the rounds did, to check batching. */
export interface ToyRoundStats {
  rounds: number;
  maxBatch: number;
}

export function toyHandler(hooks: ToyHooks, stats: ToyRoundStats): PollHandler<Counter, ToyMsg, ToyControl, ToyControlMsg> {
  return {
    begin() {
      stats.rounds++;
    },
    handleControl(control, msgs) {
      for (const m of msgs) {
        if (m.type === 'create') {
          hooks.create(m.id);
          control.created.push(m.id);
        } else {
          hooks.report(
            [...hooks.counters()].map((c) => ({ id: c.id, total: c.total, persisted: c.persisted, handled: c.handledMsgs })),
          );
        }
      }
    },
    handleNormal(fsm, msgs) {
      for (const m of msgs) {
        fsm.handledMsgs++;
        if (m.type === 'add') fsm.total += m.n;
        else hooks.router.send(m.to, { type: 'add', n: m.n });
      }
    },
    async end(fsms) {
      stats.maxBatch = Math.max(stats.maxBatch, fsms.length);
      await hooks.persist();
      for (const c of fsms) c.persisted = c.total;
    },
  };
}
