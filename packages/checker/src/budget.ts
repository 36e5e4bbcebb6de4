/**
 * The search budget. Linearizability checking is NP-complete (Gibbons & Korach, 1997), so every
 * search runs under a wall-clock deadline and/or a step cap; running out yields `unknown`, and
 * the caller decides what that means. One budget is shared by all partitions of a check.
 */

/** Limits of one check. Both are optional; with neither the search runs to completion. */
export interface BudgetOptions {
  /** Wall-clock limit in milliseconds for the whole check. */
  readonly timeoutMs?: number;
  /** Limit on search steps (entries visited) for the whole check. */
  readonly maxSteps?: number;
  /** Monotonic milliseconds; defaults to `performance.now`. Injected for deterministic tests. */
  readonly now?: () => number;
}

/** How many steps pass between two clock reads. */
export const STEPS_PER_CLOCK_READ = 4096;

export class Budget {
  private readonly deadline: number;
  private readonly maxSteps: number;
  private readonly now: () => number;
  /** Steps spent so far by every search sharing this budget. */
  steps = 0;
  /** Set once the budget has run out; sticky. */
  exhausted = false;

  constructor(options: BudgetOptions = {}) {
    this.now = options.now ?? (() => performance.now());
    const timeout = options.timeoutMs;
    this.deadline = timeout === undefined ? Number.POSITIVE_INFINITY : this.now() + Math.max(0, timeout);
    this.maxSteps = options.maxSteps ?? Number.POSITIVE_INFINITY;
  }

  /** Records `n` more steps; false once the budget is exhausted. */
  spend(n: number): boolean {
    this.steps += n;
    if (this.steps > this.maxSteps || this.now() > this.deadline) this.exhausted = true;
    return !this.exhausted;
  }
}
