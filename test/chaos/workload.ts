/**
 * The chaos workload: several SDK clients (each its own `RawClient`, so its own connections and
 * region cache) run get / put / compare-and-swap / delete on a small key space, and every operation
 * is recorded with its invoke and completion times in a `HistoryRecorder` for the linearizability
 * checker. Beside them, an append writer puts unique keys, so that "every acknowledged write is
 * present" can be checked key by key at the end, independently of the checker.
 *
 * Outcomes: an answer is `ok`; a refusal before anything was sent (bad argument, a request the
 * store rejected for good, a write refused with DiskFull before it was proposed) is `fail`; everything else (deadline, unreachable store, region
 * unavailable after retries, UndeterminedResult, a closed client) is `info`: the write may or may
 * not have happened, and the checker treats it as indeterminate. Values are unique per write
 * (`c<client>-<seq>`), which lets the checker resolve most indeterminate writes.
 */
import { HistoryRecorder, checkOperations, formatResult, registerModel, type CheckResult, type RegisterInput, type RegisterOutput, type RegisterValue } from '@mrkv/checker';

/** The checker's result for register histories. */
export type RegisterCheck = CheckResult<RegisterValue, RegisterInput, RegisterOutput>;
import { bytesToString, ClientErrorCodes, createRawClient, isClientError, type RawClient } from '@mrkv/client';
import type { Logger } from '@mrkv/common';

export interface WorkloadOptions {
  readonly pdAddr: string;
  /** Key prefix of this run (scenarios sharing a cluster use different ones). */
  readonly prefix: string;
  /** Concurrent register clients (default 4). */
  readonly clients?: number;
  /** Register keys (default 4). */
  readonly keys?: number;
  /** Per-call deadline of the SDK (default 3 s). */
  readonly timeoutMs?: number;
  /** Extra writers of 16 × 1 KiB batches (heavy load; default 0). Their keys join the appends. */
  readonly heavyWriters?: number;
  /**
   * Record writes the SDK re-sent as they were answered, without the indeterminate second copy
   * (default: `MRKV_CHAOS_STRICT=1`). Reproduces the SDK duplicate-write finding (README).
   */
  readonly strict?: boolean;
}


/** Error codes after which a write certainly did not happen. */
const DEFINITE_FAILURES: ReadonlySet<string> = new Set([ClientErrorCodes.INVALID_ARGUMENT, ClientErrorCodes.REQUEST_FAILED, ClientErrorCodes.DISK_FULL]);

export class Workload {
  readonly history = new HistoryRecorder();
  /** Acknowledged appends: key → value. */
  readonly acked = new Map<string, string>();
  /** Completion times (ms, `performance.now()`) of acknowledged writes, in order. */
  readonly writeAcks: number[] = [];
  /** Counts per outcome, for the report; `resent`: writes the SDK sent more than once. */
  readonly counts = { ok: 0, fail: 0, info: 0, resent: 0 };
  /** A few error messages, for the report. */
  readonly errors = new Map<string, number>();
  private readonly clients: RawClient[];
  private readonly appender: RawClient;
  private readonly loops: Promise<void>[] = [];
  private stopped = false;
  private readonly keys: string[];
  /** Per register client: whether the SDK re-sent the current request (a send failure or region error). */
  private readonly resent: boolean[] = [];
  private nextGhost = 1_000_000;

  constructor(private readonly opts: WorkloadOptions) {
    const timeoutMs = opts.timeoutMs ?? 3_000;
    const mk = (logger?: Logger) =>
      createRawClient({ pdEndpoints: [opts.pdAddr], timeoutMs, rpcTimeoutMs: Math.min(1_000, timeoutMs), maxBackoffMs: timeoutMs, ...(logger ? { logger } : {}) });
    this.clients = Array.from({ length: opts.clients ?? 4 }, (_, i) => mk(resendWatcher(() => (this.resent[i + 1] = true))));
    this.appender = mk();
    this.keys = Array.from({ length: opts.keys ?? 4 }, (_, i) => `${opts.prefix}/r${i}`);
  }

  /** Starts every client loop. */
  start(): this {
    this.clients.forEach((c, i) => this.loops.push(this.runRegister(c, i + 1)));
    this.loops.push(this.runAppender());
    for (let i = 0; i < (this.opts.heavyWriters ?? 0); i++) this.loops.push(this.runHeavy(i));
    return this;
  }

