/**
 * A `RaftMessageSink` that records what arrives, for transport tests: raft messages (as the bytes
 * received) and snapshots (head plus the concatenated data). Snapshot acceptance is a policy:
 * accept, refuse with a typed error, or hold until released. `waitFor` resolves when a condition
 * on the recording holds (no fixed sleeps in tests).
 */
import { CommonCodes, MrkvError } from '@mrkv/common';
import type { RaftMessageSink } from '@mrkv/raftstore';

export interface ReceivedSnapshot {
  head: Uint8Array;
  data: Buffer;
  chunks: number;
}

/** How the sink answers a snapshot: accept it, or throw the given error after reading `readChunks`. */
export type SnapshotPolicy = { kind: 'accept' } | { kind: 'reject'; error: MrkvError; readChunks?: number } | { kind: 'hold' };

export interface RecordingSinkOptions {
  /** Keep copies of the messages (default true); false only counts them (long-running processes). */
  keepMessages?: boolean;
}

export class RecordingSink implements RaftMessageSink {
  /** Every message received, in arrival order (empty with `keepMessages: false`). */
  readonly messages: Uint8Array[] = [];
  /** Messages received, kept or not. */
  received = 0;
  /** The sizes of the batches handed over (one per onRaftMessages call). */
  readonly batches: number[] = [];
  readonly snapshots: ReceivedSnapshot[] = [];
  policy: SnapshotPolicy = { kind: 'accept' };
  /** Snapshots currently inside onSnapshot. */
  active = 0;
  private readonly held: Array<() => void> = [];
  private readonly watchers = new Set<() => void>();
  private readonly keep: boolean;

  constructor(opts: RecordingSinkOptions = {}) {
    this.keep = opts.keepMessages ?? true;
  }

  onRaftMessages(msgs: readonly Uint8Array[]): void {
    this.received += msgs.length;
    if (this.keep) {
      for (const m of msgs) this.messages.push(Uint8Array.from(m));
      this.batches.push(msgs.length);
    }
    if (this.watchers.size > 0) this.notify();
  }

  async onSnapshot(head: Uint8Array, chunks: AsyncIterable<Uint8Array>): Promise<void> {
    this.active++;
    this.notify();
    try {
      const policy = this.policy;
      const parts: Uint8Array[] = [];
      if (policy.kind === 'reject') {
        const limit = policy.readChunks ?? 0;
        if (limit > 0) {
          for await (const c of chunks) {
            parts.push(c);
            if (parts.length >= limit) break;
          }
        }
        throw policy.error;
      }
      if (policy.kind === 'hold') await new Promise<void>((resolve) => this.held.push(resolve));
      for await (const c of chunks) parts.push(Uint8Array.from(c));
      this.snapshots.push({ head: Uint8Array.from(head), data: Buffer.concat(parts), chunks: parts.length });
    } finally {
      this.active--;
      this.notify();
    }
  }

  /** Lets every held snapshot continue. */
  releaseHeld(): void {
    for (const r of this.held.splice(0)) r();
  }

  /** Resolves once `cond()` holds (checked after every delivery), or rejects after `timeoutMs`. */
  waitFor(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!cond()) return;
        this.watchers.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.watchers.delete(check);
        reject(new MrkvError(CommonCodes.TIMEOUT, `RecordingSink.waitFor: condition not met within ${timeoutMs} ms (${this.messages.length} messages)`));
      }, timeoutMs);
      this.watchers.add(check);
    });
  }

  private notify(): void {
    for (const w of [...this.watchers]) w();
  }
}
