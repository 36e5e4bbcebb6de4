/**
 * Stable one-line renderings of raft values for logs, tools and interaction-test traces
 * (etcd `util.go`'s Describe* family). Changing a format changes every trace: it is a reviewed
 * diff.
 */
import { decodeConfChange, decodeConfChangeV2 } from './codec.js';
import { confChangesToString } from './conf-change.js';
import type { ConfState, Entry, HardState, Message, ReadState, Snapshot, SoftState } from './types.js';
import { EntryType, MessageType, isEmptySnapshot, messageTypeName, stateRoleName } from './types.js';

/** Renders entry data; the default shows printable ASCII quoted and anything else as hex. */
export type DataFormatter = (data: Uint8Array) => string;

export function defaultDataFormatter(data: Uint8Array): string {
  let printable = true;
  for (let i = 0; i < data.length; i++) {
    const c = data[i]!;
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) {
      printable = false;
      break;
    }
  }
  if (printable) return `"${String.fromCharCode(...data)}"`;
  let hex = '';
  for (let i = 0; i < data.length; i++) hex += data[i]!.toString(16).padStart(2, '0');
  return `0x${hex}`;
}

/** "2/5 Normal \"foo\"", "2/6 ConfChangeV2 v4 l5", "2/7 ConfChange r3". */
export function describeEntry(e: Entry, f: DataFormatter = defaultDataFormatter): string {
  const head = `${e.term}/${e.index}`;
  switch (e.entryType) {
    case EntryType.EntryNormal:
      return `${head} Normal ${f(e.data)}`;
    case EntryType.EntryConfChange: {
      let body: string;
      try {
        const cc = decodeConfChange(e.data);
        body = confChangesToString([{ changeType: cc.changeType, nodeId: cc.nodeId }]);
      } catch {
        body = `<undecodable ${f(e.data)}>`;
      }
      return `${head} ConfChange ${body}`;
    }
    case EntryType.EntryConfChangeV2: {
      let body: string;
      try {
        const cc = decodeConfChangeV2(e.data);
        body = cc.changes.length === 0 ? '(leave joint)' : confChangesToString(cc.changes);
        if (cc.transition === 1) body += ' transition=implicit';
        else if (cc.transition === 2) body += ' transition=explicit';
      } catch {
        body = `<undecodable ${f(e.data)}>`;
      }
      return `${head} ConfChangeV2 ${body}`;
    }
    default:
      return `${head} ?type=${String(e.entryType)}`;
  }
}

export function describeEntries(ents: readonly Entry[], f: DataFormatter = defaultDataFormatter): string {
  return ents.map((e) => describeEntry(e, f)).join(', ');
}

/** "voters=(1 2 3) learners=(4)" plus joint parts when present. */
export function describeConfState(cs: ConfState): string {
  let s = `voters=(${cs.voters.join(' ')})`;
  if (cs.votersOutgoing.length > 0) s += `&&(${cs.votersOutgoing.join(' ')})`;
  if (cs.learners.length > 0) s += ` learners=(${cs.learners.join(' ')})`;
  if (cs.learnersNext.length > 0) s += ` learners_next=(${cs.learnersNext.join(' ')})`;
  if (cs.autoLeave) s += ' autoleave';
  return s;
}

export function describeSnapshot(s: Snapshot): string {
  return `index=${s.metadata.index} term=${s.metadata.term} ${describeConfState(s.metadata.confState)}`;
}

export function describeHardState(hs: HardState): string {
  return `term=${hs.term} vote=${hs.vote} commit=${hs.commit}`;
}

export function describeSoftState(ss: SoftState): string {
  return `lead=${ss.lead} state=${stateRoleName(ss.raftState)}`;
}

export function describeReadState(rs: ReadState, f: DataFormatter = defaultDataFormatter): string {
  return `index=${rs.index} ctx=${f(rs.requestCtx)}`;
}

/** "1->2 MsgApp term=1 log=1/2 commit=2 entries=[1/3 Normal \"x\"]". */
export function describeMessage(m: Message, f: DataFormatter = defaultDataFormatter): string {
  let s = `${m.from}->${m.to} ${messageTypeName(m.msgType)} term=${m.term}`;
  if (m.msgType === MessageType.MsgAppResp) {
    // For a rejection, logTerm/rejectHint are the follower's guess of where the logs match.
    s += ` index=${m.index}`;
    if (m.reject) s += ` rejected (hint: ${m.logTerm}/${m.rejectHint})`;
  } else {
    if (m.logTerm !== 0) s += ` log=${m.logTerm}/${m.index}`;
    else if (m.index !== 0) s += ` index=${m.index}`;
    if (m.reject) s += ' rejected';
  }
  if (m.commit !== 0) s += ` commit=${m.commit}`;
  if (m.priority !== 0) s += ` priority=${m.priority}`;
  if (m.context !== undefined && m.context.length > 0) s += ` context=${f(m.context)}`;
  if (m.entries.length > 0) s += ` entries=[${describeEntries(m.entries, f)}]`;
  if (!isEmptySnapshot(m.snapshot)) s += ` snapshot=[${describeSnapshot(m.snapshot!)}]`;
  return s;
}
