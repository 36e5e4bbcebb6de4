/**
 * Slow fsync for simulated stores: wraps a store's engines so that every synced write waits a
 * configurable delay (on the simulator's virtual time) before it lands. Writes stay in order — a
 * write queued behind a slow one waits for it, as on a real disk with one WAL — and the delay can
 * change at any time (0 lets writes through directly once the queue is empty).
 */
import type { KvEngine, RaftLogEngine, WriteOptions } from '@mrkv/engine';

/** The delay source: ms to wait before a synced write of this store (0: none). */
export type SyncDelay = () => number;

/** Serializes delayed writes: a write never overtakes one queued before it. */
class WriteQueue {
  private tail: Promise<void> | undefined;

  constructor(
    private readonly delay: SyncDelay,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {}

  run(sync: boolean, write: () => Promise<void>): Promise<void> {
    const d = sync ? this.delay() : 0;
    if (d <= 0 && this.tail === undefined) return write();
    const prev = this.tail ?? Promise.resolve();
    const p = prev.then(async () => {
      if (d > 0) await this.sleep(d);
      await write();
    });
    const tail = p.then(
      () => undefined,
      () => undefined,
    );
    this.tail = tail;
    void tail.then(() => {
      if (this.tail === tail) this.tail = undefined;
    });
    return p;
  }
}

/** Returns `engine` with its `write` delayed by `queue` (every other member passes through). */
function wrap<E extends { write(batch: never, options?: WriteOptions): Promise<void> }>(engine: E, queue: WriteQueue): E {
  const write = (batch: never, options?: WriteOptions) => queue.run(options?.sync === true, () => engine.write(batch, options));
  // Methods are bound once per member (the engine is used on every event of a simulation), and
  // bound again only if the member itself changes.
  const bound = new Map<PropertyKey, { fn: unknown; bound: unknown }>();
  return new Proxy(engine, {
    get(target, prop, receiver) {
      if (prop === 'write') return write;
      const v: unknown = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function') return v;
      const cached = bound.get(prop);
      if (cached !== undefined && cached.fn === v) return cached.bound;
      const b = (v as (...a: unknown[]) => unknown).bind(target);
      bound.set(prop, { fn: v, bound: b });
      return b;
    },
  });
}

/**
 * Wraps a store's kv and raft-log engines with slow synced writes. Each engine gets its own
 * queue (they are separate files on a real machine), both read the same delay source.
 */
export function withSlowSync(
  engines: { kv: KvEngine; raft: RaftLogEngine },
  delay: SyncDelay,
  sleep: (ms: number) => Promise<void>,
): { kv: KvEngine; raft: RaftLogEngine } {
  return { kv: wrap(engines.kv, new WriteQueue(delay, sleep)), raft: wrap(engines.raft, new WriteQueue(delay, sleep)) };
}
