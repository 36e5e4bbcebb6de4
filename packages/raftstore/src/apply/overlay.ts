/**
 * The writes of the current apply batch, readable before they are written: CompareAndSwap reads
 * its key at apply time and must see earlier commands of the same batch.
 */
import { compareBytes } from '@mrkv/common';

const k = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');

export class WriteOverlay {
  private seq = 0;
  private readonly puts = new Map<string, { seq: number; value: Uint8Array | null }>();
  private readonly ranges: Array<{ seq: number; start: Uint8Array; end: Uint8Array }> = [];

  put(key: Uint8Array, value: Uint8Array): void {
    this.puts.set(k(key), { seq: ++this.seq, value });
  }

  delete(key: Uint8Array): void {
    this.puts.set(k(key), { seq: ++this.seq, value: null });
  }

  deleteRange(start: Uint8Array, end: Uint8Array): void {
    this.ranges.push({ seq: ++this.seq, start, end });
  }

  /** `undefined`: the batch has not touched the key; `null`: deleted in the batch. */
  get(key: Uint8Array): Uint8Array | null | undefined {
    const p = this.puts.get(k(key));
    let best = p?.seq ?? 0;
    let value: Uint8Array | null | undefined = p?.value;
    for (const r of this.ranges) {
      if (r.seq > best && compareBytes(key, r.start) >= 0 && compareBytes(key, r.end) < 0) {
        best = r.seq;
        value = null;
      }
    }
    return value;
  }

  clear(): void {
    this.puts.clear();
    this.ranges.length = 0;
  }
}
