/**
 * What every peer and apply FSM of one store shares: identity, config, clock, engines, transport,
 * PD, mailboxes, and the state of the current raft poll round (the write batch that group-commits
 * every peer's entries and hard state, the messages to send after it is durable).
 */
import type { Clock, Logger, Rng } from '@mrkv/common';
import type { KvEngine, RaftLogBatch, RaftLogEngine } from '@mrkv/engine';
import type { Message } from '@mrkv/raft';
import type { RaftstoreConfig } from '../config.js';
import type { ApplyMsg, PeerMsg } from '../fsm/msgs.js';
import type { DiskSpace, DiskSpaceReading, DiskUsage } from '../operation/disk-usage.js';
import type { PdApi, RaftTransport } from './api.js';
import type { StoreMeta } from './meta.js';
import type { ObserverRegistry } from './observer.js';

/** A Ready whose writes are in this round's batch. */
export interface PersistRecord {
  readonly regionId: number;
  readonly number: number;
  readonly messages: readonly Message[];
}

/** The raft system's per-round state. */
export interface RaftRound {
  batch: RaftLogBatch | undefined;
  sync: boolean;
  persisted: PersistRecord[];
  /** Encoded RaftMessages per destination store, flushed at the end of the round. */
  outbox: Map<number, Uint8Array[]>;
}

/** Counters shown in metrics and used by benchmarks. */
export interface RaftstoreCounters {
  raftRounds: number;
  raftWrites: number;
  raftSyncs: number;
  proposals: number;
  proposedCommands: number;
  appliedEntries: number;
  applyWrites: number;
  leaseReads: number;
  readIndexReads: number;
  /** ReadIndex rounds raft was asked for (reads of a round share one). */
  readIndexRounds: number;
  messagesSent: number;
  messagesReceived: number;
  snapshotsSent: number;
  snapshotsApplied: number;
  consistencyMismatches: number;
  /** Times the store's disk usage changed (operation/disk-usage.ts). */
  diskUsageChanges: number;
  /** Client writes refused with DiskFull. */
  diskFullRefusals: number;
}

/** The store's disk space and the usage derived from it (operation/disk-usage.ts). */
export interface StoreDiskState {
  /** Where readings come from; undefined = not watched (always Normal). */
  readonly space: DiskSpace | undefined;
  /** The usage as of the last store tick; sent on every RaftMessage. */
  usage: DiskUsage;
  /** The last reading (for /status and metrics). */
  reading: DiskSpaceReading | undefined;
}

export interface StoreContext {
  readonly storeId: number;
  readonly cfg: RaftstoreConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly rng: Rng;
  readonly kvEngine: KvEngine;
  readonly raftEngine: RaftLogEngine;
  readonly transport: RaftTransport;
  readonly pd: PdApi | undefined;
  readonly meta: StoreMeta;
  readonly observers: ObserverRegistry;
  readonly counters: RaftstoreCounters;
  /** The store's disk usage (refreshed every store tick). */
  readonly disk: StoreDiskState;
  round: RaftRound;
  /** Mails a peer FSM; false when there is no such peer. */
  sendPeer(regionId: number, msg: PeerMsg): boolean;
  /** The apply progress of a local region (merge waits on it), or undefined. */
  applyProgress(regionId: number): { appliedIndex: number; region: import('@mrkv/proto').Region; markMerged(): void } | undefined;
  /** Mails an apply FSM; false when there is no such FSM. */
  sendApply(regionId: number, msg: ApplyMsg): boolean;
  /** Streams a snapshot message (MsgSnap) to a store, reporting the outcome to the peer. */
  sendSnapshot(regionId: number, toPeerId: number, toStoreId: number, encoded: Uint8Array, data: Uint8Array): void;
  /** Removes a destroyed peer from the raft system (its apply FSM leaves after its `destroy`). */
  removePeer(regionId: number): void;
  /**
   * An I/O failure in a poll round: acknowledgements can no longer be trusted, so the store must
   * stop (the process exits in production). Ignored once the store was killed (tests).
   */
  fatal(err: unknown): void;
  /** Creates the peer of a region that a split of a local region produced (split.ts). */
  createSplitPeer(region: import('@mrkv/proto').Region, campaign: boolean): void;
}

export function newRound(): RaftRound {
  return { batch: undefined, sync: false, persisted: [], outbox: new Map() };
}

export function newCounters(): RaftstoreCounters {
  return {
    raftRounds: 0,
    raftWrites: 0,
    raftSyncs: 0,
    proposals: 0,
    proposedCommands: 0,
    appliedEntries: 0,
    applyWrites: 0,
    leaseReads: 0,
    readIndexReads: 0,
    readIndexRounds: 0,
    messagesSent: 0,
    messagesReceived: 0,
    snapshotsSent: 0,
    snapshotsApplied: 0,
    consistencyMismatches: 0,
    diskUsageChanges: 0,
    diskFullRefusals: 0,
  };
}
