/**
 * Disk-space protection (TiKV `storage.reserve-space`, `disk_usage::DiskUsage`,
 * `Peer::check_proposal_with_disk_full_opt`, `errorpb.DiskFull`): a store that runs low on space
 * stops taking client writes with a typed error before its disk is really full, keeps serving
 * reads and admin commands, and takes writes again by itself when space returns. A raft-log or kv
 * write that still fails with ENOSPC stays fatal (fail-stop; see the store context's `fatal`).
 *
 * Process overview:
 *   1. the store reads its {@link DiskSpace} (free and total bytes of the data directory, cached
 *      by whoever polls the file system, so the read is a field read) on every store tick and
 *      turns it into a {@link DiskUsage} (`refreshStoreDiskUsage`): `AlreadyFull` once the free
 *      space is at or below the reserve, `AlmostFull` within the almost-full band above it,
 *      `Normal` otherwise; a reserve of 0 disables the check;
 *   2. every RaftMessage the store sends carries its usage (`RaftMessage.disk_usage = 12`), and
 *      every peer remembers the last usage each other peer of its region reported
 *      (`recordPeerDiskUsage`; only non-Normal ones are kept);
 *   3. a leader checks each client data write before proposing it (`checkDiskFull`): refused
 *      with `DiskFull { store_id: [full stores], reason }` when its own store is full, or when
 *      the voters that are not full cannot form a quorum (in each half of a joint configuration).
 *      `disk_full_opt` widens what counts as "not full" (AllowedOnAlmostFull lets AlmostFull
 *      stores count; AllowedOnAlreadyFull lets every store count);
 *   4. admin commands (conf change, compact log, split, merge, leader transfer) and reads are
 *      never checked, so the region can still shrink its log and move away from a full store
 *      (they write into the reserve); a leader holds appends to full followers while the others
 *      are a quorum ({@link updateAppendHolds}). The refusal happens before the
 *      write is proposed, so a DiskFull answer is definitive: nothing of it was applied.
 */
import { DiskFullError } from '@mrkv/proto';
import type { Peer } from '../peer/peer.js';
import type { StoreContext } from '../store/context.js';

/** `disk_usage.DiskUsage` (kvproto): how full a store's disk is. */
export type DiskUsage = 'Normal' | 'AlmostFull' | 'AlreadyFull';

/** The DiskUsage names in wire-value order (Normal = 0, AlmostFull = 1, AlreadyFull = 2). */
export const DISK_USAGES: readonly DiskUsage[] = ['Normal', 'AlmostFull', 'AlreadyFull'];

/** `kvrpcpb.DiskFullOpt`: which disk usages a client write tolerates (default NotAllowedOnFull). */
export type DiskFullOpt = 'NotAllowedOnFull' | 'AllowedOnAlmostFull' | 'AllowedOnAlreadyFull';

/** One reading of the data directory's file system. */
export interface DiskSpaceReading {
  /** Total bytes of the file system. */
  readonly capacity: number;
  /** Bytes an unprivileged writer can still use. */
  readonly available: number;
}

/**
 * Free and total space of the store's data directory. `read` must be cheap (it runs on the raft
 * thread every tick): a real implementation polls the file system in the background and returns
 * its last reading. Undefined means "not known yet" and counts as Normal.
 */
export interface DiskSpace {
  read(): DiskSpaceReading | undefined;
}

const GiB = 1024 * 1024 * 1024;

/** The default reserve: min(5 GiB, 5 % of capacity), as TiKV sizes `storage.reserve-space`. */
export function defaultReserveSpace(capacity: number): number {
  return Math.min(5 * GiB, Math.floor(capacity * 0.05));
}

/** The reserve and almost-full band in effect for a reading (config absent = defaults). */
export function diskThresholds(
  reading: DiskSpaceReading,
  cfg: { readonly diskReserveSpace?: number | undefined; readonly diskAlmostFullSpace?: number | undefined },
): { reserve: number; almostFull: number } {
  const reserve = cfg.diskReserveSpace ?? defaultReserveSpace(reading.capacity);
  const band = cfg.diskAlmostFullSpace ?? Math.floor(reserve / 2);
  return { reserve, almostFull: reserve === 0 ? 0 : reserve + band };
}

/**
 * The usage of a reading: AlreadyFull at or below the reserve, AlmostFull at or below reserve +
 * band, Normal above (and always Normal with a reserve of 0 or no reading).
 */
export function diskUsageOf(
  reading: DiskSpaceReading | undefined,
  cfg: { readonly diskReserveSpace?: number | undefined; readonly diskAlmostFullSpace?: number | undefined },
): DiskUsage {
  if (reading === undefined) return 'Normal';
  const t = diskThresholds(reading, cfg);
  if (t.reserve === 0) return 'Normal';
  if (reading.available <= t.reserve) return 'AlreadyFull';
  if (reading.available <= t.almostFull) return 'AlmostFull';
  return 'Normal';
}

/**
 * Re-reads the store's disk space and updates `ctx.disk` (store tick). Logs each change of usage:
 * a warning when writes start being refused, info when they are taken again.
 */
export function refreshStoreDiskUsage(ctx: StoreContext): void {
  const disk = ctx.disk;
  if (disk.space === undefined) return;
  const reading = disk.space.read();
  disk.reading = reading;
  const usage = diskUsageOf(reading, ctx.cfg);
  if (usage === disk.usage) return;
  const fields = { from: disk.usage, to: usage, available: reading?.available, capacity: reading?.capacity };
  if (usage === 'Normal') ctx.logger.info(fields, 'disk space back to normal; client writes accepted again');
  else ctx.logger.warn(fields, 'disk space low; client writes refused with DiskFull, reads and admin commands continue');
  disk.usage = usage;
  ctx.counters.diskUsageChanges++;
}

