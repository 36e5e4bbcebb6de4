/**
 * The benchmark's key space and values.
 *
 * Key `i` (0 ≤ i < 2^32) is `k` + 8 hex digits of `fmix32(i)` + 7 decimal digits of `i mod 10^7`:
 * 16 bytes, like the perf anchors' keys. `fmix32` (MurmurHash3's finalizer) is a bijection on 32-bit
 * integers, so keys are distinct, and consecutive indexes land far apart: whatever the key count,
 * keys spread evenly over `k00000000…`–`kffffffff…`. The playground's `--regions K` pre-splits on
 * that same hex prefix (`evenSplitKeys` in @mrkv/playground), so every region gets its share.
 *
 * Values are slices of a pool of random bytes: incompressible (perf-anchors §2.2: compressible test
 * data makes RocksDB look faster than it is) and free to produce per operation.
 */
import { SeededRng } from '@mrkv/common';

/** Largest number of distinct keys the key space holds. */
export const MAX_KEYS = 2 ** 32;

/** Length in bytes of every benchmark key. */
export const KEY_LENGTH = 16;

/** MurmurHash3's 32-bit finalizer: a bijection on unsigned 32-bit integers. */
export function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** The text of key `i`. */
export function benchKeyString(i: number): string {
  return 'k' + fmix32(i).toString(16).padStart(8, '0') + String(i % 10_000_000).padStart(7, '0');
}

/** Key `i` as bytes (ASCII). */
export function benchKey(i: number): Buffer {
  return Buffer.from(benchKeyString(i), 'latin1');
}

/** Hands out values of one size as views into a pool of random bytes. */
export class ValuePool {
  private readonly pool: Buffer;
  private readonly size: number;
  private readonly rng: SeededRng;

  /** `size` bytes per value; the pool holds at least 1 MiB (or 16 values) of random bytes from `seed`. */
  constructor(size: number, seed: number) {
    this.size = size;
    this.rng = new SeededRng(seed);
    const bytes = Math.max(1 << 20, size * 16);
    this.pool = Buffer.allocUnsafe(bytes);
    for (let i = 0; i + 4 <= bytes; i += 4) this.pool.writeUInt32LE(this.rng.nextU32(), i);
  }

  /** A value: a view at a random offset (callers must not write to it). */
  next(): Buffer {
    const off = this.rng.nextInt(this.pool.length - this.size + 1);
    return this.pool.subarray(off, off + this.size);
  }
}
