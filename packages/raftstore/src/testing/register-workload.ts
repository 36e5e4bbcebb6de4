/**
 * A register workload for in-process cluster tests: concurrent clients run get / put /
 * compare-and-swap / delete on a small key space through a `TestCluster`, routing each request
 * to the leader of the region that holds the key as a client with a region cache would, and
 * record every operation (invoke, then one outcome) for a per-key linearizability check.
 *
 * Outcomes, from what the raftstore answers (store/raw-kv.ts, operation/propose.ts):
 * - a region error raised before the write was proposed, or refused at apply time by the epoch
 *   and key re-check (NotLeader, EpochNotMatch, KeyNotInRegion, ServerIsBusy,
 *   ProposalInMergingMode, StoreNotMatch, RaftEntryTooLarge), means the write did not happen: the
 *   client retries it until its deadline, and records `fail` only if no try got further;
 * - anything else on a write (UndeterminedResult, StaleCommand, RegionNotFound from a destroyed
 *   peer, a crashed store) is `info`: the write may or may not take effect, and it is never retried
 *   (a retried put could land twice and reorder around other writes);
 * - reads change nothing, so a failed read is retried and, at its deadline, recorded as `fail`.
 * Values are unique per write (`c<client>-<seq>`), which lets the checker resolve indeterminate
 * writes. The recorder is structural (`@mrkv/checker`'s `HistoryRecorder` fits), so this package
 * needs no dependency on the checker.
 */
import { RegionErrorCodes, type RequestContext } from '@mrkv/proto';
import type { RawCasResult, RawKvApi } from '../store/api.js';
import type { TestCluster } from './cluster.js';

/** A register operation (the shape of `@mrkv/checker`'s `RegisterInput`). */
export type RegisterOp =
  | { readonly op: 'get'; readonly key: string }
  | { readonly op: 'put'; readonly key: string; readonly value: string }
  | { readonly op: 'delete'; readonly key: string }
  | { readonly op: 'cas'; readonly key: string; readonly expected: string | null; readonly value: string | null };

/** What a register operation answers (the shape of `@mrkv/checker`'s `RegisterOutput`). */
export type RegisterAnswer = { readonly value: string | null } | { readonly succeeded: boolean; readonly previous?: string | null } | Readonly<Record<string, never>>;

/** Where operations are recorded (`@mrkv/checker`'s `HistoryRecorder` implements it). */
export interface RegisterRecorder {
  invoke(client: number, input: RegisterOp): number;
  ok(handle: number, output: RegisterAnswer): void;
  fail(handle: number): void;
  info(handle: number): void;
}

export interface RegisterWorkloadOptions {
  /** Where operations are recorded. */
  readonly recorder: RegisterRecorder;
  /** The register keys. */
  readonly keys: readonly string[];
  /** Concurrent clients (default 4). */
  readonly clients?: number;
  /** How long one operation may keep retrying definite refusals (default 4 s). */
  readonly opTimeoutMs?: number;
  /** Seed of the clients' choices (default 1). */
  readonly seed?: number;
}

/** Region errors after which a write certainly did not take effect (see the module comment). */
const DEFINITE: ReadonlySet<string> = new Set<string>([
  RegionErrorCodes.NOT_LEADER,
  RegionErrorCodes.EPOCH_NOT_MATCH,
  RegionErrorCodes.KEY_NOT_IN_REGION,
  RegionErrorCodes.SERVER_IS_BUSY,
  RegionErrorCodes.PROPOSAL_IN_MERGING_MODE,
  RegionErrorCodes.STORE_NOT_MATCH,
  RegionErrorCodes.RAFT_ENTRY_TOO_LARGE,
]);

const isDefinite = (err: unknown): boolean => DEFINITE.has((err as { code?: unknown }).code as string);

const enc = (s: string): Uint8Array => Buffer.from(s);
const dec = (b: Uint8Array): string => Buffer.from(b).toString();

export class RegisterWorkload {
  /** Operations per outcome. */
  readonly counts = { ok: 0, fail: 0, info: 0 };
  /** Error codes (or messages) seen, with counts, for failure reports. */
  readonly errors = new Map<string, number>();
  private readonly loops: Promise<void>[] = [];
  private stopped = false;
  private rnd: number;

  constructor(
    private readonly cluster: TestCluster,
    private readonly opts: RegisterWorkloadOptions,
  ) {
    this.rnd = opts.seed ?? 1;
  }

  /** Starts the client loops. */
  start(): this {
    for (let c = 1; c <= (this.opts.clients ?? 4); c++) this.loops.push(this.runClient(c));
    return this;
  }

  /** Operations answered so far. */
  get okCount(): number {
    return this.counts.ok;
  }

