/**
 * The worker-thread executor, main-thread side. It starts `size` worker threads that each run
 * one `Poller` (see `thread-worker.ts`), keeps the placement of FSM ids on workers (a region's
 * FSM stays on one worker: "same region, same thread"), and delivers messages to the owning
 * worker in batches: everything sent during one macrotask to one worker leaves in a single
 * `postMessage`. Workers sleep in their event loop when idle: no busy polling.
 */
import type { Worker } from 'node:worker_threads';
import { CommonCodes, MrkvError, startWorker } from '@mrkv/common';
import type { BatchWorkerData, FromWorker, ToWorker } from './thread-protocol.js';

export interface ThreadBatchSystemOptions {
  /** A name for logs and errors, e.g. 'raft' or 'apply'. */
  readonly name: string;
  /** The worker entry module (`.js` URL next to the caller; its `.ts` sibling runs from sources). */
  readonly entry: URL;
  /** The caller's `import.meta.url` (decides between sources and compiled output). */
  readonly callerUrl: string;
  /** Number of worker threads. */
  readonly size: number;
  /** Per-worker data and transferables (e.g. MessagePorts to other systems). */
  readonly workerData?: (index: number) => { data: unknown; transferList?: readonly unknown[] };
  /** Messages workers send up with `ctx.postUp`. */
  readonly onMessage: (worker: number, msg: unknown) => void;
  /** A worker failed (uncaught error or unexpected exit). */
  readonly onFatal: (worker: number, err: Error) => void;
}

interface WorkerState {
  readonly worker: Worker;
  normals: unknown[];
  controls: unknown[];
  flushQueued: boolean;
  load: number;
  exited: boolean;
}

export class ThreadBatchSystem {
  private readonly workers: WorkerState[] = [];
  private readonly placementMap = new Map<number, number>();
  private started = false;
  private stopping = false;

  constructor(private readonly opts: ThreadBatchSystemOptions) {
    if (!Number.isInteger(opts.size) || opts.size < 1) {
      throw new MrkvError(CommonCodes.INVALID_CONFIG, `${opts.name} pool size must be a positive integer, got ${opts.size}`);
    }
  }

  get size(): number {
    return this.opts.size;
  }

  /** Starts the workers and resolves when every one has reported ready. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const readies: Promise<void>[] = [];
    for (let index = 0; index < this.opts.size; index++) {
      const wd = this.opts.workerData?.(index) ?? { data: undefined };
      const workerData: BatchWorkerData = { system: this.opts.name, index, data: wd.data };
      const worker = startWorker(this.opts.entry, this.opts.callerUrl, {
        workerData,
        transferList: (wd.transferList ?? []) as never,
        name: `${this.opts.name}-${index}`,
      });
      const state: WorkerState = { worker, normals: [], controls: [], flushQueued: false, load: 0, exited: false };
      this.workers.push(state);
      readies.push(
        new Promise<void>((resolve, reject) => {
          const onEarlyExit = (code: number) =>
            reject(new MrkvError(CommonCodes.INTERNAL, `${this.opts.name}-${index} exited with code ${code} before it was ready`));
          worker.once('exit', onEarlyExit);
          worker.on('message', (m: FromWorker) => {
            if (m.t === 'ready') {
              worker.off('exit', onEarlyExit);
              resolve();
            } else if (m.t === 'fatal') {
              const err = new MrkvError(CommonCodes.INTERNAL, `${this.opts.name}-${index}: ${m.message}`, {
                details: { stack: m.stack },
              });
              reject(err);
              this.opts.onFatal(index, err);
            } else {
              this.onWorkerMessage(index, m);
            }
          });
        }),
      );
      worker.on('error', (err) => this.opts.onFatal(index, err));
      worker.on('exit', (code) => {
        state.exited = true;
        if (!this.stopping) {
          this.opts.onFatal(index, new MrkvError(CommonCodes.INTERNAL, `${this.opts.name}-${index} exited with code ${code}`));
        }
      });
    }
    await Promise.all(readies);
  }

  /** The worker FSM `id` lives on, if known. */
  placement(id: number): number | undefined {
    return this.placementMap.get(id);
  }

  /** Records that FSM `id` lives on `worker` (for FSMs created on the main thread's orders). */
  place(id: number, worker: number): void {
    const old = this.placementMap.get(id);
    if (old !== undefined) this.workers[old]!.load--;
    this.placementMap.set(id, worker);
    this.workers[worker]!.load++;
  }

  unplace(id: number): void {
    const old = this.placementMap.get(id);
    if (old === undefined) return;
    this.placementMap.delete(id);
    this.workers[old]!.load--;
  }

  /** The worker with the fewest FSMs (where a new FSM should go). */
  leastLoaded(): number {
    let best = 0;
    for (let i = 1; i < this.workers.length; i++) if (this.workers[i]!.load < this.workers[best]!.load) best = i;
    return best;
  }

  /** Sends `msg` to FSM `id` on its worker. Returns false if `id` is not placed. */
  send(id: number, msg: unknown): boolean {
    const w = this.placementMap.get(id);
    if (w === undefined) return false;
    this.sendTo(w, id, msg);
    return true;
  }

  /** Sends `msg` to FSM `id` on a given worker (the worker decides what to do if it lacks the FSM). */
  sendTo(worker: number, id: number, msg: unknown): void {
    const st = this.workers[worker]!;
    st.normals.push(id, msg);
    this.queueFlush(st);
  }

  /** Sends `msg` to a worker's control FSM. */
  sendControl(worker: number, msg: unknown): void {
    const st = this.workers[worker]!;
    st.controls.push(msg);
    this.queueFlush(st);
  }

  /** Sends `msg` to every worker's control FSM. */
  broadcastControl(msg: unknown): void {
    for (let i = 0; i < this.workers.length; i++) this.sendControl(i, msg);
  }

  /** Asks every worker to stop (after its current round) and waits for the threads to exit. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    await Promise.all(
      this.workers.map(async (st) => {
        if (st.exited) return;
        this.flush(st);
        const exited = new Promise<void>((resolve) => st.worker.once('exit', () => resolve()));
        st.worker.postMessage({ t: 'stop' } satisfies ToWorker);
        const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 10_000).unref());
        if ((await Promise.race([exited, timeout])) === 'timeout') await st.worker.terminate();
      }),
    );
  }

  private onWorkerMessage(index: number, m: FromWorker): void {
    switch (m.t) {
      case 'up':
        for (const x of m.msgs) this.opts.onMessage(index, x);
        break;
      case 'placed':
        for (const id of m.ids) this.place(id, index);
        break;
      case 'unplaced':
        for (const id of m.ids) if (this.placementMap.get(id) === index) this.unplace(id);
        break;
      case 'stopped':
      case 'ready':
      case 'fatal':
        break;
    }
  }

  private queueFlush(st: WorkerState): void {
    if (st.flushQueued) return;
    st.flushQueued = true;
    queueMicrotask(() => this.flush(st));
  }

  private flush(st: WorkerState): void {
    st.flushQueued = false;
    if (st.exited || (st.normals.length === 0 && st.controls.length === 0)) return;
    const msg: ToWorker = { t: 'batch', normals: st.normals, controls: st.controls };
    st.normals = [];
    st.controls = [];
    st.worker.postMessage(msg);
  }
}
