/**
 * Raftstore configuration (TiKV `store/config.rs`, reference §2.10), validated with zod. Times
 * are milliseconds, sizes bytes. `validateRaftstoreConfig` applies TiKV's cross-field rules, such
 * as `max_leader_lease ≤ election_timeout − 1 tick`, and names the offending fields.
 */
import { CommonCodes, MrkvError } from '@mrkv/common';
import { z } from 'zod';

const MiB = 1024 * 1024;

export const raftstoreConfigSchema = z.object({
  /** Length of one raft tick. TiKV's default is 1 s; tests use 10–100 ms. */
  raftBaseTickMs: z.number().positive().default(1000),
  /** Ticks between leader heartbeats. */
  raftHeartbeatTicks: z.number().int().positive().default(2),
  /** Election timeout in ticks; the randomized timeout is in [this, 2×this). */
  raftElectionTimeoutTicks: z.number().int().positive().default(10),
  /** The leader lease. Must be ≤ election timeout − 1 tick (clock-drift margin). */
  maxLeaderLeaseMs: z.number().positive().default(9000),
  /** Extra margin the kv owner keeps when it checks a lease right before reading. */
  leaseReadMarginMs: z.number().nonnegative().default(100),
  raftMaxSizePerMsg: z.number().int().positive().default(1 * MiB),
  raftMaxInflightMsgs: z.number().int().positive().default(256),
  /** Largest raft entry; bigger proposals fail with RaftEntryTooLarge. */
  raftEntryMaxSize: z.number().int().positive().default(8 * MiB),
  /** Bound on the leader's uncommitted log (entries beyond it are dropped as ProposalDropped). */
  maxUncommittedEntriesSize: z.number().int().positive().default(128 * MiB),
  /** Raft log GC tick and thresholds (reference §2.8). */
  raftLogGcTickMs: z.number().positive().default(3000),
  raftLogGcThreshold: z.number().int().positive().default(50),
  raftLogGcCountLimit: z.number().int().positive().default(73_728),
  raftLogGcSizeLimit: z.number().int().positive().default(72 * MiB),
  raftLogReserveMaxTicks: z.number().int().positive().default(6),
  /**
   * How long raft log GC keeps the entries after a snapshot sent to a follower that has not
   * acknowledged it yet (operation/tick.ts `snapshotHold`); a follower that stops answering
   * releases it at once.
   */
  raftLogSnapshotHoldMs: z.number().positive().default(60_000),
  /** PD heartbeats. */
  pdHeartbeatTickMs: z.number().positive().default(60_000),
  pdStoreHeartbeatTickMs: z.number().positive().default(10_000),
  /** Split checking (sizes of the pre-v8.3 TiKV defaults, which suit small machines). */
  splitRegionCheckTickMs: z.number().positive().default(10_000),
  regionSplitSize: z.number().int().positive().default(96 * MiB),
  regionMaxSize: z.number().int().positive().default(144 * MiB),
  regionSplitKeys: z.number().int().positive().default(960_000),
  regionMaxKeys: z.number().int().positive().default(1_440_000),
  /** Peers silent longer than this are reported down to PD. */
  maxPeerDownDurationMs: z.number().positive().default(10 * 60_000),
  /** Leader transfer gives up after this many election timeouts' worth of ticks. */
  leaderTransferMaxLogLag: z.number().int().nonnegative().default(128),
  rightDeriveWhenSplit: z.boolean().default(true),
  /** Client request limits. */
  maxKeySize: z.number().int().positive().default(8 * 1024),
  maxBatchKeys: z.number().int().positive().default(100_000),
  maxScanLimit: z.number().int().positive().default(100_000),
  /** Batch system. */
  raftPoolSize: z.number().int().positive().default(1),
  applyPoolSize: z.number().int().positive().default(1),
  maxBatchSize: z.number().int().positive().default(256),
  messagesPerTick: z.number().int().positive().default(4096),
  /** Capacity of the cross-thread lease table (regions per store). */
  leaseTableCapacity: z.number().int().positive().default(65_536),
  /**
   * Proposals a region may have waiting for commit and apply; beyond it writes are refused with
   * ServerIsBusy so clients back off instead of piling up behind a slow quorum or disk.
   */
  maxPendingProposals: z.number().int().positive().default(8192),
  /** Snapshots this store streams out / takes in at once; more are refused and retried later. */
  snapMaxConcurrentSends: z.number().int().positive().default(4),
  snapMaxConcurrentRecvs: z.number().int().positive().default(4),
  /** Largest snapshot this store accepts (bytes). */
  snapMaxSize: z.number().int().positive().default(1024 * MiB),
  /**
   * Free space kept for the raft log and admin work (TiKV `storage.reserve-space`): at or below
   * it the store is AlreadyFull and its leaders refuse client writes with DiskFull. Absent:
   * min(5 GiB, 5 % of capacity). 0 disables disk-space protection.
   */
  diskReserveSpace: z.number().int().nonnegative().optional(),
  /** Width of the AlmostFull band above the reserve (bytes). Absent: half the reserve. */
  diskAlmostFullSpace: z.number().int().nonnegative().optional(),
});

