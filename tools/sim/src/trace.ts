/**
 * The event trace of a run: one JSON object per line, `{ t, ev, kind, ...fields }` (`t`: virtual
 * ms, `ev`: scheduler events run so far). Nemesis actions, client operations, leader and region
 * changes and violations go here. The whole trace is kept only when a file was asked for; the
 * last lines are always kept, for the failure report.
 */
import { writeFile } from 'node:fs/promises';

/** Fields of a trace line (JSON-serializable). */
export type TraceFields = Record<string, string | number | boolean | null | undefined | readonly (string | number)[]>;

export class Trace {
  private readonly lines: string[] = [];
  private readonly tail: string[] = [];
  private count = 0;

  /**
   * @param now virtual time and event count
   * @param keepAll keep every line (for `--trace`); otherwise only the last `tailSize`
   */
  constructor(
    private readonly now: () => { atMs: number; event: number },
    private readonly keepAll: boolean,
    private readonly tailSize = 40,
  ) {}

  /** Lines recorded so far. */
  get size(): number {
    return this.count;
  }

  emit(kind: string, fields: TraceFields = {}): void {
    const { atMs, event } = this.now();
    const line = JSON.stringify({ t: round(atMs), ev: event, kind, ...fields });
    this.count++;
    if (this.keepAll) this.lines.push(line);
    this.tail.push(line);
    if (this.tail.length > this.tailSize) this.tail.shift();
  }

  /** The last lines (newest last). */
  last(): readonly string[] {
    return this.tail;
  }

  /** The whole trace as text (empty unless `keepAll`). */
  text(): string {
    return this.lines.length === 0 ? '' : `${this.lines.join('\n')}\n`;
  }

  async write(path: string): Promise<void> {
    await writeFile(path, this.text(), 'utf8');
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
