/**
 * A store process for cross-process tests: spawn `mrkv-store` (from sources, or compiled), wait
 * until it is ready, send it signals (SIGTERM, SIGKILL, SIGSTOP/SIGCONT), restart it on the same
 * data directory and ports, and read what it logged.
 *
 * The store runs as one process (`node --conditions=@mrkv/source --import tsx <entry>`, or plain
 * `node` for compiled output), never behind a wrapper: SIGKILL and SIGSTOP must reach the store
 * itself, and SIGTERM must reach it exactly once.
 *
 * ```ts
 * const s = await StoreProcess.start({ pd: [pdAddr] });
 * // … talk to s.addr …
 * s.pause(); s.resume(); await s.kill(); const again = await s.restart();
 * expect(again.logs().some((l) => l.msg === 'store is ready')).toBe(true);
 * await again.stop(); s.cleanup();
 * ```
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { freePorts, tempDir } from './ports.js';

/** The repository root (this file is test/harness/store.ts). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The real store command, from sources and compiled. */
export const STORE_ENTRY = 'services/store/src/main.ts';
export const STORE_ENTRY_COMPILED = 'services/store/dist/main.js';

export interface StoreProcessOptions {
  /** Entry point relative to the repo root (default: the mrkv-store sources, or dist with `compiled`). */
  readonly entry?: string;
  /** Run compiled JavaScript with plain node (no TypeScript loader). */
  readonly compiled?: boolean;
  /** Data directory; default a new temporary one, removed by `cleanup()`. */
  readonly dataDir?: string;
  /** gRPC listen address; default a free loopback port. */
  readonly addr?: string;
  /** Status listen address; default a free loopback port. */
  readonly statusAddr?: string;
  /** PD endpoints (`--pd`). */
  readonly pd?: readonly string[];
  /** More flags, appended as given. */
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** `--log-level` (default info). */
  readonly logLevel?: string;
  /** How long `start` waits for /ready (default 30 s). */
  readonly readyTimeoutMs?: number;
  /** Also append every output line to this file (post-mortems). */
  readonly outputFile?: string;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One parsed JSON log line. */
export type LogRecord = Record<string, unknown> & { level?: string; msg?: string };

export class StoreProcess {
  readonly addr: string;
  readonly statusAddr: string;
  readonly dataDir: string;
  /** Every line written to stdout and stderr, in arrival order. */
  readonly lines: string[] = [];
  /** Resolves when the process exits. */
  readonly exited: Promise<ExitInfo>;
  private readonly child: ChildProcess;
  private exitInfo: ExitInfo | undefined;
  private readonly listeners = new Set<() => void>();

  private constructor(
    private readonly opts: StoreProcessOptions & { addr: string; statusAddr: string; dataDir: string },
    private readonly ownedDir: (() => void) | undefined,
  ) {
    this.addr = opts.addr;
    this.statusAddr = opts.statusAddr;
    this.dataDir = opts.dataDir;
    const entry = opts.entry ?? (opts.compiled ? STORE_ENTRY_COMPILED : STORE_ENTRY);
    const nodeArgs = opts.compiled ? [] : ['--conditions=@mrkv/source', '--import', 'tsx'];
    const args = [
      ...nodeArgs,
      entry,
      '--addr',
      opts.addr,
      '--status-addr',
      opts.statusAddr,
      '--data-dir',
      opts.dataDir,
      '--log-level',
      opts.logLevel ?? 'info',
      ...(opts.pd && opts.pd.length > 0 ? ['--pd', opts.pd.join(',')] : []),
      ...(opts.args ?? []),
    ];
    this.child = spawn(process.execPath, args, { cwd: REPO_ROOT, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => this.onLine(line));
    }
    this.exited = new Promise((resolve) => {
      // 'close' comes after the output streams ended, so every line has arrived by then.
      this.child.on('close', (code, signal) => {
        this.exitInfo = { code, signal };
        this.notify();
        resolve({ code, signal });
      });
    });
  }

  /** Spawns a store without waiting for it. Ports and data directory are filled in if not given. */
  static async spawn(opts: StoreProcessOptions = {}): Promise<StoreProcess> {
    const needPorts = (opts.addr === undefined ? 1 : 0) + (opts.statusAddr === undefined ? 1 : 0);
    const ports = await freePorts(needPorts);
    const addr = opts.addr ?? `127.0.0.1:${ports.shift()!}`;
    const statusAddr = opts.statusAddr ?? `127.0.0.1:${ports.shift()!}`;
    let owned: (() => void) | undefined;
    let dataDir = opts.dataDir;
    if (dataDir === undefined) {
      const t = tempDir('mrkv-store-');
      dataDir = t.path;
      owned = t.cleanup;
    }
    return new StoreProcess({ ...opts, addr, statusAddr, dataDir }, owned);
  }

