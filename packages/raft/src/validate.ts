/**
 * Validation of messages arriving from the network (the gateway of the state machine: checked
 * here, trusted inside, STYLE.md §4). A malformed message is refused with
 * `RaftError(INVALID_MESSAGE)` before it changes anything.
 */
import { RaftCodes, RaftError } from './errors.js';
import type { Entry, Message } from './types.js';
import { MessageType, isMessageType, messageTypeName } from './types.js';

function bad(reason: string, m: Partial<Message>): never {
  throw new RaftError(RaftCodes.INVALID_MESSAGE, `invalid raft message: ${reason}`, {
    details: { msgType: typeof m.msgType === 'number' ? messageTypeName(m.msgType) : String(m.msgType), from: m.from, to: m.to },
  });
}

function u64(v: unknown): boolean {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

const NEEDS_TERM = new Set<number>([
  MessageType.MsgApp,
  MessageType.MsgAppResp,
  MessageType.MsgVote,
  MessageType.MsgVoteResp,
  MessageType.MsgSnap,
  MessageType.MsgHeartbeat,
  MessageType.MsgHeartbeatResp,
  MessageType.MsgTimeoutNow,
  MessageType.MsgReadIndexResp,
  MessageType.MsgPreVote,
  MessageType.MsgPreVoteResp,
]);

function checkEntry(e: Entry, m: Message): void {
  if (typeof e !== 'object' || e === null) bad('entry is not an object', m);
  const et = e.entryType;
  if (et !== 0 && et !== 1 && et !== 2) bad(`unknown entry type ${String(et)}`, m);
  if (!u64(e.term) || !u64(e.index)) bad('entry term/index must be non-negative integers', m);
  if (!(e.data instanceof Uint8Array)) bad('entry data must be a Uint8Array', m);
  if (e.context !== undefined && !(e.context instanceof Uint8Array)) bad('entry context must be a Uint8Array', m);
}

/** Throws RaftError(INVALID_MESSAGE) unless `m` is a well-formed message addressed to `self`. */
export function validateMessage(m: Message, self: number): void {
  if (typeof m !== 'object' || m === null) bad('not an object', {});
  if (!isMessageType(m.msgType)) bad(`unknown message type ${String(m.msgType)}`, m);
  if (!u64(m.to) || !u64(m.from) || !u64(m.term) || !u64(m.logTerm) || !u64(m.index) || !u64(m.commit) || !u64(m.rejectHint)) {
    bad('to/from/term/logTerm/index/commit/rejectHint must be non-negative safe integers', m);
  }
  if (typeof m.reject !== 'boolean') bad('reject must be a boolean', m);
  if (!Number.isSafeInteger(m.priority)) bad('priority must be an integer', m);
  if (m.to !== self) bad(`addressed to ${m.to}, not to ${self}`, m);
  if (m.context !== undefined && !(m.context instanceof Uint8Array)) bad('context must be a Uint8Array', m);
  if (!Array.isArray(m.entries)) bad('entries must be an array', m);
  const t = m.msgType;
  const isApp = t === MessageType.MsgApp;
  let prevTerm = m.logTerm;
  for (let i = 0; i < m.entries.length; i++) {
    const e = m.entries[i]!;
    checkEntry(e, m);
    if (isApp) {
      if (e.index !== m.index + 1 + i) bad(`MsgApp entries must follow index ${m.index} contiguously`, m);
      if (e.term < prevTerm || e.term > m.term) bad('MsgApp entry terms must not decrease and not exceed the message term', m);
      prevTerm = e.term;
    }
  }
  if (NEEDS_TERM.has(t)) {
    if (m.term === 0) bad(`${messageTypeName(t)} must carry a term`, m);
    if (m.from === 0) bad(`${messageTypeName(t)} must carry a sender`, m);
  }
  switch (t) {
    case MessageType.MsgApp:
      if (m.logTerm > m.term) bad('MsgApp logTerm exceeds the message term', m);
      break;
    case MessageType.MsgSnap: {
      const s = m.snapshot;
      if (s === undefined || s === null || typeof s !== 'object') bad('MsgSnap without a snapshot', m);
      const md = s.metadata;
      if (md === undefined || !u64(md.index) || !u64(md.term) || md.index === 0) bad('MsgSnap snapshot metadata must have a positive index', m);
      if (!(s.data instanceof Uint8Array)) bad('snapshot data must be a Uint8Array', m);
      const cs = md.confState;
      if (cs === undefined || ![cs.voters, cs.learners, cs.votersOutgoing, cs.learnersNext].every((l) => Array.isArray(l) && l.every((id) => u64(id) && id > 0))) {
        bad('snapshot ConfState must list positive ids', m);
      }
      if (md.term > m.term) bad('snapshot term exceeds the message term', m);
      break;
    }
    case MessageType.MsgProp:
      if (m.entries.length === 0) bad('MsgProp without entries', m);
      break;
    case MessageType.MsgReadIndex:
    case MessageType.MsgReadIndexResp:
      if (m.entries.length !== 1) bad(`${messageTypeName(t)} must carry exactly one entry`, m);
      break;
  }
}
