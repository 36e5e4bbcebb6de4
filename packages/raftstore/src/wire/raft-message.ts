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

function writePeer(w: PbWriter, field: number, p: Peer): void {
  const mark = w.begin(field);
  w.u64(1, p.id);
  w.u64(2, p.storeId);
  w.u64(3, PEER_ROLES.indexOf(p.role));
  w.end(mark);
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
  const meta = w.begin(2);
  const conf = w.begin(1);
  writeConfState(w, s.metadata.confState);
  w.end(conf);
  w.u64(2, s.metadata.index);
  w.u64(3, s.metadata.term);
  w.end(meta);
}

function writeRaftMsg(w: PbWriter, m: Message): void {
  w.u64(1, m.msgType);
  w.u64(2, m.to);
  w.u64(3, m.from);
  w.u64(4, m.term);
  w.u64(5, m.logTerm);
  w.u64(6, m.index);
  const entries = m.entries;
  for (let i = 0; i < entries.length; i++) {
    const mark = w.begin(7);
    writeEntry(w, entries[i]!);
    w.end(mark);
  }
  w.u64(8, m.commit);
  if (m.snapshot !== undefined) {
    const mark = w.begin(9);
    writeSnapshot(w, m.snapshot);
    w.end(mark);
  }
  w.bool(10, m.reject);
  w.u64(11, m.rejectHint);
  w.bytes(12, m.context);
  w.u64(13, m.requestSnapshot);
  if (m.priority !== 0) {
    w.tag(15, Wire.VARINT);
    w.varint(m.priority);
  }
}

/** Encodes a RaftMessage, byte-compatible with kvproto's (a fresh copy of the bytes). */
export function encodeStoreRaftMessage(msg: StoreRaftMessage): Uint8Array {
  return writeStoreRaftMessage(PbWriter.shared(encodedSizeHint(msg.message)), msg).finish();
}

/**
 * Encodes a RaftMessage like `encodeStoreRaftMessage`, as a view into a chunk shared with the
 * next messages encoded on this thread (`PbWriter.chunked`): for messages on their way to the
 * transport, which sends or copies them and drops them. The fields are the arguments, so the
 * per-message send path builds no `StoreRaftMessage` either.
 */
export function encodeOutgoingRaftMessage(
  regionId: number,
  fromPeer: Peer,
  toPeer: Peer,
  message: Message,
  regionEpoch: RegionEpoch,
  isTombstone: boolean,
  startKey: Uint8Array,
  endKey: Uint8Array,
  diskUsage: DiskUsage | undefined,
): Uint8Array {
  const w = PbWriter.chunked(encodedSizeHint(message));
  writeFields(w, regionId, fromPeer, toPeer, message, regionEpoch, isTombstone, startKey, endKey, diskUsage);
  return w.finishView();
}

function encodedSizeHint(m: Message): number {
  let size = 128;
  const entries = m.entries;
  for (let i = 0; i < entries.length; i++) size += entries[i]!.data.length + 24;
  if (m.snapshot) size += m.snapshot.data.length + 64;
  return size;
}

function writeStoreRaftMessage(w: PbWriter, msg: StoreRaftMessage): PbWriter {
  writeFields(w, msg.regionId, msg.fromPeer, msg.toPeer, msg.message, msg.regionEpoch, msg.isTombstone, msg.startKey, msg.endKey, msg.diskUsage);
  return w;
}

function writeFields(
  w: PbWriter,
  regionId: number,
  fromPeer: Peer,
  toPeer: Peer,
  message: Message,
  regionEpoch: RegionEpoch,
  isTombstone: boolean,
  startKey: Uint8Array,
  endKey: Uint8Array,
  diskUsage: DiskUsage | undefined,
): void {
  w.u64(1, regionId);
  writePeer(w, 2, fromPeer);
  writePeer(w, 3, toPeer);
  const msg = w.begin(4);
  writeRaftMsg(w, message);
  w.end(msg);
  const epoch = w.begin(5);
  w.u64(1, regionEpoch.confVer);
  w.u64(2, regionEpoch.version);
  w.end(epoch);
  w.bool(6, isTombstone);
  w.bytes(7, startKey);
  w.bytes(8, endKey);
  if (diskUsage !== undefined && diskUsage !== 'Normal') w.u64(12, DISK_USAGES.indexOf(diskUsage));
}

/** Reads a nested message with `read` over the same reader (no reader per field). */
function nested<T>(r: PbReader, read: (r: PbReader) => T): T {
  const outer = r.enter();
  const v = read(r);
  r.leave(outer);
  return v;
}

function cachedRange(regionId: number): RangeSlot | undefined {
  const slot = rangeCache[rangeSlot(regionId)];
  return slot !== undefined && slot.regionId === regionId ? slot : undefined;
}

function readPeer(r: PbReader): Peer {
  let id = 0;
  let storeId = 0;
  let role: PeerRole = 'Voter';
  while (!r.done()) {
    const f = r.next();
    const wt = r.wire;
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
    const f = r.next();
    const wt = r.wire;
    if (f === 1 && wt === Wire.VARINT) e.confVer = r.varint();
    else if (f === 2 && wt === Wire.VARINT) e.version = r.varint();
    else r.skip(wt);
  }
  return e;
}

