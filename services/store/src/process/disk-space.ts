/**
 * The store's view of its data directory's disk space (`@mrkv/raftstore` `DiskSpace`): the file
 * system is read with `fs.promises.statfs` off the hot path, every `intervalMs` (default 1 s), and
 * the raftstore reads the cached figure on its ticks. The `disk-free=<bytes>` failpoint
 * (failpoints.ts) replaces the free space while it is set, so tests make a store low on space
 * without filling a disk; switching it off brings back the real reading at once.
 *
 * Runs on the thread that owns the raftstore (main or the raftstore worker), next to the disk
 * failpoints it consults.
 */
import { statfs } from 'node:fs/promises';
import type { Logger } from '@mrkv/common';
import type { DiskFailpoints } from '@mrkv/engine';
import type { DiskSpace, DiskSpaceReading } from '@mrkv/raftstore';

/** How often the file system is read by default (ms). */
export const DISK_SPACE_POLL_MS = 1000;

export interface StatfsDiskSpaceOptions {
  /** A path on the data directory's file system. */
  readonly path: string;
  readonly logger: Logger;
  /** The disk failpoints whose `diskFree` overrides the free space (tests). */
  readonly failpoints?: DiskFailpoints | undefined;
  readonly intervalMs?: number;
}

/** Polls `statfs` of the data directory; `read()` answers from the last poll. */
export class StatfsDiskSpace implements DiskSpace {
  private last: DiskSpaceReading | undefined;
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private failedBefore = false;

  constructor(private readonly opts: StatfsDiskSpaceOptions) {}

  /** Takes the first reading and starts polling (the timer does not keep the process alive). */
  async start(): Promise<void> {
    await this.poll();
    this.timer = setInterval(() => void this.poll(), this.opts.intervalMs ?? DISK_SPACE_POLL_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  read(): DiskSpaceReading | undefined {
    const free = this.opts.failpoints?.diskFree();
    if (free === undefined) return this.last;
    return { capacity: Math.max(this.last?.capacity ?? 0, free), available: free };
  }

  /** One statfs; a failure keeps the previous reading (logged once until it works again). */
  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const s = await statfs(this.opts.path);
      this.last = { capacity: s.blocks * s.bsize, available: s.bavail * s.bsize };
      this.failedBefore = false;
    } catch (err) {
      if (!this.failedBefore) this.opts.logger.warn({ err, path: this.opts.path }, 'statfs of the data directory failed; disk usage unchanged');
      this.failedBefore = true;
    } finally {
      this.polling = false;
    }
  }
}
