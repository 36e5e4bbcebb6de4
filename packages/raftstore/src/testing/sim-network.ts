/**
 * A simulated network between in-process stores, with TiKV-style filters (`test_raftstore`
 * `Filter`s): partition, isolate, one-way drop, drop by message type or region, delay. Messages
 * are delivered asynchronously, each batch as one task, like a real transport.
 */
import type { RaftTransport } from '../store/api.js';
import { decodeStoreRaftMessage, type StoreRaftMessage } from '../wire/raft-message.js';

/** Decides per message: keep it (true) or drop it (false). */
export type MessageFilter = (from: number, to: number, msg: StoreRaftMessage) => boolean;

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
  private filters: MessageFilter[] = [];
  /** Extra delivery delay in ms (0: next task). */
  delayMs = 0;
  delivered = 0;
  dropped = 0;

  attach(storeId: number, ep: NetworkEndpoint): void {
    this.endpoints.set(storeId, ep);
  }

  detach(storeId: number): void {
    this.endpoints.delete(storeId);
  }

  addFilter(f: MessageFilter): void {
    this.filters.push(f);
  }

  clearFilters(): void {
    this.filters = [];
  }

  /** Only stores in the same group talk to each other. */
  partition(...groups: number[][]): void {
    const groupOf = new Map<number, number>();
    groups.forEach((g, i) => g.forEach((s) => groupOf.set(s, i)));
    this.addFilter((from, to) => groupOf.get(from) === groupOf.get(to));
  }

  /** `storeId` neither sends nor receives. */
  isolate(storeId: number): void {
    this.addFilter((from, to) => from !== storeId && to !== storeId);
  }

  /** Drops everything `from` sends to `to` (one direction only). */
  dropOneWay(from: number, to: number): void {
    this.addFilter((f, t) => !(f === from && t === to));
  }

  transport(storeId: number): RaftTransport {
    return {
      send: (to, msgs) => this.send(storeId, to, msgs),
      sendSnapshot: (to, head, chunks) => this.sendSnapshot(storeId, to, head, chunks),
    };
  }

  private pass(from: number, to: number, bytes: Uint8Array): boolean {
    if (this.filters.length === 0) return true;
    const m = decodeStoreRaftMessage(bytes);
    return this.filters.every((f) => f(from, to, m));
  }

  private later(fn: () => void): void {
    if (this.defer !== undefined) this.defer(this.delayMs, fn);
    else if (this.delayMs > 0) setTimeout(fn, this.delayMs).unref?.();
    else setImmediate(fn);
  }

  private send(from: number, to: number, msgs: readonly Uint8Array[]): void {
    const kept = msgs.filter((m) => this.pass(from, to, m));
    this.dropped += msgs.length - kept.length;
    if (kept.length === 0) return;
    this.later(() => {
      const ep = this.endpoints.get(to);
      if (ep === undefined) {
        this.dropped += kept.length;
        return;
      }
      this.delivered += kept.length;
      ep.onRaftMessages(kept);
    });
  }

  private async sendSnapshot(from: number, to: number, head: Uint8Array, chunks: AsyncIterable<Uint8Array>): Promise<void> {
    if (!this.pass(from, to, head)) throw new Error(`snapshot from ${from} to ${to} dropped by a filter`);
    const parts: Uint8Array[] = [];
    for await (const c of chunks) parts.push(c);
    await new Promise<void>((r) => this.later(r));
    const ep = this.endpoints.get(to);
    if (ep === undefined) throw new Error(`store ${to} is down`);
    async function* again(): AsyncIterable<Uint8Array> {
      for (const p of parts) yield p;
    }
    await ep.onSnapshot(head, again());
  }
}