export type RaftstoreConfig = z.output<typeof raftstoreConfigSchema>;

/** Parses and validates a raftstore config (defaults for everything missing). */
export function makeRaftstoreConfig(input: Partial<RaftstoreConfig> = {}): RaftstoreConfig {
  const parsed = raftstoreConfigSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new MrkvError(CommonCodes.INVALID_CONFIG, `invalid raftstore config: ${problems.join('; ')}`, { details: { problems } });
  }
  validateRaftstoreConfig(parsed.data);
  return parsed.data;
}

/** TiKV's cross-field rules. Throws MrkvError(INVALID_CONFIG) naming the fields. */
export function validateRaftstoreConfig(c: RaftstoreConfig): void {
  const problems: string[] = [];
  const electionMs = c.raftBaseTickMs * c.raftElectionTimeoutTicks;
  if (c.raftHeartbeatTicks >= c.raftElectionTimeoutTicks) {
    problems.push(`raft-heartbeat-ticks (${c.raftHeartbeatTicks}) must be < raft-election-timeout-ticks (${c.raftElectionTimeoutTicks})`);
  }
  if (c.maxLeaderLeaseMs > electionMs - c.raftBaseTickMs) {
    problems.push(
      `max-leader-lease-ms (${c.maxLeaderLeaseMs}) must be ≤ election timeout − 1 tick (${electionMs - c.raftBaseTickMs} ms)`,
    );
  }
  if (c.leaseReadMarginMs >= c.maxLeaderLeaseMs) {
    problems.push(`lease-read-margin-ms (${c.leaseReadMarginMs}) must be < max-leader-lease-ms (${c.maxLeaderLeaseMs})`);
  }
  if (c.regionSplitSize > c.regionMaxSize) problems.push('region-split-size must be ≤ region-max-size');
  if (c.regionSplitKeys > c.regionMaxKeys) problems.push('region-split-keys must be ≤ region-max-keys');
  if (c.raftEntryMaxSize > 64 * MiB) problems.push('raft-entry-max-size must be ≤ 64 MiB (the gRPC message limit)');
  if (problems.length > 0) {
    throw new MrkvError(CommonCodes.INVALID_CONFIG, `invalid raftstore config: ${problems.join('; ')}`, { details: { problems } });
  }
}

/** Fast timings for tests and the simulator (TiKV's `common-test.toml` spirit). */
export function testRaftstoreConfig(overrides: Partial<RaftstoreConfig> = {}): RaftstoreConfig {
  return makeRaftstoreConfig({
    raftBaseTickMs: 50,
    raftHeartbeatTicks: 2,
    raftElectionTimeoutTicks: 10,
    maxLeaderLeaseMs: 400,
    leaseReadMarginMs: 20,
    raftLogGcTickMs: 500,
    pdHeartbeatTickMs: 500,
    pdStoreHeartbeatTickMs: 500,
    splitRegionCheckTickMs: 500,
    ...overrides,
  });
}
