/**
 * mrkv's domain view of metapb: regions, peers, epochs and stores with numeric ids and Uint8Array
 * keys, plus converters to and from the wire objects and the small region helpers every layer
 * needs (key containment, epoch comparison).
 *
 * `*FromWire` functions are gateway code: they accept the decoded objects of load.ts/codec.ts (or
 * hand-built wire objects) and throw a typed ProtoError for values mrkv cannot represent (an id at
 * or beyond 2^53, an unknown enum value, a region without an epoch). Interior code trusts domain
 * values. Keys are copied, so a domain object never pins a larger decoded buffer.
 */
import { compareBytes } from '@mrkv/common';
import { ProtoCodes, ProtoError } from './errors.js';
import { wireBytes, wireEnum, wireI64, wireI64Big, wireU64 } from './wire-values.js';
import type { Peer as WirePeer } from './generated/metapb/Peer.js';
import type { Region as WireRegion } from './generated/metapb/Region.js';
import type { RegionEpoch as WireRegionEpoch } from './generated/metapb/RegionEpoch.js';
import type { Store as WireStore } from './generated/metapb/Store.js';

/** metapb.PeerRole. IncomingVoter and DemotingVoter exist only in a joint configuration. */
export type PeerRole = 'Voter' | 'Learner' | 'IncomingVoter' | 'DemotingVoter';
/** Names of metapb.PeerRole in value order. */
export const PEER_ROLES: readonly PeerRole[] = ['Voter', 'Learner', 'IncomingVoter', 'DemotingVoter'];

/** metapb.StoreState. */
export type StoreState = 'Up' | 'Offline' | 'Tombstone';
/** Names of metapb.StoreState in value order. */
export const STORE_STATES: readonly StoreState[] = ['Up', 'Offline', 'Tombstone'];

/** metapb.NodeState (the successor of StoreState). */
export type NodeState = 'Preparing' | 'Serving' | 'Removing' | 'Removed';
/** Names of metapb.NodeState in value order. */
export const NODE_STATES: readonly NodeState[] = ['Preparing', 'Serving', 'Removing', 'Removed'];

/** One replica of a region. Witness peers are not an mrkv feature, so `is_witness` is dropped. */
export interface Peer {
  id: number;
  storeId: number;
  role: PeerRole;
}

/** Region version vector: confVer grows with membership changes, version with splits and merges. */
export interface RegionEpoch {
  confVer: number;
  version: number;
}

/**
 * A region: keys in [startKey, endKey); an empty endKey means +infinity (and an empty startKey
 * -infinity). The flashback fields of metapb.Region are not mirrored in the domain.
 */
export interface Region {
  id: number;
  startKey: Uint8Array;
  endKey: Uint8Array;
  regionEpoch: RegionEpoch;
  peers: Peer[];
}

/** A placement label of a store (zone, rack, host, ...). */
export interface StoreLabel {
  key: string;
  value: string;
}

/** A store as PD registers it. */
export interface Store {
  id: number;
  /** Client address (tikvpb.Tikv). */
  address: string;
  state: StoreState;
  labels: StoreLabel[];
  version: string;
  /** Raft address; empty means the same as `address`. */
  peerAddress: string;
  statusAddress: string;
  gitHash: string;
  /** Unix seconds. */
  startTimestamp: number;
  deployPath: string;
  /** Unix nanoseconds (needs 64 bits). */
  lastHeartbeat: bigint;
  physicallyDestroyed: boolean;
  nodeState: NodeState;
}

/**
 * A `metapb.Store` with the defaults a fresh, serving store has (Up, no labels, no heartbeat
 * yet); `fields` overrides any of them.
 */
export function newStore(id: number, address: string, fields: Partial<Omit<Store, 'id' | 'address'>> = {}): Store {
  return {
    id,
    address,
    state: 'Up',
    labels: [],
    version: '',
    peerAddress: '',
    statusAddress: '',
    gitHash: '',
    startTimestamp: 0,
    deployPath: '',
    lastHeartbeat: 0n,
    physicallyDestroyed: false,
    nodeState: 'Serving',
    ...fields,
  };
}

// ---- Converters ----

/** A metapb.Peer from the wire (decoded or hand-built). Throws ProtoError on bad ids or roles. */
export function peerFromWire(w: WirePeer): Peer {
  return {
    id: wireU64(w.id, 'Peer.id'),
    storeId: wireU64(w.storeId, 'Peer.store_id'),
    role: wireEnum(PEER_ROLES, w.role, 'Peer.role'),
  };
}

/** The metapb.Peer for a domain peer (`is_witness` is always false in mrkv). */
export function peerToWire(p: Peer): WirePeer {
  return { id: p.id, storeId: p.storeId, role: p.role };
}

/** A metapb.RegionEpoch from the wire. */
export function epochFromWire(w: WireRegionEpoch): RegionEpoch {
  return { confVer: wireU64(w.confVer, 'RegionEpoch.conf_ver'), version: wireU64(w.version, 'RegionEpoch.version') };
}

/** The metapb.RegionEpoch for a domain epoch. */
export function epochToWire(e: RegionEpoch): WireRegionEpoch {
  return { confVer: e.confVer, version: e.version };
}

/**
 * A metapb.Region from the wire, with copied keys. Throws `KV:Proto:MissingField` for a region
 * without an epoch (every real region has one) and other ProtoErrors for bad ids or roles.
 */
