/**
 * Unique ids for stores, regions and peers (PD `pkg/id/id.go`). Ids are handed out from a block
 * whose end is persisted *before* any id of it is used, in steps of {@link ID_STEP}; after a
 * restart allocation resumes above the persisted end, so no id is ever handed out twice (a crash
 * wastes at most one step of ids).
 *
 * Allocation is serialized: concurrent calls queue on one promise chain, so blocks never overlap.
 */
import { PdError, PdErrorCodes } from '../errors.js';
import type { MetaStorage } from '../storage/meta-storage.js';

/** How far ahead the persisted end moves (PD: 1000). */
export const ID_STEP = 1000;

/** Largest id (JS safe integers; far beyond what a cluster uses). */
const MAX_ID = Number.MAX_SAFE_INTEGER;

export class IdAllocator {
  private base = 0;
  private end = 0;
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(private readonly storage: MetaStorage) {}

  /** Loads the persisted end: the first id handed out after this is above it. */
  static async open(storage: MetaStorage): Promise<IdAllocator> {
    const a = new IdAllocator(storage);
    a.base = a.end = await storage.loadAllocId();
    return a;
  }

  /** The last id handed out (or the persisted end right after a restart). */
  get current(): number {
    return this.base;
  }

  /**
   * A block of `count` (≥ 1) fresh ids; resolves with the LAST one (ids `last-count+1 … last`), as
   * pdpb AllocID answers.
   */
  alloc(count = 1): Promise<number> {
    if (!Number.isSafeInteger(count) || count < 1 || count > 1_000_000) {
      return Promise.reject(new PdError(PdErrorCodes.INVALID_VALUE, `id count must be in 1..1000000, got ${count}`, { details: { count } }));
    }
    const run = this.chain.then(() => this.allocNow(count));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async allocNow(count: number): Promise<number> {
    if (this.base + count > this.end) {
      const newEnd = this.base + count + ID_STEP;
      if (newEnd > MAX_ID) throw new PdError(PdErrorCodes.INVALID_VALUE, 'id space exhausted');
      try {
        await this.storage.saveAllocId(newEnd);
      } catch (cause) {
        throw new PdError(PdErrorCodes.PERSIST, 'cannot persist the id allocator bound', { cause });
      }
      this.end = newEnd;
    }
    this.base += count;
    return this.base;
  }
}
