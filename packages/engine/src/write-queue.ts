/**
 * Group commit: writes submitted while one is in flight wait, and are then written together, in
 * submission order, with one sync if any of them asked for one. This is what lets many callers
 * (or one caller with overlapping writes) share an fsync, and it fixes the order of writes: the
 * native pool could otherwise run two overlapping batches in either order.
 */

/** One submitted write, settled by the flush function. */
export interface PendingWrite<T> {
  readonly item: T;
  readonly sync: boolean;
  resolve(): void;
  reject(e: unknown): void;
}

export class WriteQueue<T> {
  private pending: Array<PendingWrite<T>> = [];
  private running = false;
  private idleWaiters: Array<() => void> = [];

  /**
   * `flush` writes a group and settles each of its writes; if it throws, every write of the group
   * that it has not settled is rejected with that error.
   */
  constructor(private readonly flush: (group: Array<PendingWrite<T>>) => Promise<void>) {}

  /** True while a group is being written. */
  get busy(): boolean {
    return this.running;
  }

  submit(item: T, sync: boolean): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ item, sync, resolve, reject });
      if (!this.running) void this.loop();
    });
  }

  /** Resolves when no write is queued or in flight. */
  idle(): Promise<void> {
    if (!this.running && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async loop(): Promise<void> {
    this.running = true;
    while (this.pending.length > 0) {
      const group = this.pending;
      this.pending = [];
      try {
        await this.flush(group);
      } catch (e) {
        for (const p of group) p.reject(e);
      }
    }
    this.running = false;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
