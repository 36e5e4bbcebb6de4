/**
 * The raft system's poll handler (TiKV `RaftPoller`): every peer with mail is handled
 * (peer-fsm.ts), their messages are flushed per store in `lightEnd`, and `end` writes the whole
 * round's entries and hard states in ONE raft-log batch with one fsync (group commit), then
 * mails each peer `persisted` so its votes and acks go out and its Ready is acknowledged.
 */
import type { PollHandler } from '../batch/poller.js';
import type { Peer } from '../peer/peer.js';
import { newRound, type StoreContext } from '../store/context.js';
import type { PeerMsg } from './msgs.js';
import { handlePeerMsgs } from './peer-fsm.js';

export class RaftPollHandler implements PollHandler<Peer, PeerMsg, null, never> {
  constructor(private readonly ctx: StoreContext) {}

  begin(): void {
    this.ctx.round = newRound();
    this.ctx.counters.raftRounds++;
  }

  handleControl(): void {}

  handleNormal(peer: Peer, msgs: PeerMsg[]): void {
    handlePeerMsgs(peer, this.ctx, msgs);
  }

  lightEnd(): void {
    const out = this.ctx.round.outbox;
    if (out.size === 0) return;
    for (const [storeId, msgs] of out) {
      this.ctx.counters.messagesSent += msgs.length;
      this.ctx.transport.send(storeId, msgs);
    }
    out.clear();
  }

  async end(): Promise<void> {
    const round = this.ctx.round;
    if (round.batch !== undefined && !round.batch.isEmpty()) {
      try {
        await this.ctx.raftEngine.write(round.batch, { sync: round.sync });
      } catch (err) {
        this.ctx.fatal(err);
        return;
      }
      this.ctx.counters.raftWrites++;
      if (round.sync) this.ctx.counters.raftSyncs++;
    }
    for (const p of round.persisted) this.ctx.sendPeer(p.regionId, { type: 'persisted', number: p.number, messages: p.messages });
    // Messages queued after lightEnd (none today) still leave with this round.
    this.lightEnd();
  }
}
