/**
 * Raft commands: what a normal entry's `data` carries (`mrkv.raftcmd.RaftCmdRequest` in
 * proto/mrkv/raftcmd.proto), in a domain shape with a direct codec. Data commands of one region
 * proposed in the same poll round travel together in one command (one entry), so a batch of
 * client writes costs one log entry and one apply.
 */
import { PEER_ROLES, type Peer, type Region, type RegionEpoch } from '@mrkv/proto';
import { PbReader, PbWriter, Wire, malformed } from './pb.js';
import type { Entry } from '@mrkv/raft';
import { readEntry, writeEntry } from './raft-message.js';

export type DataRequest =
  | { readonly t: 'put'; readonly key: Uint8Array; readonly value: Uint8Array }
  | { readonly t: 'delete'; readonly key: Uint8Array }
  | { readonly t: 'deleteRange'; readonly start: Uint8Array; readonly end: Uint8Array }
  | {
      readonly t: 'cas';
      readonly key: Uint8Array;
      readonly value: Uint8Array;
      readonly previousValue: Uint8Array;
      readonly previousNotExist: boolean;
      readonly delete: boolean;
    };

export type ChangeType = 'AddNode' | 'RemoveNode' | 'AddLearnerNode';
const CHANGE_TYPES: readonly ChangeType[] = ['AddNode', 'RemoveNode', 'AddLearnerNode'];

export interface PeerChange {
  readonly changeType: ChangeType;
  readonly peer: Peer;
}

export interface SplitSpec {
  readonly splitKey: Uint8Array;
  readonly newRegionId: number;
  /** One per peer of the parent, in the parent's peer order. */
  readonly newPeerIds: readonly number[];
}

export type AdminCmd =
  | { readonly t: 'changePeerV2'; readonly changes: readonly PeerChange[] }
  | { readonly t: 'compactLog'; readonly compactIndex: number; readonly compactTerm: number }
  | { readonly t: 'batchSplit'; readonly splits: readonly SplitSpec[]; readonly rightDerive: boolean }
  /** Merge, step 1 (on the source): freeze the region; `minIndex` is the lowest index every peer has. */
  | { readonly t: 'prepareMerge'; readonly minIndex: number; readonly target: Region }
  /**
   * Merge, step 2 (on the target): take over the source's range; `commit` is the PrepareMerge
   * index; `entries` the source's log after the PrepareMerge's `minIndex` up to `commit`, for
   * target replicas whose source replica lags and has nobody left to catch up from (CatchUpLogs).
   */
  | { readonly t: 'commitMerge'; readonly source: Region; readonly commit: number; readonly entries: readonly Entry[] }
  /** Merge abandoned (on the source): unfreeze; `commit` is the PrepareMerge index. */
  | { readonly t: 'rollbackMerge'; readonly commit: number }
  /** Consistency check, step 1: every replica hashes its region data at this entry's index. */
  | { readonly t: 'computeHash' }
  /** Consistency check, step 2: replicas compare their hash at `index` with the leader's. */
  | { readonly t: 'verifyHash'; readonly index: number; readonly hash: Uint8Array };

export interface CmdHeader {
  readonly regionId: number;
  /** The proposing peer. */
  readonly peer: Peer;
  /** The region epoch when proposed; checked again at apply time. */
  readonly epoch: RegionEpoch;
  readonly term: number;
}

/** A decoded RaftCmdRequest: data requests, or one admin command. */
export interface RaftCmd {
  readonly header: CmdHeader;
  readonly requests: readonly DataRequest[];
  readonly admin?: AdminCmd | undefined;
}

const CMD_PUT = 3;
const CMD_DELETE = 4;
const CMD_DELETE_RANGE = 7;
const CMD_CAS = 100;
const ADMIN_COMPACT_LOG = 3;
const ADMIN_COMPUTE_HASH = 5;
const ADMIN_VERIFY_HASH = 6;
const ADMIN_BATCH_SPLIT = 10;
const ADMIN_PREPARE_MERGE = 7;
const ADMIN_COMMIT_MERGE = 8;
const ADMIN_ROLLBACK_MERGE = 9;
const ADMIN_CHANGE_PEER_V2 = 11;
const EMPTY = new Uint8Array(0);