function readConfState(r: PbReader): ConfState {
  const c: ConfState = { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
  while (!r.done()) {
    const f = r.next();
    const wt = r.wire;
    if (f === 1) r.repeatedU64(wt, c.voters);
    else if (f === 2) r.repeatedU64(wt, c.learners);
    else if (f === 3) r.repeatedU64(wt, c.votersOutgoing);
    else if (f === 4) r.repeatedU64(wt, c.learnersNext);
    else if (f === 5 && wt === Wire.VARINT) c.autoLeave = r.varint() !== 0;
    else r.skip(wt);
  }
  return c;
}

/** Reads an eraftpb.Entry body (up to the reader's end). */
export function readEntry(r: PbReader): Entry {
  let entryType = 0;
  let term = 0;
  let index = 0;
  let data: Uint8Array = EMPTY;
  let context: Uint8Array | undefined;
  while (!r.done()) {
    const f = r.next();
    const wt = r.wire;
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

function readSnapshotMetadata(r: PbReader, into: { confState: ConfState; index: number; term: number }): void {
  while (!r.done()) {
    const g = r.next();
    const mt = r.wire;
    if (g === 1 && mt === Wire.LEN) into.confState = nested(r, readConfState);
    else if (g === 2 && mt === Wire.VARINT) into.index = r.varint();
    else if (g === 3 && mt === Wire.VARINT) into.term = r.varint();
    else r.skip(mt);
  }
}

function readSnapshot(r: PbReader): Snapshot {
  let data: Uint8Array = EMPTY;
  const metadata = { confState: { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } as ConfState, index: 0, term: 0 };
  while (!r.done()) {
    const f = r.next();
    const wt = r.wire;
    if (f === 1 && wt === Wire.LEN) data = r.bytes();
    else if (f === 2 && wt === Wire.LEN) {
      const outer = r.enter();
      readSnapshotMetadata(r, metadata);
      r.leave(outer);
    } else r.skip(wt);
  }
  return { data, metadata };
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
    const f = r.next();
    const wt = r.wire;
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
    } else if (wt === Wire.LEN && f === 7) m.entries.push(nested(r, readEntry));
    else if (wt === Wire.LEN && f === 9) m.snapshot = nested(r, readSnapshot);
    else if (wt === Wire.LEN && f === 12) {
      const c = r.bytes();
      if (c.length > 0) m.context = c;
    } else r.skip(wt);
  }
  if (m.priority === 0 && deprecatedPriority !== 0) m.priority = deprecatedPriority;
  return m;
}

/**
 * The range keys decoded last for a region, in a slot per region id modulo `RANGE_CACHE_SLOTS` (a
 * collision just replaces the slot): every message carries its sender's range, which rarely
 * changes, so a message whose keys equal the slot's shares its arrays instead of two fresh
 * copies. Decoded range keys are therefore shared and must not be mutated (nothing does).
 */
interface RangeSlot {
  regionId: number;
  startKey: Uint8Array;
  endKey: Uint8Array;
}
const RANGE_CACHE_SLOTS = 4096;
const rangeCache: Array<RangeSlot | undefined> = new Array<RangeSlot | undefined>(RANGE_CACHE_SLOTS);
const rangeSlot = (regionId: number): number => (regionId >>> 0) % RANGE_CACHE_SLOTS;

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
    const f = r.next();
    const wt = r.wire;
    if (f === 1 && wt === Wire.VARINT) regionId = r.varint();
    else if (f === 2 && wt === Wire.LEN) fromPeer = nested(r, readPeer);
    else if (f === 3 && wt === Wire.LEN) toPeer = nested(r, readPeer);
    else if (f === 4 && wt === Wire.LEN) message = nested(r, readRaftMsg);
    else if (f === 5 && wt === Wire.LEN) regionEpoch = nested(r, readEpoch);
    else if (f === 6 && wt === Wire.VARINT) isTombstone = r.varint() !== 0;
    else if (f === 7 && wt === Wire.LEN) startKey = r.bytesOr(cachedRange(regionId)?.startKey);
    else if (f === 8 && wt === Wire.LEN) endKey = r.bytesOr(cachedRange(regionId)?.endKey);
    else if (f === 12 && wt === Wire.VARINT) diskUsage = DISK_USAGES[r.varint()] ?? 'Normal';
    else r.skip(wt);
  }
  if (regionId === 0 || fromPeer === undefined || toPeer === undefined || message === undefined) {
    throw malformed('RaftMessage (missing region id, peers or message)');
  }
  const slot = rangeCache[rangeSlot(regionId)];
  if (slot === undefined || slot.regionId !== regionId) rangeCache[rangeSlot(regionId)] = { regionId, startKey, endKey };
  else {
    slot.startKey = startKey;
    slot.endKey = endKey;
  }
  return { regionId, fromPeer, toPeer, message, regionEpoch, isTombstone, startKey, endKey, diskUsage };
}
