/**
 * A settable {@link DiskSpace} for tests and the simulator: a store's disk "fills" when a test
 * sets a low free-space figure, without writing anything (the store notices on its next tick).
 */
import type { DiskSpace, DiskSpaceReading } from '../operation/disk-usage.js';

const GiB = 1024 * 1024 * 1024;

export class FakeDiskSpace implements DiskSpace {
  private capacity: number;
  private available: number;

  /** Defaults: 100 GiB capacity, all of it free. */
  constructor(capacity = 100 * GiB, available = capacity) {
    this.capacity = capacity;
    this.available = available;
  }

  read(): DiskSpaceReading {
    return { capacity: this.capacity, available: this.available };
  }

  /** Sets the free bytes (clamped to [0, capacity]). */
  setAvailable(bytes: number): void {
    this.available = Math.max(0, Math.min(this.capacity, bytes));
  }

  /** Sets the capacity (and clamps the free bytes to it). */
  setCapacity(bytes: number): void {
    this.capacity = Math.max(0, bytes);
    this.available = Math.min(this.available, this.capacity);
  }
}