function writePeer(w: PbWriter, p: Peer): void {
  w.u64(1, p.id);
  w.u64(2, p.storeId);
  w.u64(3, PEER_ROLES.indexOf(p.role));
}

function writeRegion(w: PbWriter, r: Region): void {
  w.u64(1, r.id);
  w.bytes(2, r.startKey);
  w.bytes(3, r.endKey);
  w.message(4, (e) => {
    e.u64(1, r.regionEpoch.confVer);
    e.u64(2, r.regionEpoch.version);
  });
  for (const p of r.peers) w.message(5, (x) => writePeer(x, p));
}

function readRegion(r: PbReader): Region {
  const region: Region = { id: 0, startKey: EMPTY, endKey: EMPTY, regionEpoch: { confVer: 0, version: 0 }, peers: [] };
  while (!r.done()) {
    const [f, wt] = r.tag();
    if (f === 1 && wt === Wire.VARINT) region.id = r.varint();
    else if (f === 2 && wt === Wire.LEN) region.startKey = r.bytes();
    else if (f === 3 && wt === Wire.LEN) region.endKey = r.bytes();
    else if (f === 4 && wt === Wire.LEN) {
      const e = r.sub();
      while (!e.done()) {
        const [g, et] = e.tag();
        if (g === 1 && et === Wire.VARINT) region.regionEpoch.confVer = e.varint();
        else if (g === 2 && et === Wire.VARINT) region.regionEpoch.version = e.varint();
        else e.skip(et);
      }
    } else if (f === 5 && wt === Wire.LEN) region.peers.push(readPeer(r.sub()));
    else r.skip(wt);
  }
  return region;
}

function writeRequest(w: PbWriter, r: DataRequest): void {
  switch (r.t) {
    case 'put':
      w.u64(1, CMD_PUT);
      w.message(4, (x) => {
        x.bytes(2, r.key);
        x.bytes(3, r.value);
      });
      return;
    case 'delete':
      w.u64(1, CMD_DELETE);
      w.message(5, (x) => x.bytes(2, r.key));
      return;
    case 'deleteRange':
      w.u64(1, CMD_DELETE_RANGE);
      w.message(8, (x) => {
        x.bytes(2, r.start);
        x.bytes(3, r.end);
      });
      return;
    case 'cas':
      w.u64(1, CMD_CAS);
      w.message(100, (x) => {
        x.bytes(2, r.key);
        x.bytes(3, r.value);
        x.bytes(4, r.previousValue);
        x.bool(5, r.previousNotExist);
        x.bool(6, r.delete);
      });
      return;
  }
}

function writeAdmin(w: PbWriter, a: AdminCmd): void {
  switch (a.t) {
    case 'compactLog':
      w.u64(1, ADMIN_COMPACT_LOG);
      w.message(4, (x) => {
        x.u64(1, a.compactIndex);
        x.u64(2, a.compactTerm);
      });
      return;
    case 'batchSplit':
      w.u64(1, ADMIN_BATCH_SPLIT);
      w.message(10, (x) => {
        for (const s of a.splits) {
          x.message(1, (y) => {
            y.bytes(1, s.splitKey);
            y.u64(2, s.newRegionId);
            y.packed(3, s.newPeerIds);
          });
        }
        x.bool(2, a.rightDerive);
      });
      return;
    case 'prepareMerge':
      w.u64(1, ADMIN_PREPARE_MERGE);
      w.message(7, (x) => {
        x.u64(1, a.minIndex);
        x.message(2, (y) => writeRegion(y, a.target));
      });
      return;
    case 'commitMerge':
      w.u64(1, ADMIN_COMMIT_MERGE);
      w.message(8, (x) => {
        x.message(1, (y) => writeRegion(y, a.source));
        x.u64(2, a.commit);
        for (const e of a.entries) x.message(3, (y) => writeEntry(y, e));
      });
      return;
    case 'rollbackMerge':
      w.u64(1, ADMIN_ROLLBACK_MERGE);
      w.message(9, (x) => x.u64(1, a.commit));
      return;
    case 'computeHash':
      w.u64(1, ADMIN_COMPUTE_HASH);
      w.message(12, () => undefined);
      return;
    case 'verifyHash':
      w.u64(1, ADMIN_VERIFY_HASH);
      w.message(6, (x) => {
        x.u64(1, a.index);
        x.bytes(2, a.hash);
      });
      return;
    case 'changePeerV2':
      w.u64(1, ADMIN_CHANGE_PEER_V2);
      w.message(11, (x) => {
        for (const c of a.changes) {
          x.message(1, (y) => {
            y.u64(1, CHANGE_TYPES.indexOf(c.changeType));
            y.message(2, (z) => writePeer(z, c.peer));
          });
        }
      });
      return;
  }
}

