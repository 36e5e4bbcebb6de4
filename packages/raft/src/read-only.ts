/**
 * Pending ReadIndex requests in safe mode (etcd `read_only.go`, Raft thesis §6.4). The leader
 * records its commit index when a request arrives, broadcasts a heartbeat carrying the request
 * context, and answers once a quorum acknowledged that heartbeat: at that moment it knows it
 * was still the leader when the request arrived, so the recorded index is safe to read at.
 *
 * Requests are answered in arrival order; a quorum ack for a later request also answers all
 * earlier ones (their heartbeats were sent before it).
 */
import type { Message } from './types.js';

/** One pending request. */
export interface ReadIndexStatus {
  /** The MsgReadIndex (from a follower, or local with from = 0 / own id). */
  req: Message;
  /** The leader's commit index when the request arrived. */
  index: number;
  /** Who acknowledged the heartbeat carrying this context (the leader acks itself). */
  acks: Map<number, boolean>;
}

/** Request contexts are bytes; keys are their latin1 strings. */
function ctxKey(ctx: Uint8Array): string {
  let s = '';
  for (let i = 0; i < ctx.length; i++) s += String.fromCharCode(ctx[i]!);
  return s;
}

export class ReadOnly {
  private readonly pending = new Map<string, ReadIndexStatus>();
  private readonly queue: string[] = [];

  /** Records a request arriving at commit index `index`. Duplicate contexts are ignored. */
  addRequest(index: number, req: Message, selfId: number): void {
    const key = ctxKey(req.entries[0]!.data);
    if (this.pending.has(key)) return;
    this.pending.set(key, { req, index, acks: new Map([[selfId, true]]) });
    this.queue.push(key);
  }

  /** Records `id`'s heartbeat ack for `ctx`; returns the acks so far, or undefined if unknown. */
  recvAck(id: number, ctx: Uint8Array): Map<number, boolean> | undefined {
    const rs = this.pending.get(ctxKey(ctx));
    if (rs === undefined) return undefined;
    rs.acks.set(id, true);
    return rs.acks;
  }

  /** Removes and returns every request up to and including the one with context `ctx`. */
  advance(ctx: Uint8Array): ReadIndexStatus[] {
    const key = ctxKey(ctx);
    const at = this.queue.indexOf(key);
    if (at < 0) return [];
    const done = this.queue.splice(0, at + 1);
    const out: ReadIndexStatus[] = [];
    for (const k of done) {
      const rs = this.pending.get(k);
      if (rs !== undefined) {
        out.push(rs);
        this.pending.delete(k);
      }
    }
    return out;
  }

  /** The context of the newest pending request (heartbeats carry it), if any. */
  lastPendingRequestCtx(): Uint8Array | undefined {
    const k = this.queue[this.queue.length - 1];
    return k === undefined ? undefined : this.pending.get(k)!.req.entries[0]!.data;
  }

  /** Number of pending requests. */
  get size(): number {
    return this.queue.length;
  }
}