  /** Acknowledged writes (register and append) so far. */
  get ackCount(): number {
    return this.writeAcks.length;
  }

  /** Resolves once `n` more writes have been acknowledged after this call (or rejects after `timeoutMs`). */
  async waitAcks(n: number, timeoutMs = 20_000): Promise<number> {
    const target = this.ackCount + n;
    const deadline = Date.now() + timeoutMs;
    while (this.ackCount < target) {
      if (Date.now() > deadline) throw new Error(`workload: ${n} acknowledged writes not reached in ${timeoutMs} ms (errors: ${this.errorSummary()})`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return performance.now();
  }

  /** The first write acknowledgement at or after `since` (ms, `performance.now()`), if any. */
  firstAckAfter(since: number): number | undefined {
    return this.writeAcks.find((t) => t >= since);
  }

  /** The longest stretch without any acknowledged write between `from` and `to`. */
  longestGap(from: number, to: number): number {
    let last = from;
    let gap = 0;
    for (const t of this.writeAcks) {
      if (t < from || t > to) continue;
      gap = Math.max(gap, t - last);
      last = t;
    }
    return Math.max(gap, to - last);
  }

  /** Stops the loops, waits for the operations in flight, and closes the clients. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
    await Promise.all([...this.clients, this.appender].map((c) => c.close()));
  }

  /**
   * After `stop`: reads every register key once more (recorded, so the checker sees the final state)
   * and every acknowledged append; returns the appends that are missing or wrong.
   */
  async finalReads(pdAddr = this.opts.pdAddr): Promise<string[]> {
    const c = createRawClient({ pdEndpoints: [pdAddr], timeoutMs: 20_000 });
    try {
      for (const key of this.keys) await this.record(c, 0, { op: 'get', key });
      const missing: string[] = [];
      const keys = [...this.acked.keys()];
      for (let i = 0; i < keys.length; i += 500) {
        const chunk = keys.slice(i, i + 500);
        const got = new Map((await c.batchGet(chunk)).map((p) => [bytesToString(p.key), bytesToString(p.value)]));
        for (const k of chunk) if (got.get(k) !== this.acked.get(k)) missing.push(k);
      }
      return missing;
    } finally {
      await c.close();
    }
  }

  /** Checks the recorded history for linearizability. */
  check(timeoutMs = 30_000): RegisterCheck {
    return checkOperations(registerModel, this.history.operations(), { timeoutMs });
  }

  /** A one-line summary of the errors seen. */
  errorSummary(): string {
    return [...this.errors].map(([m, n]) => `${n}× ${m}`).slice(0, 6).join('; ');
  }

  private async runRegister(c: RawClient, client: number): Promise<void> {
    let seq = 0;
    const seen = new Map<string, string | null>();
    let rnd = client * 7919;
    const next = () => {
      rnd = (rnd * 1103515245 + 12345) & 0x7fffffff;
      return rnd / 0x7fffffff;
    };
    while (!this.stopped) {
      const key = this.keys[Math.floor(next() * this.keys.length)]!;
      const p = next();
      const value = `c${client}-${seq++}`;
      let input: RegisterInput;
      if (p < 0.4) input = { op: 'get', key };
      else if (p < 0.7) input = { op: 'put', key, value };
      else if (p < 0.9) input = { op: 'cas', key, expected: seen.get(key) ?? null, value };
      else input = { op: 'delete', key };
      const out = await this.record(c, client, input);
      if (out && 'value' in out) seen.set(key, out.value);
      if (out && 'succeeded' in out && input.op === 'cas') seen.set(key, out.succeeded ? input.value : (out.previous ?? null));
      if (out && input.op === 'put') seen.set(key, input.value);
      if (out && input.op === 'delete') seen.set(key, null);
    }
  }

  private async runAppender(): Promise<void> {
    for (let seq = 0; !this.stopped; seq++) {
      const key = `${this.opts.prefix}/a/${String(seq).padStart(6, '0')}`;
      const value = `a-${seq}`;
      try {
        await this.appender.put(key, value);
        this.acked.set(key, value);
        this.writeAcks.push(performance.now());
      } catch (e) {
        this.noteError(e);
      }
    }
  }

  private async runHeavy(writer: number): Promise<void> {
    const value = 'x'.repeat(1024);
    for (let seq = 0; !this.stopped; seq++) {
      const pairs = Array.from({ length: 16 }, (_, j) => ({ key: `${this.opts.prefix}/h/${writer}/${String(seq).padStart(6, '0')}-${j}`, value: `${value}${seq}` }));
      try {
        await this.appender.batchPut(pairs);
        for (const p of pairs) this.acked.set(p.key, p.value);
        this.writeAcks.push(performance.now());
      } catch (e) {
        this.noteError(e);
      }
    }
  }

  /** Runs one register operation through the SDK and records it; returns its output when it completed. */
  private async record(c: RawClient, client: number, input: RegisterInput): Promise<RegisterOutput | undefined> {
    const call = process.hrtime.bigint();
    this.resent[client] = false;
    const out = await this.recordOp(client, input, () => this.run(c, input), call);
    if (this.wasResent(client) && input.op !== 'get') {
      this.counts.resent++;
      if (!(this.opts.strict ?? process.env.MRKV_CHAOS_STRICT === '1')) {
        // The SDK sent this write again after a failure whose outcome it could not know, so the
        // store may have applied it twice: once as answered, and once more at any time after the
        // call. The second copy is an indeterminate operation of its own.
        const ghost = this.history.invoke(this.nextGhost++, input, call);
        this.history.info(ghost);
      }
    }
    return out;
  }

  private wasResent(client: number): boolean {
    return this.resent[client] === true;
  }

  /** One register operation through the SDK. */
  private async run(c: RawClient, input: RegisterInput): Promise<RegisterOutput> {
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

  /**
   * Records one operation run by `run` (the SDK, or a scenario talking to one peer directly). `run`
   * resolves to the output, or rejects: a `ClientError` with a definite code is `fail`, anything
   * else `info` (indeterminate). Returns the output when the operation completed. `countAck`
   * false keeps an acknowledged write out of the recovery timings (writes at one chosen peer).
   */
  async recordOp(client: number, input: RegisterInput, run: () => Promise<RegisterOutput>, call?: bigint, countAck = true): Promise<RegisterOutput | undefined> {
    const h = this.history.invoke(client, input, call);
    try {
      const out = await run();
      this.history.ok(h, out);
      this.counts.ok++;
      if (countAck && input.op !== 'get') this.writeAcks.push(performance.now());
      return out;
    } catch (e) {
      this.noteError(e);
      if (isClientError(e) && DEFINITE_FAILURES.has(e.code)) {
        this.history.fail(h);
        this.counts.fail++;
      } else {
        this.history.info(h);
        this.counts.info++;
      }
      return undefined;
    }
  }

  private noteError(e: unknown): void {
    // Codes as they are; other messages without their numbers and details, so that they group.
    const m = isClientError(e) ? e.code : (e instanceof Error ? e.message : String(e)).split(/[,(]/)[0]!.replace(/\d+(\.\d+)?s?/g, '#').slice(0, 60);
    this.errors.set(m, (this.errors.get(m) ?? 0) + 1);
  }
}

/** The checker's verdict and explanation, for an assertion message. */
export function describeCheck(r: RegisterCheck): string {
  return formatResult(r);
}

/**
 * A logger for an SDK client that calls `onResend` when the SDK is about to send a request again
 * after an attempt whose outcome it cannot know: a send failure (stream broken, no answer within
 * `rpcTimeoutMs`) or a region error (a proposal may have been made before the leader changed).
 */
function resendWatcher(onResend: () => void): Logger {
  const noop = (): void => undefined;
  const logger: Logger = {
    trace: noop,
    info: noop,
    error: noop,
    fatal: noop,
    debug: (obj: unknown, msg?: string) => {
      // DiskFull is answered before proposing and never re-sent (the SDK gives up at once).
      if (msg === 'region error' && (obj as { code?: unknown } | undefined)?.code !== 'KV:Raftstore:DiskFull') onResend();
    },
    warn: (obj: unknown, msg?: string) => {
      if (msg === 'send to store failed') onResend();
    },
    child: () => logger,
    isLevelEnabled: (level) => level === 'debug' || level === 'warn',
  };
  return logger;
}