/** Encodes a command as `mrkv.raftcmd.RaftCmdRequest` bytes. */
export function encodeRaftCmd(cmd: RaftCmd): Uint8Array {
  let size = 64;
  for (const r of cmd.requests) size += 16 + ('key' in r ? r.key.length : 0) + ('value' in r ? r.value.length : 0) + (r.t === 'deleteRange' ? r.start.length + r.end.length : 0);
  const w = PbWriter.shared(size);
  w.message(1, (h) => {
    h.u64(1, cmd.header.regionId);
    h.message(2, (p) => writePeer(p, cmd.header.peer));
    h.message(5, (e) => {
      e.u64(1, cmd.header.epoch.confVer);
      e.u64(2, cmd.header.epoch.version);
    });
    h.u64(6, cmd.header.term);
  });
  for (const r of cmd.requests) w.message(2, (x) => writeRequest(x, r));
  if (cmd.admin !== undefined) w.message(3, (x) => writeAdmin(x, cmd.admin!));
  return w.finish();
}

function readPeer(r: PbReader): Peer {
  let id = 0;
  let storeId = 0;
  let role = 0;
  while (!r.done()) {
    const f = r.next();
    const wt = r.wire;
    if (f === 1 && wt === Wire.VARINT) id = r.varint();
    else if (f === 2 && wt === Wire.VARINT) storeId = r.varint();
    else if (f === 3 && wt === Wire.VARINT) role = r.varint();
    else r.skip(wt);
  }
  return { id, storeId, role: PEER_ROLES[role] ?? 'Voter' };
}

function readHeader(r: PbReader): CmdHeader {
  let regionId = 0;
  let peer: Peer = { id: 0, storeId: 0, role: 'Voter' };
  const epoch = { confVer: 0, version: 0 };
  let term = 0;
  while (!r.done()) {
    const f = r.next();
    const wt = r.wire;
    if (f === 1 && wt === Wire.VARINT) regionId = r.varint();
    else if (f === 2 && wt === Wire.LEN) {
      const outer = r.enter();
      peer = readPeer(r);
      r.leave(outer);
    } else if (f === 5 && wt === Wire.LEN) {
      const outer = r.enter();
      while (!r.done()) {
        const g = r.next();
        const et = r.wire;
        if (g === 1 && et === Wire.VARINT) epoch.confVer = r.varint();
        else if (g === 2 && et === Wire.VARINT) epoch.version = r.varint();
        else r.skip(et);
      }
      r.leave(outer);
    } else if (f === 6 && wt === Wire.VARINT) term = r.varint();
    else r.skip(wt);
  }
  return { regionId, peer, epoch, term };
}

/** Reads the fields of a sub-message into a field → value map (bytes and varints only). */
function readFields(r: PbReader): Map<number, Uint8Array | number> {
  const out = new Map<number, Uint8Array | number>();
  while (!r.done()) {
    const [f, wt] = r.tag();
    if (wt === Wire.VARINT) out.set(f, r.varint());
    else if (wt === Wire.LEN) out.set(f, r.bytes());
    else r.skip(wt);
  }
  return out;
}

const b = (m: Map<number, Uint8Array | number>, f: number): Uint8Array => {
  const v = m.get(f);
  return v instanceof Uint8Array ? v : EMPTY;
};
const n = (m: Map<number, Uint8Array | number>, f: number): number => {
  const v = m.get(f);
  return typeof v === 'number' ? v : 0;
};

