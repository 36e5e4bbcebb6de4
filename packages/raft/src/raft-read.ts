/**
 * ReadIndex (Raft thesis §6.4): a leader answers a read request with its commit index once it
 * knows it was still leader when the request arrived: in safe mode after a heartbeat round a
 * quorum acknowledged, in lease mode at once (trusting CheckQuorum, §6.4.1). A new leader holds
 * requests until it committed an entry of its own term, before which its commit index may lag.
 */
import type { Raft } from './raft.js';
import { ReadOnly } from './read-only.js';
import type { Message } from './types.js';
import { MessageType, NONE, ReadOnlyOption, newMessage } from './types.js';
import { VoteResult } from './quorum/majority.js';

/** Answers a read request at `readIndex`: locally as a ReadState, or to the follower that asked. */
export function responseToReadIndexReq(r: Raft, req: Message, readIndex: number): void {
  if (req.from === NONE || req.from === r.id) {
    r.addReadState(readIndex, req.entries[0]!.data);
    return;
  }
  const m = newMessage(MessageType.MsgReadIndexResp, req.from, r.id, 0);
  m.index = readIndex;
  m.entries = req.entries;
  r.send(m);
}

/** Handles a ReadIndex request on a leader that committed an entry of its term. */
export function sendMsgReadIndexResponse(r: Raft, m: Message): void {
  if (r.cfg.readOnlyOption === ReadOnlyOption.Safe) {
    // Confirm leadership with a heartbeat round carrying the request context (thesis §6.4).
    if (r.readOnly === null) r.readOnly = new ReadOnly();
    const ctx = m.entries[0]!.data;
    r.readOnly.addRequest(r.log.committed, m, r.id);
    r.bcastHeartbeatWithCtx(ctx);
  } else {
    // Lease-based (thesis §6.4.1): CheckQuorum keeps the leader from serving past its lease.
    responseToReadIndexReq(r, m, r.log.committed);
  }
}

/** Holds a ReadIndex request until this leader commits an entry of its term. */
export function holdReadIndex(r: Raft, m: Message): void {
  if (r.pendingReadIndexMessages === null) r.pendingReadIndexMessages = [];
  r.pendingReadIndexMessages.push(m);
}

export function releasePendingReadIndexMessages(r: Raft): void {
  const msgs = r.pendingReadIndexMessages;
  if (msgs === null || msgs.length === 0) return;
  if (!r.committedEntryInCurrentTerm()) return;
  r.pendingReadIndexMessages = null;
  for (const m of msgs) sendMsgReadIndexResponse(r, m);
}

/** A heartbeat ack carrying a read context: answer the reads a quorum confirmed. */
export function handleReadIndexAck(r: Raft, from: number, ctx: Uint8Array): void {
  const ro = r.readOnly;
  if (ro === null) return;
  const acks = ro.recvAck(from, ctx);
  if (acks === undefined || r.trk.voteResultOf(acks) !== VoteResult.Won) return;
  for (const rs of ro.advance(ctx)) responseToReadIndexReq(r, rs.req, rs.index);
}
