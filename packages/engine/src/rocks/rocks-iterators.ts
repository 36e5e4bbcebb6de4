/**
 * Reading RocksDB in chunks. A native iterator returns a flat array per call, reversed for
 * `pop()`: `[valueN, keyN, …, value1, key1]`; the first call after creating or seeking it returns
 * one pair, later calls up to `highWaterMark` bytes or 1000 pairs.
 */
import type { KvPair } from '../traits/index.js';
import { NativeDb, type NativeIterator } from './native.js';

/** Bytes a native iterator reads per call (the binding's default is 16 KiB). */
export const ITERATOR_HIGH_WATER_MARK = 64 * 1024;

/** Appends the pairs of a native chunk to `out`, in iteration order. */
export function pairsOf(array: Buffer[], out: KvPair[]): void {
  for (let i = array.length - 1; i > 0; i -= 2) out.push({ key: array[i]!, value: array[i - 1]! });
}

/** One chunk of pairs, and whether the iterator is exhausted. */
export async function nextChunk(it: NativeIterator): Promise<{ pairs: KvPair[]; finished: boolean }> {
  const { array, finished } = await NativeDb.iteratorNext(it);
  const pairs: KvPair[] = [];
  pairsOf(array, pairs);
  return { pairs, finished: finished || pairs.length === 0 };
}