/**
 * The body of a data request (Put/Delete/DeleteRange/CAS share its field numbers): bytes fields
 * 2-4 and varint fields 5-6, read like `readFields` (the last occurrence of a field wins; a
 * bytes field that came as a varint reads empty, a varint field that came as bytes reads 0)
 * without a Map per request.
 */
interface RequestBody {
  f2: Uint8Array;
  f3: Uint8Array;
  f4: Uint8Array;
  f5: number;
  f6: number;
}

function readRequestBody(r: PbReader, into: RequestBody): void {
  while (!r.done()) {
    const f = r.next();
    const wt = r.wire;
    if (wt === Wire.VARINT) {
      const v = r.varint();
      if (f === 2) into.f2 = EMPTY;
      else if (f === 3) into.f3 = EMPTY;
      else if (f === 4) into.f4 = EMPTY;
      else if (f === 5) into.f5 = v;
      else if (f === 6) into.f6 = v;
    } else if (wt === Wire.LEN) {
      if (f === 2) into.f2 = r.bytes();
      else if (f === 3) into.f3 = r.bytes();
      else if (f === 4) into.f4 = r.bytes();
      else {
        r.skip(wt);
        if (f === 5) into.f5 = 0;
        else if (f === 6) into.f6 = 0;
      }
    } else r.skip(wt);
  }
}

function readRequest(r: PbReader): DataRequest {
  let cmdType = 0;
  const m: RequestBody = { f2: EMPTY, f3: EMPTY, f4: EMPTY, f5: 0, f6: 0 };
  while (!r.done()) {
    const f = r.next();
    const wt = r.wire;
    if (f === 1 && wt === Wire.VARINT) cmdType = r.varint();
    else if (wt === Wire.LEN && (f === 4 || f === 5 || f === 8 || f === 100)) {
      // A later body replaces an earlier one (as protobuf's last-one-wins for a oneof).
      m.f2 = m.f3 = m.f4 = EMPTY;
      m.f5 = m.f6 = 0;
      const outer = r.enter();
      readRequestBody(r, m);
      r.leave(outer);
    } else r.skip(wt);
  }
  switch (cmdType) {
    case CMD_PUT:
      return { t: 'put', key: m.f2, value: m.f3 };
    case CMD_DELETE:
      return { t: 'delete', key: m.f2 };
    case CMD_DELETE_RANGE:
      return { t: 'deleteRange', start: m.f2, end: m.f3 };
    case CMD_CAS:
      return { t: 'cas', key: m.f2, value: m.f3, previousValue: m.f4, previousNotExist: m.f5 !== 0, delete: m.f6 !== 0 };
    default:
      throw malformed(`raft command type ${cmdType}`);
  }
}

