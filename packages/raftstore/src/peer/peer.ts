/**
 * The state of one region peer on the raft system (raftstore-v2 `Peer`): a record of grouped
 * sub-records plus small accessors. It knows nothing of threads or I/O; `operation/` modules
 * change it and `fsm/peer-fsm.ts` dispatches to them.
 */
import type { Logger } from '@mrkv/common';
import { SeededRng } from '@mrkv/common';
import { ReadOnlyOption, RawNode, StateRole, type Message, type ReadState, type Snapshot, type HardState, type Entry } from '@mrkv/raft';
import type { Peer as PeerMeta, Region } from '@mrkv/proto';
import { findPeer } from '@mrkv/proto';
import type { RaftstoreConfig } from '../config.js';
import { Lease } from '../lease/lease.js';
import type { CmdCallback, Proposal, ReadIndexResult } from '../fsm/msgs.js';
import type { DataRequest } from '../wire/raft-cmd.js';
import { PeerStorage } from './peer-storage.js';

/** Data writes collected during one poll round, proposed together as one entry. */
export interface WriteBatchProposal {
  requests: DataRequest[];
  /** Each caller's callback with the range of `requests` that is theirs. */
  parts: Array<{ cb: CmdCallback; from: number; to: number }>;
  bytes: number;
}

/** A ReadIndex request in flight. */
export interface PendingRead {
  readonly uuid: Uint8Array;
  readonly key: string;
  readonly issuedAt: number;
  readonly issuedTick: number;
  /** The raft poll round it was issued in: reads of one round share one ReadIndex. */
  readonly round: number;
  readonly cbs: Array<(r: ReadIndexResult) => void>;
  /** Set once raft answered; the read waits until this index is applied. */
  index: number | undefined;
}

/** A Ready with a snapshot, parked while the apply side installs the snapshot data. */
export interface ApplyingSnapshot {
  readonly number: number;
  readonly snapshot: Snapshot;
  readonly entries: Entry[];
  readonly hardState: HardState | undefined;
  readonly persistedMessages: Message[];
  readonly committedEntries: Entry[];
}

export interface PeerInit {
  readonly storeId: number;
  readonly region: Region;
  readonly peerId: number;
  readonly storage: PeerStorage;
  readonly appliedIndex: number;
  readonly appliedTerm: number;
  readonly cfg: RaftstoreConfig;
  readonly seed: number;
  readonly logger: Logger;
}

export class Peer {
  readonly regionId: number;
  readonly peerId: number;
  readonly storeId: number;
  region: Region;
  readonly storage: PeerStorage;
  readonly rawNode: RawNode;
  readonly logger: Logger;

  /** Leader lease (leader only; expired otherwise). */
  readonly lease: Lease;
  /** Leader sub-record. */
  readonly leader = {
    /** Monotonic time this peer became leader (the term's first entry was proposed then). */
    since: 0,
    /** Whether the lease was renewed for the term's first committed entry. */
    renewedForTerm: false,
    /** Ticks since the last region heartbeat to PD. */
    heartbeatTicks: 0,
    /** Bytes and keys written through this leader since the last heartbeat (PD's hot-region input). */
    writtenBytes: 0,
    writtenKeys: 0,
    /** Last time (monotonic ms) the region heartbeat was sent. */
    lastHeartbeatAt: 0,
    /** A split check is running for this region. */
    splitChecking: false,
    /** The last heartbeat reported pending or down peers: report again soon (PD tracks operators by it). */
    hasPendingPeers: false,
    /** Last time (ms) each peer was heard from, for down-peer reports. */
    lastHeard: new Map<number, number>(),
  };
  /** Proposals not yet committed, in index order. */
  proposals: Proposal[] = [];
  /** Data writes of this round, not yet proposed. */
  batch: WriteBatchProposal | undefined;
  /** ReadIndex requests, by uuid key. */
  readonly reads = new Map<string, PendingRead>();
  private readSeq = 0;
  /** Applied index and term as the apply FSM last reported them. */
  applied: { index: number; term: number };
  /** Readies handed to this round's batch and not yet durable. */
  unpersistedReadies = 0;
  applyingSnapshot: ApplyingSnapshot | undefined;
  /** Peers heard from that are not (yet) in the local region (e.g. peers being added). */
  readonly peerCache = new Map<number, PeerMeta>();
  /** Consistency check state: hashes by index, leader hashes waiting for ours, the last verdict. */
  readonly consistency = {
    hashes: new Map<number, Uint8Array>(),
    expected: new Map<number, Uint8Array>(),
    last: undefined as { index: number; ok: boolean } | undefined,
  };
  /** Set while this region is the frozen source of a merge (PrepareMerge applied). */
  merging: import('../wire/local-state.js').MergeState | undefined;
  /** Tick of the last attempt to get CommitMerge proposed on the target. */
  mergeRetryTick = 0;
  /** CatchUpLogs entries were handed to the apply FSM (once). */
  catchingUp = false;
  /** The newest ReadIndex request, which reads arriving in the same round join. */
  lastRead: PendingRead | undefined;
  /** A lease read was served since the last tick (keeps the lease renewed while reads continue). */
  leaseReadSinceTick = false;
  /**
   * The last non-Normal disk usage each other peer of the region reported on its raft messages
   * (operation/disk-usage.ts); a peer reporting Normal is removed.
   */
  readonly peerDiskUsage = new Map<number, import('../operation/disk-usage.js').DiskUsage>();
  /** Followers this leader holds appends to (their stores are AlreadyFull; operation/disk-usage.ts). */
  readonly appendsHeld = new Set<number>();
  /**
   * Snapshots sent to followers and not yet acknowledged: peer id → the snapshot's index and the
   * tick it went out at. Raft log GC keeps the entries right after it (operation/tick.ts).
   */
  readonly snapshotsSent = new Map<number, { index: number; tick: number }>();
  /** Raft ticks since start. */
  ticks = 0;
  destroyed = false;
  /** Set once destruction started (the peer ignores further work). */
  pendingRemove = false;

