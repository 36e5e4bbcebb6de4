/**
 * A `mrkv-pd` process for cross-process tests: spawn it from sources (node + tsx, no wrapper, so
 * signals reach PD itself), wait for /ready, stop it with SIGTERM or kill it, restart it on the
 * same data directory and ports, read its JSON log lines.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { freePorts, tempDir } from '../harness/ports.js';
import { REPO_ROOT } from '../harness/store.js';

export const PD_ENTRY = 'services/pd/src/main.ts';

export interface PdProcessOptions {
  readonly dataDir?: string;
  readonly clientAddr?: string;
  readonly statusAddr?: string;
  readonly name?: string;
  /** More flags, appended as given. */
  readonly args?: readonly string[];
  readonly readyTimeoutMs?: number;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class PdProcess {
  readonly lines: string[] = [];
  readonly exited: Promise<ExitInfo>;
  private exitInfo: ExitInfo | undefined;
  private readonly child: ChildProcess;

  private constructor(
    readonly opts: Required<Pick<PdProcessOptions, 'dataDir' | 'clientAddr' | 'statusAddr'>> & PdProcessOptions,
    private readonly ownedDir: (() => void) | undefined,
  ) {
    const args = [
      '--conditions=@mrkv/source',
      '--import',
      'tsx',
      PD_ENTRY,
      '--name',
      opts.name ?? 'pd-test',
      '--data-dir',
      opts.dataDir,
      '--client-urls',
      opts.clientAddr,
      '--status-addr',
      opts.statusAddr,
      '--log-level',
      'info',
      ...(opts.args ?? []),
    ];
    this.child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const s of [this.child.stdout!, this.child.stderr!]) createInterface({ input: s }).on('line', (l) => this.lines.push(l));
    this.exited = new Promise((resolve) =>
      this.child.on('close', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      }),
    );
  }

  /** Starts a PD on fresh ports (and a fresh data dir unless given) and waits until ready. */
  static async start(opts: PdProcessOptions = {}): Promise<PdProcess> {
    const [a, b] = await freePorts(2);
    let owned: (() => void) | undefined;
    let dataDir = opts.dataDir;
    if (dataDir === undefined) {
      const t = tempDir('mrkv-pd-');
      dataDir = t.path;
      owned = t.cleanup;
    }
    const p = new PdProcess({ ...opts, dataDir, clientAddr: opts.clientAddr ?? `127.0.0.1:${a}`, statusAddr: opts.statusAddr ?? `127.0.0.1:${b}` }, owned);
    await p.waitReady(opts.readyTimeoutMs ?? 30_000);
    return p;
  }

  get addr(): string {
    return this.opts.clientAddr;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      if (!this.running) throw new Error(`mrkv-pd exited before it was ready (${JSON.stringify(this.exitInfo)}):\n${this.tail()}`);
      if (Date.now() > deadline) throw new Error(`mrkv-pd not ready after ${timeoutMs} ms:\n${this.tail()}`);
      const ok = await fetch(`http://${this.opts.statusAddr}/ready`, { signal: AbortSignal.timeout(2000) }).then((r) => r.status === 200, () => false);
      if (ok) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** GET on the status server. */
  async http(path: string): Promise<{ status: number; body: string }> {
    const res = await fetch(`http://${this.opts.statusAddr}${path}`, { signal: AbortSignal.timeout(5000) });
    return { status: res.status, body: await res.text() };
  }

  /** SIGTERM and wait (SIGKILL after `timeoutMs`). */
  async stop(timeoutMs = 20_000): Promise<ExitInfo> {
    if (this.running) this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(t);
    }
  }

  /** SIGKILL (a crash). */
  async kill(): Promise<ExitInfo> {
    if (this.running) this.child.kill('SIGKILL');
    return this.exited;
  }

  /** A new PD on the same data dir and ports (this one must have exited). */
  async restart(): Promise<PdProcess> {
    if (this.running) throw new Error('restart: PD still running');
    const next = new PdProcess(this.opts, this.ownedDir);
    await next.waitReady(this.opts.readyTimeoutMs ?? 30_000);
    return next;
  }

  /** Kills the process if running and removes a data dir this harness created. */
  cleanup(): void {
    if (this.running) this.child.kill('SIGKILL');
    this.ownedDir?.();
  }

  /** Parsed JSON log lines. */
  logs(): Array<Record<string, unknown>> {
    return this.lines.filter((l) => l.startsWith('{')).flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return []; // a partial line of a killed process
      }
    });
  }

  tail(n = 30): string {
    return this.lines.slice(-n).join('\n');
  }
}
