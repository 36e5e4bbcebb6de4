/**
 * `raft_serverpb.RaftMessage` in mrkv's domain shape, with a direct codec (see pb.ts for why).
 * Only the fields the store uses are decoded; unknown fields are skipped, as protobuf requires.
 */
import type { ConfState, Entry, EntryType, Message, MessageType, Snapshot } from '@mrkv/raft';
import { PEER_ROLES, type Peer, type PeerRole, type RegionEpoch } from '@mrkv/proto';
import { DISK_USAGES, type DiskUsage } from '../operation/disk-usage.js';
import { PbReader, PbWriter, Wire, malformed } from './pb.js';

/** One raft message between two peers of a region, with the sender's view of the region. */
export interface StoreRaftMessage {
  regionId: number;
  fromPeer: Peer;
  toPeer: Peer;
  message: Message;
  regionEpoch: RegionEpoch;
  /** Tells `toPeer` it was removed from the region and should destroy itself. */
  isTombstone: boolean;
  /** The sender's region range, so a store without the region can decide whether to create a peer. */
  startKey: Uint8Array;
  endKey: Uint8Array;
  /** The sender store's disk usage (`disk_usage = 12`); absent on the wire means Normal. */
  diskUsage?: DiskUsage | undefined;
}

const EMPTY = new Uint8Array(0);

function writePeer(w: PbWriter, p: Peer): void {
  w.u64(1, p.id);
  w.u64(2, p.storeId);
  w.u64(3, PEER_ROLES.indexOf(p.role));
}

function writeConfState(w: PbWriter, c: ConfState): void {
  w.packed(1, c.voters);
  w.packed(2, c.learners);
  w.packed(3, c.votersOutgoing);
  w.packed(4, c.learnersNext);
  w.bool(5, c.autoLeave);
}

/** Writes an eraftpb.Entry body. */
export function writeEntry(w: PbWriter, e: Entry): void {
  w.u64(1, e.entryType);
  w.u64(2, e.term);
  w.u64(3, e.index);
  w.bytes(4, e.data);
  w.bytes(6, e.context);
}

function writeSnapshot(w: PbWriter, s: Snapshot): void {
  w.bytes(1, s.data);
  w.message(2, (m) => {
    m.message(1, (c) => writeConfState(c, s.metadata.confState));
    m.u64(2, s.metadata.index);
    m.u64(3, s.metadata.term);
  });
}

function writeRaftMsg(w: PbWriter, m: Message): void {
  w.u64(1, m.msgType);
  w.u64(2, m.to);
  w.u64(3, m.from);
  w.u64(4, m.term);
  w.u64(5, m.logTerm);
  w.u64(6, m.index);
  for (const e of m.entries) w.message(7, (x) => writeEntry(x, e));
  w.u64(8, m.commit);
  if (m.snapshot !== undefined) w.message(9, (x) => writeSnapshot(x, m.snapshot!));
  w.bool(10, m.reject);
  w.u64(11, m.rejectHint);
  w.bytes(12, m.context);
  w.u64(13, m.requestSnapshot);
  if (m.priority !== 0) {
    w.tag(15, Wire.VARINT);
    w.varint(m.priority);
  }
}

/** Encodes a RaftMessage, byte-compatible with kvproto's. */
export function encodeStoreRaftMessage(msg: StoreRaftMessage): Uint8Array {
  let size = 128;
  for (const e of msg.message.entries) size += e.data.length + 24;
  if (msg.message.snapshot) size += msg.message.snapshot.data.length + 64;
  const w = PbWriter.shared(size);
  w.u64(1, msg.regionId);
  w.message(2, (x) => writePeer(x, msg.fromPeer));
  w.message(3, (x) => writePeer(x, msg.toPeer));
  w.message(4, (x) => writeRaftMsg(x, msg.message));
  w.message(5, (x) => {
    x.u64(1, msg.regionEpoch.confVer);
    x.u64(2, msg.regionEpoch.version);
  });
  w.bool(6, msg.isTombstone);
  w.bytes(7, msg.startKey);
  w.bytes(8, msg.endKey);
  if (msg.diskUsage !== undefined && msg.diskUsage !== 'Normal') w.u64(12, DISK_USAGES.indexOf(msg.diskUsage));
  return w.finish();
}

function readPeer(r: PbReader): Peer {
  let id = 0;
  let storeId = 0;
  let role: PeerRole = 'Voter';
  while (!r.done()) {
    const [f, wt] = r.tag();
    if (f === 1 && wt === Wire.VARINT) id = r.varint();
    else if (f === 2 && wt === Wire.VARINT) storeId = r.varint();
    else if (f === 3 && wt === Wire.VARINT) role = PEER_ROLES[r.varint()] ?? 'Voter';
    else r.skip(wt);
  }
  return { id, storeId, role };
}

function readEpoch(r: PbReader): RegionEpoch {
  const e = { confVer: 0, version: 0 };
  while (!r.done()) {
    const [f, wt] = r.tag();
    if (f === 1 && wt === Wire.VARINT) e.confVer = r.varint();
    else if (f === 2 && wt === Wire.VARINT) e.version = r.varint();
    else r.skip(wt);
  }
  return e;
}

