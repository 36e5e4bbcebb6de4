/**
 * Store heartbeats to PD (reference §6.2): one at start, then every
 * `raftstore.pd-store-heartbeat-tick-ms` (TiKV: 10 s), never two in flight. PD marks a silent
 * store disconnected after 20 s and down after 30 min, so a failed heartbeat is logged and the
 * next tick tries again.
 *
 * The process fills what it knows (store id, start time, the interval covered); the raftstore
 * supplies the rest (region and snapshot counts, used size, flow counters, busy flag) and the disk
 * space as it judges its disk usage on: `capacity`, and `available` net of
 * `storage.reserve-space`, both from its cached reading, so the `disk-free` failpoint shows at PD
 * too and a store at its reserve reports 0 (PD then sends it no new replicas). Only before the
 * raftstore has a reading (capacity absent or 0) does the process read the file system itself.
 */
import { statfsSync } from 'node:fs';
import type { Clock, Logger } from '@mrkv/common';
import type { PdApi, StoreStats } from '@mrkv/raftstore';

export interface StoreHeartbeaterOptions {
  readonly pd: Pick<PdApi, 'storeHeartbeat'>;
  readonly storeId: number;
  /** The raftstore's part of the stats. */
  readonly stats: () => Partial<StoreStats>;
  /** A path on the data directory's file system (for capacity and free space). */
  readonly dataDir: string;
  readonly intervalMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** Capacity and free bytes of the file system holding `path` (0, 0 if it cannot be read). */
export function diskSpace(path: string): { capacity: number; available: number } {
  try {
    const s = statfsSync(path);
    return { capacity: s.blocks * s.bsize, available: s.bavail * s.bsize };
  } catch {
    return { capacity: 0, available: 0 };
  }
}

export class StoreHeartbeater {
  private timer: NodeJS.Timeout | undefined;
  private inflight: Promise<void> | undefined;
  private lastSec: number;
  private readonly startSec: number;
  private stopped = false;
  /** Heartbeats PD accepted. */
  sent = 0;
  /** Heartbeats that failed. */
  failed = 0;

  constructor(private readonly opts: StoreHeartbeaterOptions) {
    this.startSec = Math.floor(opts.clock.wallMs() / 1000);
    this.lastSec = this.startSec;
  }

  /** Sends the first heartbeat now and schedules the rest. */
  start(): void {
    this.tick();
    this.timer = setInterval(() => this.tick(), this.opts.intervalMs);
    this.timer.unref();
  }

  /** Stops the schedule and waits for a heartbeat in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.inflight;
  }

  /** The stats of the next heartbeat. */
  collect(): StoreStats {
    const now = Math.floor(this.opts.clock.wallMs() / 1000);
    const s = this.opts.stats();
    const disk = s.capacity !== undefined && s.capacity > 0 ? { capacity: s.capacity, available: s.available ?? 0 } : diskSpace(this.opts.dataDir);
    return {
      regionCount: 0,
      sendingSnapCount: 0,
      receivingSnapCount: 0,
      applyingSnapCount: 0,
      usedSize: 0,
      bytesWritten: 0,
      keysWritten: 0,
      bytesRead: 0,
      keysRead: 0,
      isBusy: false,
      diskUsage: 'Normal',
      ...s,
      storeId: this.opts.storeId,
      capacity: disk.capacity,
      available: disk.available,
      startTime: this.startSec,
      intervalStart: this.lastSec,
      intervalEnd: now,
    };
  }

  private tick(): void {
    if (this.stopped || this.inflight !== undefined) return;
    const stats = this.collect();
    this.inflight = this.opts.pd.storeHeartbeat(stats).then(
      () => {
        this.sent++;
        this.lastSec = stats.intervalEnd;
      },
      (err: unknown) => {
        this.failed++;
        this.opts.logger.warn({ err }, 'store heartbeat failed');
      },
    ).finally(() => {
      this.inflight = undefined;
    });
  }
}