  /** Resolves once `n` more operations were answered (rejects after `timeoutMs`). */
  async waitOk(n: number, timeoutMs = 15_000): Promise<void> {
    const target = this.counts.ok + n;
    await this.cluster.waitFor(() => this.counts.ok >= target, timeoutMs, `${n} answered operations (errors: ${this.errorSummary()})`);
  }

  /** Stops the loops and waits for the operations in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }

  /** Reads every key once more (client 0), so the history ends with the final state. */
  async finalReads(): Promise<void> {
    for (const key of this.opts.keys) await this.record(0, { op: 'get', key }, 20_000);
  }

  /** A one-line summary of the errors seen. */
  errorSummary(): string {
    return [...this.errors].map(([m, n]) => `${n}× ${m}`).slice(0, 8).join('; ');
  }

  private next(): number {
    this.rnd = (Math.imul(this.rnd, 1103515245) + 12345) & 0x7fffffff;
    return this.rnd / 0x7fffffff;
  }

  private async runClient(client: number): Promise<void> {
    const seen = new Map<string, string | null>();
    for (let seq = 0; !this.stopped; seq++) {
      const key = this.opts.keys[Math.floor(this.next() * this.opts.keys.length)]!;
      const p = this.next();
      const value = `c${client}-${seq}`;
      let input: RegisterOp;
      if (p < 0.35) input = { op: 'get', key };
      else if (p < 0.7) input = { op: 'put', key, value };
      else if (p < 0.9) input = { op: 'cas', key, expected: seen.get(key) ?? null, value };
      else input = { op: 'delete', key };
      const out = await this.record(client, input, this.opts.opTimeoutMs ?? 4_000);
      if (out === undefined) continue;
      if ('value' in out) seen.set(key, out.value);
      else if ('succeeded' in out && input.op === 'cas') seen.set(key, out.succeeded ? input.value : (out.previous ?? null));
      else if (input.op === 'put') seen.set(key, input.value);
      else if (input.op === 'delete') seen.set(key, null);
    }
  }

  /** Runs and records one operation; returns its answer when it completed. */
  private async record(client: number, input: RegisterOp, timeoutMs: number): Promise<RegisterAnswer | undefined> {
    const rec = this.opts.recorder;
    const h = rec.invoke(client, input);
    const outcome = await this.attempt(input, timeoutMs);
    if (outcome === 'fail' || outcome === 'info') {
      rec[outcome](h);
      this.counts[outcome]++;
      return undefined;
    }
    rec.ok(h, outcome);
    this.counts.ok++;
    return outcome;
  }

  /** Tries `input` on the key's leader until an answer, an ambiguous error, or the deadline. */
  private async attempt(input: RegisterOp, timeoutMs: number): Promise<RegisterAnswer | 'fail' | 'info'> {
    const c = this.cluster;
    const deadline = c.clock.nowMs() + timeoutMs;
    const key = enc(input.key);
    for (;;) {
      const region = c.regionOf(key);
      const leader = region === undefined ? undefined : c.leaderStore(region.id);
      if (region !== undefined && leader !== undefined) {
        const local = c.store(leader).peers.get(region.id)?.region ?? region;
        try {
          return await execute(c.rawKv(leader), c.contextFor(local, leader, { maxExecutionDurationMs: 2_000 }), input);
        } catch (err) {
          this.noteError(err);
          if (input.op !== 'get' && !isDefinite(err)) return 'info';
        }
      }
      if (c.clock.nowMs() > deadline) return 'fail';
      await c.sleep(5);
    }
  }

  private noteError(err: unknown): void {
    const code = (err as { code?: unknown }).code;
    const m = typeof code === 'string' ? code : err instanceof Error ? err.message.slice(0, 80) : String(err);
    this.errors.set(m, (this.errors.get(m) ?? 0) + 1);
  }
}

async function execute(kv: RawKvApi, ctx: RequestContext, input: RegisterOp): Promise<RegisterAnswer> {
  const key = enc(input.key);
  switch (input.op) {
    case 'get': {
      const v = await kv.rawGet(ctx, key);
      return { value: v === undefined ? null : dec(v) };
    }
    case 'put':
      await kv.rawPut(ctx, key, enc(input.value));
      return {};
    case 'delete':
      await kv.rawDelete(ctx, key);
      return {};
    case 'cas': {
      const r: RawCasResult = await kv.rawCompareAndSwap(ctx, {
        key,
        value: input.value === null ? new Uint8Array() : enc(input.value),
        previousNotExist: input.expected === null,
        previousValue: input.expected === null ? new Uint8Array() : enc(input.expected),
        delete: input.value === null,
      });
      return { succeeded: r.succeeded, previous: r.previousNotExist ? null : dec(r.previousValue) };
    }
  }
}
