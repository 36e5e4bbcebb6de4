/**
 * The lease table: per-region leader lease state in a SharedArrayBuffer, written by the raft
 * worker that owns the region and read by the main thread without waiting for that worker
 * (ARCHITECTURE §4, read path 1). Each slot is guarded by a seqlock: the writer makes the
 * sequence odd, writes, and makes it even; a reader retries until it sees the same even
 * sequence before and after reading.
 *
 * Slot layout (Float64Array view, 8 doubles per slot; the first double's bytes double as the
 * Int32 sequence word through the Int32Array view):
 *   [0] sequence (Int32 at int index slot*16)
 *   [1] region id        [2] term       [3] lease bound (monotonic ms; 0 = no valid lease)
 *   [4] flags (bit 0: applied an entry of the current term, bit 1: splitting or merging)
 *   [5] epoch version    [6] epoch conf_ver   [7] peer id
 */

const DOUBLES_PER_SLOT = 8;
const INTS_PER_SLOT = DOUBLES_PER_SLOT * 2;

export const LeaseFlags = {
  /** The leader has applied an entry of its own term (TiKV `applied_term == term`). */
  AppliedCurrentTerm: 1,
  /** A split or merge is committed but not yet applied: no local reads (tikv#3116). */
  Busy: 2,
} as const;

/** One consistent read of a slot. */
export interface LeaseView {
  regionId: number;
  term: number;
  bound: number;
  flags: number;
  version: number;
  confVer: number;
  peerId: number;
}

/** The data a writer publishes. */
export type LeaseUpdate = LeaseView;

export class LeaseTable {
  readonly buffer: SharedArrayBuffer;
  private readonly f64: Float64Array;
  private readonly i32: Int32Array;
  readonly capacity: number;

  /** Creates a table with `capacity` slots, or attaches to an existing buffer (another thread). */
  constructor(capacityOrBuffer: number | SharedArrayBuffer) {
    this.buffer =
      typeof capacityOrBuffer === 'number'
        ? new SharedArrayBuffer(capacityOrBuffer * DOUBLES_PER_SLOT * 8)
        : capacityOrBuffer;
    this.capacity = this.buffer.byteLength / (DOUBLES_PER_SLOT * 8);
    this.f64 = new Float64Array(this.buffer);
    this.i32 = new Int32Array(this.buffer);
  }

  /** Writes a slot (single writer per slot). */
  write(slot: number, u: LeaseUpdate): void {
    this.check(slot);
    const si = slot * INTS_PER_SLOT;
    const base = slot * DOUBLES_PER_SLOT;
    Atomics.add(this.i32, si, 1); // odd: write in progress
    this.f64[base + 1] = u.regionId;
    this.f64[base + 2] = u.term;
    this.f64[base + 3] = u.bound;
    this.f64[base + 4] = u.flags;
    this.f64[base + 5] = u.version;
    this.f64[base + 6] = u.confVer;
    this.f64[base + 7] = u.peerId;
    Atomics.add(this.i32, si, 1); // even: stable
  }

  /** Clears a slot (region gone or no longer leader here). */
  clear(slot: number): void {
    this.write(slot, { regionId: 0, term: 0, bound: 0, flags: 0, version: 0, confVer: 0, peerId: 0 });
  }

  /** Reads a slot consistently into `out`. */
  read(slot: number, out: LeaseView): LeaseView {
    this.check(slot);
    const si = slot * INTS_PER_SLOT;
    const base = slot * DOUBLES_PER_SLOT;
    for (;;) {
      const s1 = Atomics.load(this.i32, si);
      if ((s1 & 1) === 0) {
        out.regionId = this.f64[base + 1]!;
        out.term = this.f64[base + 2]!;
        out.bound = this.f64[base + 3]!;
        out.flags = this.f64[base + 4]!;
        out.version = this.f64[base + 5]!;
        out.confVer = this.f64[base + 6]!;
        out.peerId = this.f64[base + 7]!;
        if (Atomics.load(this.i32, si) === s1) return out;
      }
    }
  }

  private check(slot: number): void {
    if (!(slot >= 0 && slot < this.capacity && Number.isInteger(slot))) {
      throw new RangeError(`lease table slot ${slot} out of range [0, ${this.capacity})`);
    }
  }
}

/** Hands out lease-table slots to regions (main thread only). */
export class LeaseSlots {
  private readonly byRegion = new Map<number, number>();
  private free: number[] = [];
  private next = 0;

  constructor(readonly capacity: number) {}

  /** The slot of `regionId`, allocating one if needed; undefined when the table is full. */
  acquire(regionId: number): number | undefined {
    const have = this.byRegion.get(regionId);
    if (have !== undefined) return have;
    const slot = this.free.pop() ?? (this.next < this.capacity ? this.next++ : undefined);
    if (slot === undefined) return undefined;
    this.byRegion.set(regionId, slot);
    return slot;
  }

  get(regionId: number): number | undefined {
    return this.byRegion.get(regionId);
  }

  release(regionId: number): number | undefined {
    const slot = this.byRegion.get(regionId);
    if (slot === undefined) return undefined;
    this.byRegion.delete(regionId);
    this.free.push(slot);
    return slot;
  }
}
