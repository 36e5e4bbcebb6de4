/**
 * The load of the real-process split/merge test, through the SDK:
 * - register clients (each its own `RawClient`) run get / put / compare-and-swap / delete on a few
 *   keys spread over the pre-split regions, recorded for the per-key linearizability check. An
 *   answer is `ok`; a refusal the SDK reports before anything was sent (bad argument, a request
 *   refused for good) is `fail`; anything else (deadline, unavailable region or store,
 *   UndeterminedResult) is `info`, an indeterminate outcome. Values are unique per write;
 * - a grower writes batches of 1 KiB values under one prefix so the region holding it passes
 *   `region-max-size` again and again and the split checker splits it; acknowledged keys are
 *   remembered so none may be missing at the end.
 */
import { HistoryRecorder, checkOperations, registerModel, type CheckResult, type RegisterInput, type RegisterOutput, type RegisterValue } from '@mrkv/checker';
import { bytesToString, ClientErrorCodes, createRawClient, isClientError, type RawClient } from '@mrkv/client';

/** Error codes after which a write certainly did not happen. */
const DEFINITE_FAILURES: ReadonlySet<string> = new Set([ClientErrorCodes.INVALID_ARGUMENT, ClientErrorCodes.REQUEST_FAILED]);

export interface SdkWorkloadOptions {
  readonly pdAddr: string;
  /** Register keys. */
  readonly keys: readonly string[];
  /** Key prefix of the grower's keys (all inside one region). */
  readonly growPrefix: string;
  /** Register clients (default 3). */
  readonly clients?: number;
}

export class SdkWorkload {
  readonly history = new HistoryRecorder();
  readonly counts = { ok: 0, fail: 0, info: 0 };
  /** Keys the grower wrote and got acknowledged, with their values. */
  readonly grown = new Map<string, string>();
  /** Bytes the grower got acknowledged. */
  grownBytes = 0;
  readonly errors = new Map<string, number>();
  /** The last few failures, newest last, with when they happened (for failure messages). */
  readonly recentErrors: string[] = [];
  /** Longest time between two answered register operations, and when it ended (ms since start). */
  longestGap = { ms: 0, endedAtMs: 0 };
  private readonly startedAt = Date.now();
  private lastOkAt = Date.now();
  private readonly clients: RawClient[];
  private readonly grower: RawClient;
  private readonly loops: Promise<void>[] = [];
  private stopped = false;
  private growing = true;

  constructor(private readonly opts: SdkWorkloadOptions) {
    const mk = () => createRawClient({ pdEndpoints: [opts.pdAddr], timeoutMs: 5_000, rpcTimeoutMs: 2_000, maxBackoffMs: 5_000 });
    this.clients = Array.from({ length: opts.clients ?? 3 }, mk);
    this.grower = mk();
  }

  start(): this {
    this.clients.forEach((c, i) => this.loops.push(this.runRegister(c, i + 1)));
    this.loops.push(this.runGrower());
    return this;
  }

  /** Stops the grower only (the register clients go on). */
  stopGrowing(): void {
    this.growing = false;
  }

