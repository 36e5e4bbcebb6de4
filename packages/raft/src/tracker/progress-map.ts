/**
 * Progress by node id. Groups have a handful of members, so this is two parallel arrays (sorted
 * ids, their Progress) scanned linearly: smaller than a Map, allocation-free to iterate (callers
 * loop over `ids`/`prs` by position), and always in id order, which keeps message order and
 * traces deterministic.
 */
import type { AckedIndexer } from '../quorum/majority.js';
import type { Progress } from './progress.js';

export class ProgressMap implements AckedIndexer {
  /** Sorted member ids. Read-only for callers. */
  readonly ids: number[] = [];
  /** `prs[i]` is the Progress of `ids[i]`. Read-only for callers. */
  readonly prs: Progress[] = [];

  get size(): number {
    return this.ids.length;
  }

  /** The Progress of `id`, if tracked. */
  get(id: number): Progress | undefined {
    const ids = this.ids;
    for (let i = 0; i < ids.length; i++) if (ids[i] === id) return this.prs[i];
    return undefined;
  }

  has(id: number): boolean {
    return this.ids.includes(id);
  }

  /** Adds or replaces the Progress of `id`. */
  set(id: number, pr: Progress): void {
    const ids = this.ids;
    let i = 0;
    while (i < ids.length && ids[i]! < id) i++;
    if (ids[i] === id) {
      this.prs[i] = pr;
      return;
    }
    ids.splice(i, 0, id);
    this.prs.splice(i, 0, pr);
  }

  delete(id: number): void {
    const i = this.ids.indexOf(id);
    if (i < 0) return;
    this.ids.splice(i, 1);
    this.prs.splice(i, 1);
  }

  /** The match index of `id` (quorum's AckedIndexer). */
  ackedIndex(id: number): number | undefined {
    const pr = this.get(id);
    return pr === undefined ? undefined : pr.match;
  }

  /** A deep copy (every Progress cloned). */
  clone(): ProgressMap {
    const m = new ProgressMap();
    for (let i = 0; i < this.ids.length; i++) {
      m.ids.push(this.ids[i]!);
      m.prs.push(this.prs[i]!.clone());
    }
    return m;
  }
}