  constructor(init: PeerInit) {
    this.regionId = init.region.id;
    this.peerId = init.peerId;
    this.storeId = init.storeId;
    this.region = init.region;
    this.storage = init.storage;
    this.logger = init.logger;
    this.applied = { index: init.appliedIndex, term: init.appliedTerm };
    this.lease = new Lease(init.cfg.maxLeaderLeaseMs);
    this.rawNode = new RawNode(
      {
        id: init.peerId,
        electionTick: init.cfg.raftElectionTimeoutTicks,
        heartbeatTick: init.cfg.raftHeartbeatTicks,
        applied: init.appliedIndex,
        maxSizePerMsg: init.cfg.raftMaxSizePerMsg,
        maxInflightMsgs: init.cfg.raftMaxInflightMsgs,
        maxUncommittedEntriesSize: init.cfg.maxUncommittedEntriesSize,
        checkQuorum: true,
        preVote: true,
        readOnlyOption: ReadOnlyOption.Safe,
        rng: new SeededRng(init.seed),
        logger: init.logger,
      },
      init.storage,
    );
  }

  get isLeader(): boolean {
    return this.rawNode.raftState === StateRole.Leader;
  }

  get term(): number {
    return this.rawNode.term;
  }

  /** Whether the region's range and peers are known (an uninitialized peer waits for a snapshot). */
  get isInitialized(): boolean {
    return this.region.peers.length > 0;
  }

  /** This peer's metadata. */
  get meta(): PeerMeta {
    return findPeer(this.region, this.peerId) ?? { id: this.peerId, storeId: this.storeId, role: 'Voter' };
  }

  /** The metadata of another peer of the region, if known. */
  peerById(id: number): PeerMeta | undefined {
    return findPeer(this.region, id) ?? this.peerCache.get(id);
  }

  /** The leader's metadata, if a leader is known. */
  leaderMeta(): PeerMeta | undefined {
    const lead = this.rawNode.lead;
    return lead === 0 ? undefined : this.peerById(lead);
  }

  /** A fresh ReadIndex request context. */
  nextReadUuid(): Uint8Array {
    this.readSeq++;
    const u = new Uint8Array(16);
    const v = new DataView(u.buffer);
    v.setUint32(0, this.peerId % 2 ** 32);
    v.setFloat64(8, this.readSeq);
    return u;
  }

  /** Whether a read on this leader may use its lease now (TiKV `LocalReader` checks). */
  canLeaseRead(now: number): boolean {
    return this.isLeader && this.applied.term === this.rawNode.term && this.lease.inspect(now) === 'valid' && this.applyingSnapshot === undefined;
  }

  /** The read state the given ReadState answers, if any. */
  readFor(rs: ReadState): PendingRead | undefined {
    return this.reads.get(readKey(rs.requestCtx));
  }
}

/** Map key of a ReadIndex uuid. */
export function readKey(uuid: Uint8Array): string {
  return Buffer.from(uuid.buffer, uuid.byteOffset, uuid.length).toString('hex');
}