function readAdmin(r: PbReader): AdminCmd {
  let cmdType = 0;
  let compact: AdminCmd | undefined;
  const splits: SplitSpec[] = [];
  let rightDerive = false;
  const changes: PeerChange[] = [];
  let verify: AdminCmd | undefined;
  let merge: AdminCmd | undefined;
  while (!r.done()) {
    const [f, wt] = r.tag();
    if (f === 1 && wt === Wire.VARINT) cmdType = r.varint();
    else if (f === 4 && wt === Wire.LEN) {
      const m = readFields(r.sub());
      compact = { t: 'compactLog', compactIndex: n(m, 1), compactTerm: n(m, 2) };
    } else if ((f === 7 || f === 8) && wt === Wire.LEN) {
      const s = r.sub();
      let n1 = 0;
      let region: Region | undefined;
      const entries: Entry[] = [];
      while (!s.done()) {
        const [g, st] = s.tag();
        if (f === 8 && g === 3 && st === Wire.LEN) entries.push(readEntry(s.sub()));
        else if (f === 7 && g === 1 && st === Wire.VARINT) n1 = s.varint();
        else if (f === 7 && g === 2 && st === Wire.LEN) region = readRegion(s.sub());
        else if (f === 8 && g === 1 && st === Wire.LEN) region = readRegion(s.sub());
        else if (f === 8 && g === 2 && st === Wire.VARINT) n1 = s.varint();
        else s.skip(st);
      }
      if (region === undefined) throw malformed('merge command without its region');
      merge = f === 7 ? { t: 'prepareMerge', minIndex: n1, target: region } : { t: 'commitMerge', source: region, commit: n1, entries };
    } else if (f === 9 && wt === Wire.LEN) {
      const m = readFields(r.sub());
      merge = { t: 'rollbackMerge', commit: n(m, 1) };
    } else if (f === 6 && wt === Wire.LEN) {
      const m = readFields(r.sub());
      verify = { t: 'verifyHash', index: n(m, 1), hash: b(m, 2) };
    } else if (f === 10 && wt === Wire.LEN) {
      const s = r.sub();
      while (!s.done()) {
        const [g, st] = s.tag();
        if (g === 1 && st === Wire.LEN) {
          const x = s.sub();
          let splitKey: Uint8Array = EMPTY;
          let newRegionId = 0;
          const newPeerIds: number[] = [];
          while (!x.done()) {
            const [h, xt] = x.tag();
            if (h === 1 && xt === Wire.LEN) splitKey = x.bytes();
            else if (h === 2 && xt === Wire.VARINT) newRegionId = x.varint();
            else if (h === 3) x.repeatedU64(xt, newPeerIds);
            else x.skip(xt);
          }
          splits.push({ splitKey, newRegionId, newPeerIds });
        } else if (g === 2 && st === Wire.VARINT) rightDerive = s.varint() !== 0;
        else s.skip(st);
      }
    } else if (f === 11 && wt === Wire.LEN) {
      const s = r.sub();
      while (!s.done()) {
        const [g, st] = s.tag();
        if (g === 1 && st === Wire.LEN) {
          const x = s.sub();
          let ct = 0;
          let peer: Peer = { id: 0, storeId: 0, role: 'Voter' };
          while (!x.done()) {
            const [h, xt] = x.tag();
            if (h === 1 && xt === Wire.VARINT) ct = x.varint();
            else if (h === 2 && xt === Wire.LEN) peer = readPeer(x.sub());
            else x.skip(xt);
          }
          const changeType = CHANGE_TYPES[ct];
          if (changeType === undefined) throw malformed('ChangePeerRequest.change_type');
          changes.push({ changeType, peer });
        } else s.skip(st);
      }
    } else r.skip(wt);
  }
  switch (cmdType) {
    case ADMIN_COMPACT_LOG:
      if (compact === undefined) throw malformed('CompactLog without its request');
      return compact;
    case ADMIN_BATCH_SPLIT:
      return { t: 'batchSplit', splits, rightDerive };
    case ADMIN_CHANGE_PEER_V2:
      return { t: 'changePeerV2', changes };
    case ADMIN_COMPUTE_HASH:
      return { t: 'computeHash' };
    case ADMIN_PREPARE_MERGE:
    case ADMIN_COMMIT_MERGE:
    case ADMIN_ROLLBACK_MERGE:
      if (merge === undefined || (cmdType === ADMIN_PREPARE_MERGE) !== (merge.t === 'prepareMerge')) throw malformed('merge command without its request');
      return merge;
    case ADMIN_VERIFY_HASH:
      if (verify === undefined) throw malformed('VerifyHash without its request');
      return verify;
    default:
      throw malformed(`admin command type ${cmdType}`);
  }
}

/** Decodes `mrkv.raftcmd.RaftCmdRequest` bytes. Throws `KV:Common:InvalidArgument` when malformed. */
export function decodeRaftCmd(bytes: Uint8Array): RaftCmd {
  const r = new PbReader(bytes);
  let header: CmdHeader | undefined;
  const requests: DataRequest[] = [];
  let admin: AdminCmd | undefined;
  while (!r.done()) {
    const f = r.next();
    const wt = r.wire;
    if (f === 1 && wt === Wire.LEN) {
      const outer = r.enter();
      header = readHeader(r);
      r.leave(outer);
    } else if (f === 2 && wt === Wire.LEN) {
      const outer = r.enter();
      requests.push(readRequest(r));
      r.leave(outer);
    } else if (f === 3 && wt === Wire.LEN) admin = readAdmin(r.sub());
    else r.skip(wt);
  }
  if (header === undefined) throw malformed('RaftCmdRequest without a header');
  return { header, requests, admin };
}
