/**
 * The worker-thread executor, worker side. A system module (e.g. the raft or apply system's
 * worker entry) calls `runBatchWorker(setup)` at load; `setup` builds the worker's `Poller`.
 * Incoming batches are fed to the poller; the poller runs rounds on this thread's event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Poller } from './poller.js';
import { immediateScheduler, type Scheduler } from './scheduler.js';
import type { BatchWorkerData, FromWorker, ToWorker } from './thread-protocol.js';

/** What a system module's setup gets. */
export interface BatchWorkerContext {
  readonly system: string;
  readonly index: number;
  readonly data: unknown;
  readonly scheduler: Scheduler;
  /** Sends a message to the main thread (batched per macrotask). */
  postUp(msg: unknown): void;
  /** Tells the main thread that FSM `id` now lives on this worker. */
  announce(id: number): void;
  /** Tells the main thread that FSM `id` no longer lives here. */
  retract(id: number): void;
}

export interface BatchWorkerSetup<M, CM> {
  readonly poller: Poller<unknown, M, unknown, CM>;
  /** Mail for an FSM id this worker does not have. Default: dropped. */
  onUnknown?(id: number, msg: M): void;
  /** Called on stop, after the current round; release engines here. */
  onStop?(): Promise<void> | void;
}

/** Runs this thread as a batch-system worker. Call once from the worker entry module. */
export function runBatchWorker<M, CM>(
  setup: (ctx: BatchWorkerContext) => BatchWorkerSetup<M, CM> | Promise<BatchWorkerSetup<M, CM>>,
): void {
  const port = parentPort;
  if (!port) throw new Error('runBatchWorker must run inside a worker thread');
  const wd = workerData as BatchWorkerData;
  let up: unknown[] = [];
  let placed: number[] = [];
  let unplaced: number[] = [];
  let flushQueued = false;
  const flush = () => {
    flushQueued = false;
    // Placement first, so main routes new FSMs' mail correctly before it sees their output.
    if (placed.length > 0) port.postMessage({ t: 'placed', ids: placed } satisfies FromWorker);
    if (unplaced.length > 0) port.postMessage({ t: 'unplaced', ids: unplaced } satisfies FromWorker);
    if (up.length > 0) port.postMessage({ t: 'up', msgs: up } satisfies FromWorker);
    up = [];
    placed = [];
    unplaced = [];
  };
  const queueFlush = () => {
    if (!flushQueued) {
      flushQueued = true;
      queueMicrotask(flush);
    }
  };
  const ctx: BatchWorkerContext = {
    system: wd.system,
    index: wd.index,
    data: wd.data,
    scheduler: immediateScheduler,
    postUp: (msg) => {
      up.push(msg);
      queueFlush();
    },
    announce: (id) => {
      placed.push(id);
      queueFlush();
    },
    retract: (id) => {
      unplaced.push(id);
      queueFlush();
    },
  };
  const fatal = (e: unknown) => {
    const err = e instanceof Error ? e : new Error(String(e));
    port.postMessage({ t: 'fatal', message: err.message, stack: err.stack } satisfies FromWorker);
    process.exit(1);
  };
  Promise.resolve()
    .then(() => setup(ctx))
    .then((s) => {
      port.on('message', (m: ToWorker) => {
        if (m.t === 'batch') {
          const n = m.normals;
          for (let i = 0; i < n.length; i += 2) {
            const id = n[i] as number;
            const msg = n[i + 1] as M;
            if (!s.poller.send(id, msg)) s.onUnknown?.(id, msg);
          }
          for (const c of m.controls) s.poller.sendControl(c as CM);
        } else if (m.t === 'stop') {
          s.poller
            .whenIdle()
            .then(() => s.poller.stop())
            .then(() => s.onStop?.())
            .then(() => {
              flush();
              port.postMessage({ t: 'stopped' } satisfies FromWorker);
              port.close();
            })
            .catch(fatal);
        }
      });
      port.postMessage({ t: 'ready' } satisfies FromWorker);
    })
    .catch(fatal);
  process.on('uncaughtException', fatal);
}