/** Notes the disk usage another peer of the region reported on a raft message. */
export function recordPeerDiskUsage(peer: Peer, fromPeerId: number, usage: DiskUsage): void {
  if (usage === 'Normal') peer.peerDiskUsage.delete(fromPeerId);
  else peer.peerDiskUsage.set(fromPeerId, usage);
}

/** Whether a store at `usage` may take a write that tolerates `opt`. */
function allowed(usage: DiskUsage, opt: DiskFullOpt): boolean {
  if (usage === 'Normal' || opt === 'AllowedOnAlreadyFull') return true;
  return usage === 'AlmostFull' && opt === 'AllowedOnAlmostFull';
}

/** The voter sets of the region's configuration: one, or two while joint (incoming, outgoing). */
function voterSets(peer: Peer): number[][] {
  const incoming: number[] = [];
  const outgoing: number[] = [];
  let joint = false;
  for (const p of peer.region.peers) {
    if (p.role === 'Voter' || p.role === 'IncomingVoter') incoming.push(p.id);
    if (p.role === 'Voter' || p.role === 'DemotingVoter') outgoing.push(p.id);
    if (p.role === 'IncomingVoter' || p.role === 'DemotingVoter') joint = true;
  }
  return joint ? [incoming, outgoing] : [incoming];
}

/**
 * The first voter set (of one, or two while joint) in which the voters passing `ok` are no
 * quorum, with their count; undefined when they are a quorum in every set.
 */
function setWithoutQuorum(peer: Peer, ok: (peerId: number) => boolean): { ok: number; voters: number } | undefined {
  for (const voters of voterSets(peer)) {
    let n = 0;
    for (const id of voters) if (ok(id)) n++;
    if (n <= voters.length / 2) return { ok: n, voters: voters.length };
  }
  return undefined;
}

/**
 * The DiskFull refusal for a client data write on this leader, or undefined when it may be
 * proposed (TiKV `check_proposal_with_disk_full_opt`): refused when the leader's own store does
 * not allow it, or when the voters whose stores allow it are no quorum.
 */
export function checkDiskFull(peer: Peer, ctx: StoreContext, opt: DiskFullOpt = 'NotAllowedOnFull'): DiskFullError | undefined {
  const own = ctx.disk.usage;
  if (own === 'Normal' && peer.peerDiskUsage.size === 0) return undefined;
  if (!allowed(own, opt)) {
    return new DiskFullError({
      storeIds: [ctx.storeId, ...fullStores(peer, opt)],
      reason: `store ${ctx.storeId} is ${own}: region ${peer.regionId} refuses writes (disk_full_opt ${opt})`,
    });
  }
  const short = setWithoutQuorum(peer, (id) => allowed(id === peer.peerId ? own : (peer.peerDiskUsage.get(id) ?? 'Normal'), opt));
  if (short === undefined) return undefined;
  return new DiskFullError({
    storeIds: fullStores(peer, opt),
    reason: `region ${peer.regionId}: only ${short.ok} of ${short.voters} voters have disk space, no quorum (disk_full_opt ${opt})`,
  });
}

/**
 * A leader sends no appends (nor snapshots) to followers whose store is AlreadyFull, only
 * heartbeats (TiKV: "follower full: the leader stops appending to it; it still votes"), so a full
 * follower does not write on into its reserve. Only while the leader and the other voters still
 * make a quorum in every voter set: otherwise nobody is held, so the admin commands a full
 * majority still allows (conf changes, splits, leader transfer) can commit. Released as soon as
 * the follower reports space again (its heartbeat answers carry its usage); it then gets what it
 * missed. Called on every leader tick: holds are re-applied after an election or conf change.
 */
export function updateAppendHolds(peer: Peer): void {
  if (peer.peerDiskUsage.size === 0 && peer.appendsHeld.size === 0) return;
  const hold = new Set<number>();
  for (const [id, usage] of peer.peerDiskUsage) if (usage === 'AlreadyFull' && id !== peer.peerId) hold.add(id);
  if (hold.size > 0 && setWithoutQuorum(peer, (id) => !hold.has(id)) !== undefined) hold.clear();
  for (const id of peer.appendsHeld) {
    if (hold.has(id)) continue;
    peer.appendsHeld.delete(id);
    peer.rawNode.holdAppends(id, false);
    peer.logger.info({ follower: id }, 'appends to the follower resumed (its store has space again)');
  }
  for (const id of hold) {
    peer.rawNode.holdAppends(id, true);
    if (peer.appendsHeld.has(id)) continue;
    peer.appendsHeld.add(id);
    peer.logger.warn({ follower: id }, 'appends to the follower held: its store is AlreadyFull');
  }
}

/** The stores of the region's other peers whose reported usage does not allow a write with `opt`. */
function fullStores(peer: Peer, opt: DiskFullOpt): number[] {
  const out: number[] = [];
  for (const [id, usage] of peer.peerDiskUsage) {
    if (allowed(usage, opt)) continue;
    const meta = peer.peerById(id);
    if (meta !== undefined && !out.includes(meta.storeId)) out.push(meta.storeId);
  }
  return out.sort((a, b) => a - b);
}