export function regionFromWire(w: WireRegion): Region {
  if (w.regionEpoch === null || w.regionEpoch === undefined) {
    throw new ProtoError(ProtoCodes.MISSING_FIELD, `Region ${String(w.id)} has no region_epoch`, {
      details: { field: 'Region.region_epoch' },
    });
  }
  return {
    id: wireU64(w.id, 'Region.id'),
    startKey: wireBytes(w.startKey),
    endKey: wireBytes(w.endKey),
    regionEpoch: epochFromWire(w.regionEpoch),
    peers: (w.peers ?? []).map(peerFromWire),
  };
}

/** The metapb.Region for a domain region (flashback fields unset). */
export function regionToWire(r: Region): WireRegion {
  return {
    id: r.id,
    startKey: r.startKey,
    endKey: r.endKey,
    regionEpoch: epochToWire(r.regionEpoch),
    peers: r.peers.map(peerToWire),
  };
}

/** A metapb.Store from the wire. Throws ProtoError on bad ids, timestamps or states. */
export function storeFromWire(w: WireStore): Store {
  return {
    id: wireU64(w.id, 'Store.id'),
    address: w.address ?? '',
    state: wireEnum(STORE_STATES, w.state, 'Store.state'),
    labels: (w.labels ?? []).map((l) => ({ key: l.key ?? '', value: l.value ?? '' })),
    version: w.version ?? '',
    peerAddress: w.peerAddress ?? '',
    statusAddress: w.statusAddress ?? '',
    gitHash: w.gitHash ?? '',
    startTimestamp: wireI64(w.startTimestamp, 'Store.start_timestamp'),
    deployPath: w.deployPath ?? '',
    lastHeartbeat: wireI64Big(w.lastHeartbeat, 'Store.last_heartbeat'),
    physicallyDestroyed: w.physicallyDestroyed ?? false,
    nodeState: wireEnum(NODE_STATES, w.nodeState, 'Store.node_state'),
  };
}

/** The metapb.Store for a domain store. */
export function storeToWire(s: Store): WireStore {
  return {
    id: s.id,
    address: s.address,
    state: s.state,
    labels: s.labels.map((l) => ({ key: l.key, value: l.value })),
    version: s.version,
    peerAddress: s.peerAddress,
    statusAddress: s.statusAddress,
    gitHash: s.gitHash,
    startTimestamp: s.startTimestamp,
    deployPath: s.deployPath,
    lastHeartbeat: s.lastHeartbeat.toString(),
    physicallyDestroyed: s.physicallyDestroyed,
    nodeState: s.nodeState,
  };
}

// ---- Region helpers ----

/** True if `key` lies in [region.startKey, region.endKey), with an empty end key as +infinity. */
export function regionContainsKey(region: Pick<Region, 'startKey' | 'endKey'>, key: Uint8Array): boolean {
  if (compareBytes(key, region.startKey) < 0) return false;
  return region.endKey.length === 0 || compareBytes(key, region.endKey) < 0;
}

/** How two epochs relate. Epochs are only partially ordered: each component moves on its own. */
export type EpochOrder = 'equal' | 'older' | 'newer' | 'diverged';

/** Orders `a` relative to `b`: 'older' when no component of `a` is newer and one is older, etc. */
export function compareEpoch(a: RegionEpoch, b: RegionEpoch): EpochOrder {
  const v = Math.sign(a.version - b.version);
  const c = Math.sign(a.confVer - b.confVer);
  if (v === 0 && c === 0) return 'equal';
  if (v <= 0 && c <= 0) return 'older';
  if (v >= 0 && c >= 0) return 'newer';
  return 'diverged';
}

/**
 * True if `epoch` is behind `current` in either component (TiKV's `is_epoch_stale`): a region
 * carrying it must not overwrite `current`, and a heartbeat carrying it is dropped.
 */
export function isEpochStale(epoch: RegionEpoch, current: RegionEpoch): boolean {
  return epoch.version < current.version || epoch.confVer < current.confVer;
}

/**
 * The epoch check of a request against the region it runs on (reference §2.9): the components
 * named in `check` must be equal. Normal reads and writes check `version` only; conf changes
 * check `confVer`; split and merge check both.
 */
export function epochMatches(request: RegionEpoch, current: RegionEpoch, check: { version: boolean; confVer: boolean }): boolean {
  if (check.version && request.version !== current.version) return false;
  if (check.confVer && request.confVer !== current.confVer) return false;
  return true;
}

/** A deep copy: keys, epoch and peers are fresh objects. */
export function cloneRegion(r: Region): Region {
  return {
    id: r.id,
    startKey: new Uint8Array(r.startKey),
    endKey: new Uint8Array(r.endKey),
    regionEpoch: { confVer: r.regionEpoch.confVer, version: r.regionEpoch.version },
    peers: r.peers.map((p) => ({ id: p.id, storeId: p.storeId, role: p.role })),
  };
}

/** The region's peer on `storeId`, if any. */
export function findPeerOnStore(region: Region, storeId: number): Peer | undefined {
  return region.peers.find((p) => p.storeId === storeId);
}

/** The region's peer with id `peerId`, if any. */
export function findPeer(region: Region, peerId: number): Peer | undefined {
  return region.peers.find((p) => p.id === peerId);
}