  /** Resolves once `n` more register operations were answered. */
  async waitOk(n: number, timeoutMs = 60_000): Promise<void> {
    const target = this.counts.ok + n;
    const deadline = Date.now() + timeoutMs;
    while (this.counts.ok < target) {
      if (Date.now() > deadline) {
        throw new Error(`${n} answered operations not reached in ${timeoutMs} ms (errors: ${this.errorSummary()}; last: ${this.recentErrors.join(' | ')})`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.growing = false;
    await Promise.all(this.loops);
  }

  /** After `stop`: reads every register key (recorded) and returns the grown keys missing or wrong. */
  async finalReads(): Promise<string[]> {
    const c = this.clients[0]!;
    for (const key of this.opts.keys) await this.record(c, 0, { op: 'get', key });
    const keys = [...this.grown.keys()];
    const got = new Map((await c.batchGet(keys)).map((p) => [bytesToString(p.key), bytesToString(p.value)]));
    return keys.filter((k) => got.get(k) !== this.grown.get(k));
  }

  async close(): Promise<void> {
    await Promise.all([...this.clients, this.grower].map((c) => c.close()));
  }

  check(timeoutMs = 20_000): CheckResult<RegisterValue, RegisterInput, RegisterOutput> {
    return checkOperations(registerModel, this.history.operations(), { timeoutMs });
  }

  errorSummary(): string {
    return [...this.errors].map(([m, n]) => `${n}× ${m}`).slice(0, 6).join('; ');
  }

  private async runRegister(c: RawClient, client: number): Promise<void> {
    const seen = new Map<string, string | null>();
    let rnd = client * 7919;
    const next = () => {
      rnd = (Math.imul(rnd, 1103515245) + 12345) & 0x7fffffff;
      return rnd / 0x7fffffff;
    };
    for (let seq = 0; !this.stopped; seq++) {
      const key = this.opts.keys[Math.floor(next() * this.opts.keys.length)]!;
      const p = next();
      const value = `c${client}-${seq}`;
      let input: RegisterInput;
      if (p < 0.4) input = { op: 'get', key };
      else if (p < 0.7) input = { op: 'put', key, value };
      else if (p < 0.9) input = { op: 'cas', key, expected: seen.get(key) ?? null, value };
      else input = { op: 'delete', key };
      const out = await this.record(c, client, input);
      if (out === undefined) continue;
      if ('value' in out) seen.set(key, out.value);
      else if ('succeeded' in out && input.op === 'cas') seen.set(key, out.succeeded ? input.value : (out.previous ?? null));
      else if (input.op === 'put') seen.set(key, input.value);
      else if (input.op === 'delete') seen.set(key, null);
    }
  }

  private async runGrower(): Promise<void> {
    const pad = 'x'.repeat(1000);
    for (let seq = 0; this.growing && !this.stopped; seq++) {
      const pairs = Array.from({ length: 16 }, (_, j) => {
        const key = `${this.opts.growPrefix}${String(seq * 16 + j).padStart(6, '0')}`;
        return { key, value: `${key}:${pad}` };
      });
      try {
        await this.grower.batchPut(pairs);
        for (const p of pairs) {
          this.grown.set(p.key, p.value);
          this.grownBytes += p.key.length + p.value.length;
        }
      } catch (e) {
        this.noteError(e);
      }
    }
  }

  private async record(c: RawClient, client: number, input: RegisterInput): Promise<RegisterOutput | undefined> {
    const h = this.history.invoke(client, input);
    try {
      const out = await run(c, input);
      this.history.ok(h, out);
      this.counts.ok++;
      const now = Date.now();
      if (now - this.lastOkAt > this.longestGap.ms) this.longestGap = { ms: now - this.lastOkAt, endedAtMs: now - this.startedAt };
      this.lastOkAt = now;
      return out;
    } catch (e) {
      this.noteError(e);
      const definite = isClientError(e) && DEFINITE_FAILURES.has(e.code);
      if (definite || input.op === 'get') this.history.fail(h);
      else this.history.info(h);
      this.counts[definite || input.op === 'get' ? 'fail' : 'info']++;
      return undefined;
    }
  }

  private noteError(e: unknown): void {
    const m = isClientError(e) ? e.code : e instanceof Error ? e.message.slice(0, 80) : String(e);
    this.errors.set(m, (this.errors.get(m) ?? 0) + 1);
    this.recentErrors.push(`+${Date.now() - this.startedAt}ms ${e instanceof Error ? e.message.slice(0, 200) : String(e)}`);
    if (this.recentErrors.length > 8) this.recentErrors.shift();
  }
}

async function run(c: RawClient, input: RegisterInput): Promise<RegisterOutput> {
  switch (input.op) {
    case 'get': {
      const v = await c.get(input.key);
      return { value: v === undefined ? null : bytesToString(v) };
    }
    case 'put':
      await c.put(input.key, input.value);
      return {};
    case 'delete':
      await c.delete(input.key);
      return {};
    case 'cas': {
      const r = await c.compareAndSwap(input.key, input.expected, input.value);
      return { succeeded: r.succeeded, previous: r.previousValue === null ? null : bytesToString(r.previousValue) };
    }
  }
}
