/**
 * One child process of the playground (PD or a store; the bench's etcd members too): spawned
 * directly as `node … <entry>` (never behind a wrapper such as tools/run-ts.mjs, so SIGTERM and
 * SIGKILL reach the service itself),
 * its output appended to a log file and the last lines kept in memory for error reports, its exit
 * observable, and a stop that sends SIGTERM and then SIGKILL after a deadline.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { PlaygroundCodes, PlaygroundError } from './errors.js';

/** Lines of output kept per child for error reports. */
export const TAIL_LINES = 30;

/** How a child ended. */
export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** What to run. */
export interface ChildSpec {
  /** A short name: `pd`, `store-1`, … */
  readonly name: string;
  /** The executable (default: this node binary). */
  readonly command?: string;
  /** Arguments after the command (for node: its flags, the entry file, then the service's flags). */
  readonly args: readonly string[];
  readonly cwd: string;
  /** Where output is appended. */
  readonly logFile: string;
  readonly env?: Readonly<Record<string, string>>;
}

/** A running (or exited) child. */
export class Child {
  readonly name: string;
  readonly logFile: string;
  /** Resolves when the process has exited and its output has been read. */
  readonly exited: Promise<ChildExit>;
  private readonly proc: ChildProcess;
  private readonly tailLines: string[] = [];
  private readonly log: WriteStream;
  private exitInfo: ChildExit | undefined;
  /** Set once `stop` was asked for: the exit is expected. */
  private stopping = false;

  constructor(spec: ChildSpec) {
    this.name = spec.name;
    this.logFile = spec.logFile;
    this.log = createWriteStream(spec.logFile, { flags: 'a' });
    this.proc = spawn(spec.command ?? process.execPath, [...spec.args], {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [this.proc.stdout!, this.proc.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => this.onLine(line));
    }
    this.exited = new Promise((resolve) => {
      this.proc.on('error', (err) => this.onLine(`spawn failed: ${err.message}`));
      // 'close' comes after the output streams ended, so every line has arrived by then.
      this.proc.on('close', (code, signal) => {
        this.exitInfo = { code, signal };
        this.log.end();
        resolve(this.exitInfo);
      });
    });
  }

  /** The process id (undefined if the spawn failed). */
  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** True until the process exits. */
  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** True if the child exited without being asked to. */
  get failed(): boolean {
    return this.exitInfo !== undefined && !this.stopping;
  }

  /** The last lines of output. */
  tail(): string[] {
    return [...this.tailLines];
  }

  /** A `CHILD_EXITED` error describing this child's exit, with its last output lines. */
  exitError(): PlaygroundError {
    const how = this.exitInfo ? (this.exitInfo.signal ? `signal ${this.exitInfo.signal}` : `code ${this.exitInfo.code}`) : 'still running';
    const lines = this.tail();
    const summary = summarizeLines(lines);
    return new PlaygroundError(
      PlaygroundCodes.CHILD_EXITED,
      `${this.name} exited (${how})${summary ? `: ${summary}` : ''}\n--- last lines of ${this.logFile} ---\n${lines.join('\n')}`,
      { details: { name: this.name, code: this.exitInfo?.code, signal: this.exitInfo?.signal, lastLines: lines, logFile: this.logFile } },
    );
  }

  /** Sends `sig` if running. */
  signal(sig: NodeJS.Signals): void {
    if (this.running) this.proc.kill(sig);
  }

  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. Resolves with the exit. */
  async stop(graceMs: number): Promise<ChildExit> {
    this.stopping = true;
    if (!this.running) return this.exitInfo!;
    this.signal('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.onLine(`playground: no exit ${graceMs} ms after SIGTERM, sending SIGKILL`);
        this.signal('SIGKILL');
        resolve();
      }, graceMs);
    });
    await Promise.race([this.exited, killed]);
    clearTimeout(timer);
    return this.exited;
  }

  private onLine(line: string): void {
    this.log.write(line + '\n');
    this.tailLines.push(line);
    if (this.tailLines.length > TAIL_LINES) this.tailLines.shift();
  }
}

/**
 * The most telling line of a child's output: the last JSON log line at error level or above
 * (its `msg` and `err.message`), else the last non-empty line.
 */
export function summarizeLines(lines: readonly string[]): string {
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    if (!line.startsWith('{')) continue;
    let rec: { level?: unknown; msg?: unknown; err?: { message?: unknown } };
    try {
      rec = JSON.parse(line) as typeof rec;
    } catch {
      // not a JSON log line (a partial line, or plain text): skip it
      continue;
    }
    const level = rec.level;
    const isError = level === 'error' || level === 'fatal' || (typeof level === 'number' && level >= 50);
    if (!isError) continue;
    const parts = [rec.msg, rec.err?.message].filter((x): x is string => typeof x === 'string' && x !== '');
    if (parts.length > 0) return parts.join(': ');
  }
  for (let i = lines.length - 1; i >= 0; i--) if (lines[i]!.trim() !== '') return lines[i]!.trim();
  return '';
}
