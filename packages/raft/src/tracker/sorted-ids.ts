/**
 * Sets of node ids as sorted, duplicate-free arrays. Membership sets are tiny (a handful of ids),
 * so arrays are smaller and faster than `Set`s, and they print in a stable order.
 */

/** A shared, frozen empty id list: use it for empty sets so idle groups allocate nothing. */
export const EMPTY_IDS: readonly number[] = Object.freeze([]);

/** True when sorted `ids` contains `id`. */
export function hasId(ids: readonly number[], id: number): boolean {
  for (let i = 0; i < ids.length; i++) {
    const v = ids[i]!;
    if (v === id) return true;
    if (v > id) return false;
  }
  return false;
}

/** A new sorted array with `id` added (the same contents if already present). */
export function withId(ids: readonly number[], id: number): readonly number[] {
  if (hasId(ids, id)) return ids;
  const out = ids.slice();
  let i = out.length;
  out.push(id);
  while (i > 0 && out[i - 1]! > id) {
    out[i] = out[i - 1]!;
    i--;
  }
  out[i] = id;
  return out;
}

/** A new sorted array without `id` (shared EMPTY_IDS when it becomes empty). */
export function withoutId(ids: readonly number[], id: number): readonly number[] {
  if (!hasId(ids, id)) return ids;
  if (ids.length === 1) return EMPTY_IDS;
  return ids.filter((v) => v !== id);
}

/** Sorted, de-duplicated copy of any id list. */
export function sortedIds(ids: Iterable<number>): readonly number[] {
  const out = [...new Set(ids)].sort((a, b) => a - b);
  return out.length === 0 ? EMPTY_IDS : out;
}

/** How many ids are in exactly one of the two sets. */
export function symmetricDifference(a: readonly number[], b: readonly number[]): number {
  let n = 0;
  for (const id of a) if (!hasId(b, id)) n++;
  for (const id of b) if (!hasId(a, id)) n++;
  return n;
}
