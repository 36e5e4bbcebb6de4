/**
 * The event trace of a run: one JSON object per line, `{ t, ev, kind, ...fields }` (`t`: virtual
 * ms, `ev`: scheduler events run so far). Nemesis actions, client operations, leader and region
 * changes and violations go here. The whole trace is kept only when a file was asked for; the
 * last lines are always kept, for the failure report.
 */
import { writeFile } from 'node:fs/promises';

/** Fields of a trace line (JSON-serializable). */
export type TraceFields = Record<string, string | number | boolean | null | undefined | readonly (string | number)[]>;

/** A recorded line, serialized only when it is read (most lines of a passing run never are). */
interface Line {
  readonly t: number;
  readonly ev: number;
  readonly kind: string;
  readonly fields: TraceFields;
}

function format(l: Line): string {
  return JSON.stringify({ t: round(l.t), ev: l.ev, kind: l.kind, ...l.fields });
}

export class Trace {
  private readonly lines: Line[] = [];
  /** Ring buffer of the last `tailSize` lines; `next` is the slot the next line goes to. */
  private readonly tail: Line[] = [];
  private next = 0;
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

  /**
   * Records a line. `fields` is kept as given and serialized when the line is read: callers pass
   * a fresh object and do not change it afterwards.
   */
  emit(kind: string, fields: TraceFields = {}): void {
    const { atMs, event } = this.now();
    const line: Line = { t: atMs, ev: event, kind, fields };
    this.count++;
    if (this.keepAll) this.lines.push(line);
    if (this.tail.length < this.tailSize) this.tail.push(line);
    else this.tail[this.next] = line;
    this.next = (this.next + 1) % this.tailSize;
  }

  /** The last lines (newest last). */
  last(): readonly string[] {
    const n = this.tail.length;
    const start = n < this.tailSize ? 0 : this.next;
    return Array.from({ length: n }, (_, i) => format(this.tail[(start + i) % n]!));
  }

  /** The whole trace as text (empty unless `keepAll`). */
  text(): string {
    return this.lines.length === 0 ? '' : `${this.lines.map(format).join('\n')}\n`;
  }

  async write(path: string): Promise<void> {
    await writeFile(path, this.text(), 'utf8');
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
