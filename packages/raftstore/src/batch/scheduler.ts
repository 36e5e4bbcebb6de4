/**
 * How a poller gets CPU. In production a round is queued with `setImmediate` on the thread that
 * owns the poller; under simulation every round is an event of the deterministic `SimScheduler`,
 * so the interleaving of all pollers of all stores is decided by a seed.
 */

export interface Scheduler {
  /** Runs `fn` soon, as a separate task after the current one. */
  schedule(fn: () => void): void;
}

/** Production scheduler: one macrotask per call (`setImmediate`), so I/O callbacks interleave. */
export const immediateScheduler: Scheduler = {
  schedule: (fn) => {
    setImmediate(fn);
  },
};
