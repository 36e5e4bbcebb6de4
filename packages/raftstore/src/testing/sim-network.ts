/**
 * A simulated network between in-process stores, with TiKV-style filters (`test_raftstore`
 * `Filter`s): partition, isolate, one-way drop, drop by message type or region, delay. Messages
 * are delivered asynchronously, each batch as one task, like a real transport.
 *
 * For the simulator a `shaper` decides per batch and link how many copies arrive and when: none
 * (loss), one after a delay (latency; different delays reorder batches), or several (duplicates).
 */
import type { RaftTransport } from '../store/api.js';
import { decodeStoreRaftMessage, type StoreRaftMessage } from '../wire/raft-message.js';

/** Decides per message: keep it (true) or drop it (false). */
export type MessageFilter = (from: number, to: number, msg: StoreRaftMessage) => boolean;

/**
 * Decides, for one batch that passed the filters, the delivery delays in ms of its copies:
 * `[]` drops it, `[d]` delivers it once after `d`, `[d1, d2]` delivers it twice.
 */
export type LinkShaper = (from: number, to: number) => readonly number[];

export interface NetworkEndpoint {
  onRaftMessages(msgs: readonly Uint8Array[]): void;
  onSnapshot(head: Uint8Array, chunks: AsyncIterable<Uint8Array>): Promise<void>;
}

export class SimNetwork {
  /**
   * @param defer runs a delivery after `ms` (default: real timers; the simulator passes its
   * virtual-time scheduler so deliveries are events of the seeded schedule).
   */
  constructor(private readonly defer?: (ms: number, fn: () => void) => void) {}

  private readonly endpoints = new Map<number, NetworkEndpoint>();
  /** Filters in the order added; `byAddress` ones look only at the link (no message decoding). */
  private filters: Array<{ readonly f: MessageFilter; readonly byAddress: boolean }> = [];
  /** Extra delivery delay in ms (0: next task). */
  delayMs = 0;
  /** Per-batch loss, latency and duplication (applied after the filters; undefined: `delayMs`, once). */
  shaper: LinkShaper | undefined;
  duplicated = 0;
  delivered = 0;
  dropped = 0;
  /** Flip one byte in the data of this many upcoming snapshots (corruption in transit). */
  corruptSnapshots = 0;
  /** Extra delay in ms of every snapshot's delivery (a big snapshot on a slow link). */
  snapshotDelayMs = 0;

  attach(storeId: number, ep: NetworkEndpoint): void {
    this.endpoints.set(storeId, ep);
  }

  detach(storeId: number): void {
    this.endpoints.delete(storeId);
  }

  /** Adds a filter; returns the function that removes it again. */
  addFilter(f: MessageFilter): () => void {
    return this.add({ f, byAddress: false });
  }

  private add(entry: { readonly f: MessageFilter; readonly byAddress: boolean }): () => void {
    this.filters.push(entry);
    return () => {
      this.filters = this.filters.filter((x) => x !== entry);
    };
  }

  /** Adds a filter of the link only (`from`, `to`): messages need no decoding for it. */
  private addLinkFilter(f: (from: number, to: number) => boolean): () => void {
    return this.add({ f, byAddress: true });
  }

  clearFilters(): void {
    this.filters = [];
  }

  /** Only stores in the same group talk to each other. Returns the function that heals it. */
  partition(...groups: number[][]): () => void {
    const groupOf = new Map<number, number>();
    groups.forEach((g, i) => g.forEach((s) => groupOf.set(s, i)));
    return this.addLinkFilter((from, to) => groupOf.get(from) === groupOf.get(to));
  }

  /** `storeId` neither sends nor receives. Returns the function that heals it. */
  isolate(storeId: number): () => void {
    return this.addLinkFilter((from, to) => from !== storeId && to !== storeId);
  }

  /** Drops everything `from` sends to `to` (one direction only). Returns the function that heals it. */
  dropOneWay(from: number, to: number): () => void {
    return this.addLinkFilter((f, t) => !(f === from && t === to));
  }

  transport(storeId: number): RaftTransport {
    return {
      send: (to, msgs) => this.send(storeId, to, msgs),
      sendSnapshot: (to, head, chunks) => this.sendSnapshot(storeId, to, head, chunks),
    };
  }

  private pass(from: number, to: number, bytes: Uint8Array): boolean {
    // Filters run in the order added; the message is decoded only for the first filter that reads it.
    let m: StoreRaftMessage | undefined;
    for (const { f, byAddress } of this.filters) {
      if (byAddress) {
        if (!(f as (from: number, to: number) => boolean)(from, to)) return false;
        continue;
      }
      m ??= decodeStoreRaftMessage(bytes);
      if (!f(from, to, m)) return false;
    }
    return true;
  }

  private later(fn: () => void, delayMs = this.delayMs): void {
    if (this.defer !== undefined) this.defer(delayMs, fn);
    else if (delayMs > 0) setTimeout(fn, delayMs).unref?.();
    else setImmediate(fn);
  }

  /** Delivery delays of one batch on a link (see `LinkShaper`). */
  private delays(from: number, to: number): readonly number[] {
    if (this.shaper === undefined) return [this.delayMs];
    const d = this.shaper(from, to);
    if (d.length > 1) this.duplicated += d.length - 1;
    return d;
  }

  private send(from: number, to: number, msgs: readonly Uint8Array[]): void {
    const kept = msgs.filter((m) => this.pass(from, to, m));
    this.dropped += msgs.length - kept.length;
    if (kept.length === 0) return;
    const delays = this.delays(from, to);
    if (delays.length === 0) this.dropped += kept.length;
    for (const d of delays) {
      this.later(() => {
        const ep = this.endpoints.get(to);
        if (ep === undefined) {
          this.dropped += kept.length;
          return;
        }
        this.delivered += kept.length;
        ep.onRaftMessages(kept);
      }, d);
    }
  }

  private async sendSnapshot(from: number, to: number, head: Uint8Array, chunks: AsyncIterable<Uint8Array>): Promise<void> {
    if (!this.pass(from, to, head)) throw new Error(`snapshot from ${from} to ${to} dropped by a filter`);
    const delays = this.delays(from, to);
    if (delays.length === 0) throw new Error(`snapshot from ${from} to ${to} lost on the link`);
    const parts: Uint8Array[] = [];
    for await (const c of chunks) parts.push(Uint8Array.from(c));
    if (this.corruptSnapshots > 0 && parts.length > 0 && parts[0]!.length > 0) {
      this.corruptSnapshots--;
      const p = parts[0]!;
      const i = p.length >> 1;
      p[i] = (p[i] ?? 0) ^ 0x5a;
    }
    await new Promise<void>((r) => this.later(r, delays[0]! + this.snapshotDelayMs));
    const ep = this.endpoints.get(to);
    if (ep === undefined) throw new Error(`store ${to} is down`);
    async function* again(): AsyncIterable<Uint8Array> {
      for (const p of parts) yield p;
    }
    await ep.onSnapshot(head, again());
  }
}