  /** Spawns a store and waits until /ready answers 200. */
  static async start(opts: StoreProcessOptions = {}): Promise<StoreProcess> {
    const p = await StoreProcess.spawn(opts);
    try {
      await p.waitReady(opts.readyTimeoutMs ?? 30_000);
    } catch (e) {
      await p.kill();
      p.cleanup();
      throw e;
    }
    return p;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** True until the process exits. */
  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /**
   * The JSON log lines so far (other output is skipped). A running store logs through a pino
   * transport thread, so a line can arrive after the event it reports (even after /ready): wait
   * with `waitForLog`. Once the process has exited, every line is here.
   */
  logs(): LogRecord[] {
    const out: LogRecord[] = [];
    for (const line of this.lines) {
      if (!line.startsWith('{')) continue;
      try {
        out.push(JSON.parse(line) as LogRecord);
      } catch {
        // a partial line from a killed process: not a record
        continue;
      }
    }
    return out;
  }

  /** Resolves with the first log record matching `pred` (already logged or future). */
  waitForLog(pred: (r: LogRecord) => boolean, timeoutMs = 30_000): Promise<LogRecord> {
    return this.waitUntil(() => this.logs().find(pred), timeoutMs, 'a matching log line');
  }

  /** Polls /ready until it answers 200. Rejects if the process exits first. */
  async waitReady(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      if (!this.running) throw new Error(`store exited before it was ready (${JSON.stringify(this.exitInfo)}):\n${this.tail()}`);
      if (Date.now() > deadline) throw new Error(`store not ready after ${timeoutMs} ms:\n${this.tail()}`);
      const r = await this.http('/ready').catch(() => undefined);
      if (r?.status === 200) return;
      await new Promise((res) => setTimeout(res, 50));
    }
  }

  /** GET on the status server. */
  async http(path: string): Promise<{ status: number; body: string }> {
    const res = await fetch(`http://${this.statusAddr}${path}`, { signal: AbortSignal.timeout(5000) });
    return { status: res.status, body: await res.text() };
  }

  /** The /status document. */
  async status(): Promise<Record<string, unknown>> {
    return JSON.parse((await this.http('/status')).body) as Record<string, unknown>;
  }

  /** Sends `sig` to the store process. */
  signal(sig: NodeJS.Signals): void {
    if (this.running) this.child.kill(sig);
  }

  /** SIGTERM, then waits for the exit; SIGKILL if it takes longer than `timeoutMs`. */
  async stop(timeoutMs = 30_000): Promise<ExitInfo> {
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGKILL (a crash: nothing is flushed or closed). */
  async kill(): Promise<ExitInfo> {
    this.resume();
    this.signal('SIGKILL');
    return this.exited;
  }

  /** SIGSTOP: the process freezes (timers, sockets and leases stand still). */
  pause(): void {
    this.signal('SIGSTOP');
  }

  /** SIGCONT. */
  resume(): void {
    this.signal('SIGCONT');
  }

  /** A new process with the same options, data directory and ports (this one must have exited). */
  async restart(extra: Partial<StoreProcessOptions> = {}): Promise<StoreProcess> {
    if (this.running) throw new Error('restart: the store is still running; stop or kill it first');
    const next = new StoreProcess({ ...this.opts, ...extra, addr: this.addr, statusAddr: this.statusAddr, dataDir: this.dataDir }, this.ownedDir);
    await next.waitReady(this.opts.readyTimeoutMs ?? 30_000);
    return next;
  }

  /** Kills the process if it still runs and removes a data directory this harness created. */
  cleanup(): void {
    if (this.running) this.child.kill('SIGKILL');
    this.ownedDir?.();
  }

  /** The last `n` output lines, for error messages. */
  tail(n = 30): string {
    return this.lines.slice(-n).join('\n');
  }

  private onLine(line: string): void {
    this.lines.push(line);
    if (this.opts.outputFile) appendFileSync(this.opts.outputFile, line + '\n');
    this.notify();
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  private waitUntil<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const v = probe();
        if (v !== undefined) {
          done();
          resolve(v);
        } else if (!this.running) {
          done();
          reject(new Error(`store exited (${JSON.stringify(this.exitInfo)}) while waiting for ${what}:\n${this.tail()}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}:\n${this.tail()}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
      check();
    });
  }
}
