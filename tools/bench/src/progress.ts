/**
 * The progress line: once a second, from the shared counters the workers bump, the operations of
 * the last second, the total and the failures. On a terminal the line is rewritten in place;
 * otherwise one line per second is printed (logs and CI keep every line).
 */
import { SLOT_WORKERS } from './tasks.js';

/** Where progress goes (stderr by default, so stdout keeps the report and its JSON line). */
export interface ProgressSink {
  readonly tty: boolean;
  write(s: string): void;
}

/** The default sink: stderr. */
export const stderrSink: ProgressSink = { tty: process.stderr.isTTY === true, write: (s) => process.stderr.write(s) };

/** Totals over all workers. */
export function readCounters(counters: Int32Array, workers: number): { done: number; failed: number } {
  let done = 0;
  let failed = 0;
  for (let w = 0; w < workers; w++) {
    done += Atomics.load(counters, SLOT_WORKERS + 2 * w);
    failed += Atomics.load(counters, SLOT_WORKERS + 2 * w + 1);
  }
  return { done, failed };
}

/** Ticks once a second until `stop()`. */
export class ProgressLine {
  private readonly timer: NodeJS.Timeout;
  private readonly started = performance.now();
  private lastDone = 0;
  private lastAt = performance.now();

  /**
   * `label` prefixes the line (`etcd run`); `plannedMs` or `plannedOps` (one of them) shows how
   * far along the phase is; `unit` names what is counted.
   */
  constructor(
    private readonly sink: ProgressSink,
    private readonly label: string,
    private readonly counters: Int32Array,
    private readonly workers: number,
    private readonly plan: { readonly ms?: number; readonly ops?: number; readonly unit: string; readonly warmupMs?: number },
  ) {
    this.timer = setInterval(() => this.tick(), 1000);
    this.timer.unref();
  }

  private tick(): void {
    const now = performance.now();
    const { done, failed } = readCounters(this.counters, this.workers);
    const rate = ((done - this.lastDone) * 1000) / (now - this.lastAt);
    this.lastDone = done;
    this.lastAt = now;
    const elapsed = (now - this.started) / 1000;
    const warm = this.plan.warmupMs !== undefined && now - this.started < this.plan.warmupMs ? ' (warm-up)' : '';
    const of =
      this.plan.ms !== undefined
        ? `${elapsed.toFixed(0)}s/${((this.plan.ms + (this.plan.warmupMs ?? 0)) / 1000).toFixed(0)}s`
        : `${done.toLocaleString('en-US')}/${(this.plan.ops ?? 0).toLocaleString('en-US')}`;
    const line = `[${this.label}] ${of}${warm}  ${Math.round(rate).toLocaleString('en-US')} ${this.plan.unit}/s  total ${done.toLocaleString('en-US')}${failed > 0 ? `  errors ${failed.toLocaleString('en-US')}` : ''}`;
    this.sink.write(this.sink.tty ? `\r\x1b[K${line}` : `${line}\n`);
  }

  /** Stops ticking (and ends the in-place line on a terminal). */
  stop(): void {
    clearInterval(this.timer);
    if (this.sink.tty) this.sink.write('\r\x1b[K');
  }
}