function readConfState(r: PbReader): ConfState {
  const c: ConfState = { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
  while (!r.done()) {
    const [f, wt] = r.tag();
    if (f === 1) r.repeatedU64(wt, c.voters);
    else if (f === 2) r.repeatedU64(wt, c.learners);
    else if (f === 3) r.repeatedU64(wt, c.votersOutgoing);
    else if (f === 4) r.repeatedU64(wt, c.learnersNext);
    else if (f === 5 && wt === Wire.VARINT) c.autoLeave = r.varint() !== 0;
    else r.skip(wt);
  }
  return c;
}

/** Reads an eraftpb.Entry body. */
export function readEntry(r: PbReader): Entry {
  let entryType = 0;
  let term = 0;
  let index = 0;
  let data: Uint8Array = EMPTY;
  let context: Uint8Array | undefined;
  while (!r.done()) {
    const [f, wt] = r.tag();
    if (f === 1 && wt === Wire.VARINT) entryType = r.varint();
    else if (f === 2 && wt === Wire.VARINT) term = r.varint();
    else if (f === 3 && wt === Wire.VARINT) index = r.varint();
    else if (f === 4 && wt === Wire.LEN) data = r.bytes();
    else if (f === 6 && wt === Wire.LEN) context = r.bytes();
    else r.skip(wt);
  }
  if (entryType > 2) throw malformed('Entry.entry_type');
  const e: Entry = { entryType: entryType as EntryType, term, index, data };
  if (context !== undefined && context.length > 0) e.context = context;
  return e;
}

function readSnapshot(r: PbReader): Snapshot {
  let data: Uint8Array = EMPTY;
  let confState: ConfState = { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
  let index = 0;
  let term = 0;
  while (!r.done()) {
    const [f, wt] = r.tag();
    if (f === 1 && wt === Wire.LEN) data = r.bytes();
    else if (f === 2 && wt === Wire.LEN) {
      const m = r.sub();
      while (!m.done()) {
        const [g, mt] = m.tag();
        if (g === 1 && mt === Wire.LEN) confState = readConfState(m.sub());
        else if (g === 2 && mt === Wire.VARINT) index = m.varint();
        else if (g === 3 && mt === Wire.VARINT) term = m.varint();
        else m.skip(mt);
      }
    } else r.skip(wt);
  }
  return { data, metadata: { confState, index, term } };
}

function readRaftMsg(r: PbReader): Message {
  const m: Message = {
    msgType: 0,
    to: 0,
    from: 0,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    requestSnapshot: 0,
    priority: 0,
  };
  let deprecatedPriority = 0;
  while (!r.done()) {
    const [f, wt] = r.tag();
    if (wt === Wire.VARINT) {
      const v = r.varint();
      switch (f) {
        case 1:
          m.msgType = v as MessageType;
          break;
        case 2:
          m.to = v;
          break;
        case 3:
          m.from = v;
          break;
        case 4:
          m.term = v;
          break;
        case 5:
          m.logTerm = v;
          break;
        case 6:
          m.index = v;
          break;
        case 8:
          m.commit = v;
          break;
        case 10:
          m.reject = v !== 0;
          break;
        case 11:
          m.rejectHint = v;
          break;
        case 13:
          m.requestSnapshot = v;
          break;
        case 14:
          deprecatedPriority = v;
          break;
        case 15:
          m.priority = v;
          break;
        default:
          break;
      }
    } else if (wt === Wire.LEN && f === 7) m.entries.push(readEntry(r.sub()));
    else if (wt === Wire.LEN && f === 9) m.snapshot = readSnapshot(r.sub());
    else if (wt === Wire.LEN && f === 12) {
      const c = r.bytes();
      if (c.length > 0) m.context = c;
    } else r.skip(wt);
  }
  if (m.priority === 0 && deprecatedPriority !== 0) m.priority = deprecatedPriority;
  return m;
}

/**
 * Decodes a RaftMessage. Throws `KV:Common:InvalidArgument` for bytes that are not one, or that
 * lack the parts every raft message has (region id, peers, the raft message).
 */
export function decodeStoreRaftMessage(bytes: Uint8Array): StoreRaftMessage {
  const r = new PbReader(bytes);
  let regionId = 0;
  let fromPeer: Peer | undefined;
  let toPeer: Peer | undefined;
  let message: Message | undefined;
  let regionEpoch: RegionEpoch = { confVer: 0, version: 0 };
  let isTombstone = false;
  let startKey: Uint8Array = EMPTY;
  let endKey: Uint8Array = EMPTY;
  let diskUsage: DiskUsage = 'Normal';
  while (!r.done()) {
    const [f, wt] = r.tag();
    if (f === 1 && wt === Wire.VARINT) regionId = r.varint();
    else if (f === 2 && wt === Wire.LEN) fromPeer = readPeer(r.sub());
    else if (f === 3 && wt === Wire.LEN) toPeer = readPeer(r.sub());
    else if (f === 4 && wt === Wire.LEN) message = readRaftMsg(r.sub());
    else if (f === 5 && wt === Wire.LEN) regionEpoch = readEpoch(r.sub());
    else if (f === 6 && wt === Wire.VARINT) isTombstone = r.varint() !== 0;
    else if (f === 7 && wt === Wire.LEN) startKey = r.bytes();
    else if (f === 8 && wt === Wire.LEN) endKey = r.bytes();
    else if (f === 12 && wt === Wire.VARINT) diskUsage = DISK_USAGES[r.varint()] ?? 'Normal';
    else r.skip(wt);
  }
  if (regionId === 0 || fromPeer === undefined || toPeer === undefined || message === undefined) {
    throw malformed('RaftMessage (missing region id, peers or message)');
  }
  return { regionId, fromPeer, toPeer, message, regionEpoch, isTombstone, startKey, endKey, diskUsage };
}
