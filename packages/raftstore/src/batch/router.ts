/**
 * Routers: how an FSM's mail finds the poller that owns it.
 *
 * `FsmRouter` is what FSM code uses to mail another FSM, whatever the executor. `LocalRouter`
 * is the single-thread implementation (deterministic executor: several pollers on one thread,
 * one SimScheduler). The worker-thread executor's router is `WorkerRouter`: local FSMs get mail
 * directly, others go through the main thread, which knows the placement.
 */
import type { Poller } from './poller.js';

/** Mail to FSMs by id, independent of threads. */
export interface FsmRouter<M> {
  /** Delivers `msg` to FSM `id`. Returns false if the router knows the FSM does not exist. */
  send(id: number, msg: M): boolean;
}

/** Several pollers on one thread with a placement map. */
export class LocalRouter<M, CM> implements FsmRouter<M> {
  private readonly placementMap = new Map<number, number>();

  constructor(readonly pollers: ReadonlyArray<Poller<unknown, M, unknown, CM>>) {}

  place(id: number, worker: number): void {
    this.placementMap.set(id, worker);
  }

  unplace(id: number): void {
    this.placementMap.delete(id);
  }

  placement(id: number): number | undefined {
    return this.placementMap.get(id);
  }

  send(id: number, msg: M): boolean {
    const w = this.placementMap.get(id);
    if (w === undefined) return false;
    return this.pollers[w]!.send(id, msg);
  }

  sendControl(worker: number, msg: CM): void {
    this.pollers[worker]!.sendControl(msg);
  }

  /** The poller with the fewest FSMs. */
  leastLoaded(): number {
    let best = 0;
    for (let i = 1; i < this.pollers.length; i++) if (this.pollers[i]!.size < this.pollers[best]!.size) best = i;
    return best;
  }

  /** Resolves when every poller is idle. */
  async whenIdle(): Promise<void> {
    await Promise.all(this.pollers.map((p) => p.whenIdle()));
  }
}

/**
 * The router inside a worker thread: FSMs on this worker get mail directly; anything else goes
 * to the main thread as `{ t: 'route', id, msg }` via `postUp`, and main forwards it.
 */
export class WorkerRouter<M> implements FsmRouter<M> {
  constructor(
    /** Delivers to an FSM on this worker; false if it is not here. */
    private readonly localSend: (id: number, msg: M) => boolean,
    private readonly postUp: (msg: unknown) => void,
  ) {}

  send(id: number, msg: M): boolean {
    if (this.localSend(id, msg)) return true;
    this.postUp({ t: 'route', id, msg } satisfies RouteUp);
    return true;
  }
}

/** The upstream envelope `WorkerRouter` uses for mail to FSMs on other workers. */
export interface RouteUp {
  readonly t: 'route';
  readonly id: number;
  readonly msg: unknown;
}

export function isRouteUp(x: unknown): x is RouteUp {
  return typeof x === 'object' && x !== null && (x as { t?: unknown }).t === 'route';
}
