/**
 * The simulator's client workload: concurrent clients doing gets, puts, deletes and
 * compare-and-swaps on a small key space, each operation recorded in a `HistoryRecorder` for the
 * linearizability check.
 *
 * A client routes like TiKV's client-go: a region cache filled from PD (the in-process PD's
 * region and leader tables), the leader hint of `NotLeader`, the regions of `EpochNotMatch`, and a
 * different peer when a store does not answer. Outcomes:
 * - `ok`: the answer;
 * - `fail` (definitely not applied): every attempt was refused before it was proposed — region
 *   errors from the request checks, or a store that is down; a failed read is always `fail`;
 * - `info` (indeterminate): a write that got `UndeterminedResult`, `StaleCommand`,
 *   `RegionNotFound` (the peer may have been destroyed after proposing), any other error after it
 *   was sent, or no answer in time. The client then moves on to a new operation, as a Jepsen
 *   process does after a crash; it never retries a write that may have applied.
 * Every written value is unique (`c<client>-<seq>`), which lets the checker resolve most
 * indeterminate writes.
 */
import type { HistoryRecorder, RegisterInput, RegisterOutput } from '@mrkv/checker';
import type { Rng } from '@mrkv/common';
import { compareBytes } from '@mrkv/common';
import { isRegionError, regionContainsKey, type Region, type RegionError } from '@mrkv/proto';
import type { RawKvApi } from '@mrkv/raftstore';
import type { TestCluster } from '@mrkv/raftstore/testing';
import type { Trace } from './trace.js';

/** Relative weights of the operation kinds. */
export interface OpMix {
  get: number;
  put: number;
  delete: number;
  cas: number;
}

export interface WorkloadOptions {
  /** The keys clients use. */
  readonly keys: readonly string[];
  readonly mix: OpMix;
  /** A client gives up on an operation after this long (virtual ms). */
  readonly opDeadlineMs: number;
  /** Pause between a client's operations, drawn from [min, max] virtual ms. */
  readonly thinkMs: readonly [number, number];
  /** Test hook: rewrites what a get returned before it is recorded (a deliberately wrong answer). */
  readonly tamperGet?: ((key: string, value: string | null) => string | null) | undefined;
}

/** Counts of outcomes by kind. */
export interface WorkloadStats {
  ok: number;
  fail: number;
  info: number;
  attempts: number;
  regionErrors: number;
}

type Outcome = { kind: 'ok'; output: RegisterOutput } | { kind: 'fail' } | { kind: 'info'; why: string };

/** A refusal that proves the request was never proposed: retry elsewhere. */
class Refused {
  constructor(readonly why: string) {}
}

const te = new TextEncoder();
const td = new TextDecoder();

/** One client's region cache (each client process has its own view, possibly stale). */
interface ClientCache {
  readonly regions: Map<number, Region>;
  /** The store believed to lead each region. */
  readonly leaderHint: Map<number, number>;
}

export class Workload {
  readonly stats: WorkloadStats = { ok: 0, fail: 0, info: 0, attempts: 0, regionErrors: 0 };
  private readonly caches = new Map<number, ClientCache>();

  constructor(
    private readonly cluster: TestCluster,
    private readonly history: HistoryRecorder,
    private readonly trace: Trace,
    private readonly opts: WorkloadOptions,
  ) {}

  /** Runs client `id` until `stop()` holds; `rng` is the client's own. */
  async runClient(id: number, rng: Rng, stop: () => boolean): Promise<void> {
    let seq = 0;
    const lastSeen = new Map<string, string | null>();
    while (!stop()) {
      const key = this.opts.keys[rng.nextInt(this.opts.keys.length)]!;
      const input = this.nextInput(id, ++seq, key, rng, lastSeen.get(key) ?? null);
      const out = await this.execute(id, input, rng);
      if (out.kind === 'ok') {
        if (input.op === 'get') lastSeen.set(key, (out.output as { value: string | null }).value);
        else if (input.op === 'put') lastSeen.set(key, input.value);
        else if (input.op === 'delete') lastSeen.set(key, null);
        else {
          const o = out.output as { succeeded: boolean; previous?: string | null };
          lastSeen.set(key, o.succeeded ? input.value : (o.previous ?? null));
        }
      }
      const [lo, hi] = this.opts.thinkMs;
      await this.cluster.sleep(lo + rng.nextInt(Math.max(1, hi - lo + 1)));
    }
  }

  private nextInput(client: number, seq: number, key: string, rng: Rng, seen: string | null): RegisterInput {
    const m = this.opts.mix;
    const total = m.get + m.put + m.delete + m.cas;
    const x = rng.next() * total;
    const value = `c${client}-${seq}`;
    if (x < m.get) return { op: 'get', key };
    if (x < m.get + m.put) return { op: 'put', key, value };
    if (x < m.get + m.put + m.delete) return { op: 'delete', key };
    // CAS from the value this client last saw (often current, sometimes stale), to a new value or to absent.
    return { op: 'cas', key, expected: rng.next() < 0.8 ? seen : value, value: rng.next() < 0.85 ? value : null };
  }

  /** Runs one operation to its outcome and records it. */
  async execute(client: number, input: RegisterInput, rng: Rng): Promise<Outcome> {
    const h = this.history.invoke(client, input);
    this.trace.emit('invoke', { client, op: input.op, key: input.key, ...describeInput(input) });
    let cache = this.caches.get(client);
    if (cache === undefined) {
      cache = { regions: new Map(), leaderHint: new Map() };
      this.caches.set(client, cache);
    }
    const out = await this.attemptAll(cache, input, rng);
    switch (out.kind) {
      case 'ok':
        this.stats.ok++;
        this.history.ok(h, out.output);
        this.trace.emit('ok', { client, op: input.op, key: input.key, out: JSON.stringify(out.output) });
        break;
      case 'fail':
        this.stats.fail++;
        this.history.fail(h);
        this.trace.emit('fail', { client, op: input.op, key: input.key });
        break;
      case 'info':
        this.stats.info++;
        this.history.info(h);
        this.trace.emit('info', { client, op: input.op, key: input.key, why: out.why });
        break;
    }
    return out;
  }

  private async attemptAll(cache: ClientCache, input: RegisterInput, rng: Rng): Promise<Outcome> {
    const key = te.encode(input.key);
    const deadline = this.cluster.clock.nowMs() + this.opts.opDeadlineMs;
    let avoid: number | undefined;
    while (this.cluster.clock.nowMs() < deadline) {
      const region = this.locate(cache, key);
      const storeId = region === undefined ? undefined : this.pickStore(cache, region, avoid, rng);
      if (region !== undefined && storeId !== undefined) {
        this.stats.attempts++;
        try {
          let output = await this.attempt(region, storeId, input, key, deadline);
          if (input.op === 'get' && this.opts.tamperGet !== undefined) output = { value: this.opts.tamperGet(input.key, (output as { value: string | null }).value) };
          // Keep going to the store that answered (client-go's region cache keeps the leader that worked).
          cache.leaderHint.set(region.id, storeId);
          return { kind: 'ok', output };
        } catch (err) {
          if (!(err instanceof Refused)) {
            // No answer, or an unclear one: the cached leader may be gone (client-go drops its
            // cache entry on a send failure); the next operation asks PD or tries another peer.
            cache.leaderHint.delete(region.id);
            if (input.op === 'get') return { kind: 'fail' };
            return { kind: 'info', why: err instanceof Error ? `${(err as { code?: string }).code ?? err.name}: ${err.message}` : String(err) };
          }
          avoid = this.learn(cache, err, region, storeId);
        }
      }
      await this.cluster.sleep(5 + rng.nextInt(20));
    }
    return { kind: 'fail' };
  }

  /** One request to one store. Throws `Refused` when it was certainly not proposed. */
  private async attempt(region: Region, storeId: number, input: RegisterInput, key: Uint8Array, deadline: number): Promise<RegisterOutput> {
    let kv: RawKvApi;
    try {
      kv = this.cluster.rawKv(storeId);
    } catch {
      throw new Refused(`store ${storeId} is down`);
    }
    const ctx = this.cluster.contextFor(region, storeId);
    const op = run(kv, ctx, input, key);
    // The store answers every request within its own timeout; this guards against one that never
    // does. The guard is cancelled once the request is answered, so it never runs as an event.
    let cancel: () => void = () => undefined;
    const timeout = new Promise<never>((_, reject) => {
      void new Promise<void>((wake) => (cancel = this.timer(Math.max(1, deadline - this.cluster.clock.nowMs()) + 1000, wake))).then(() =>
        reject(new Error('no answer before the deadline')),
      );
    });
    try {
      return await Promise.race([op, timeout]);
    } catch (err) {
      if (isRegionError(err) && definite(err, input)) {
        this.stats.regionErrors++;
        throw new RegionRefused(err);
      }
      throw err;
    } finally {
      cancel();
    }
  }

  /** Runs `fn` after `ms` of the cluster's time; returns the function that cancels it. */
  private timer(ms: number, fn: () => void): () => void {
    const sim = this.cluster.sim;
    if (sim !== undefined) {
      const t = sim.setTimer(ms, fn);
      return () => t.cancel();
    }
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  }

  /** Updates the cache from a refusal; returns a store to avoid next time. */
  private learn(cache: ClientCache, r: Refused, region: Region, storeId: number): number | undefined {
    if (!(r instanceof RegionRefused)) {
      cache.leaderHint.delete(region.id);
      return storeId;
    }
    const e = r.error;
    switch (e.variant) {
      case 'notLeader': {
        const leader = (e.payload as { leader?: { storeId: number } }).leader;
        if (leader !== undefined && leader.storeId !== storeId) {
          cache.leaderHint.set(region.id, leader.storeId);
          return undefined;
        }
        cache.leaderHint.delete(region.id);
        return storeId;
      }
      case 'epochNotMatch':
        for (const cur of (e.payload as { currentRegions: Region[] }).currentRegions) this.insert(cache, cur);
        return undefined;
      default:
        cache.regions.delete(region.id);
        cache.leaderHint.delete(region.id);
        return storeId;
    }
  }

  /** The cached region of `key`, else PD's (newest epoch), else what the stores know. */
  private locate(cache: ClientCache, key: Uint8Array): Region | undefined {
    for (const r of cache.regions.values()) if (regionContainsKey(r, key)) return r;
    let best: Region | undefined;
    for (const r of this.cluster.pd.regions.values()) {
      if (regionContainsKey(r, key) && (best === undefined || r.regionEpoch.version > best.regionEpoch.version)) best = r;
    }
    best ??= this.cluster.regionOf(key);
    if (best !== undefined) this.insert(cache, best);
    return best;
  }

  /** Caches a region, evicting the ones it overlaps. */
  private insert(cache: ClientCache, r: Region): void {
    if (r.peers.length === 0) return;
    for (const [id, c] of cache.regions) {
      const overlaps = (r.endKey.length === 0 || compareBytes(c.startKey, r.endKey) < 0) && (c.endKey.length === 0 || compareBytes(r.startKey, c.endKey) < 0);
      if (overlaps || id === r.id) cache.regions.delete(id);
    }
    cache.regions.set(r.id, r);
  }

  private pickStore(cache: ClientCache, region: Region, avoid: number | undefined, rng: Rng): number | undefined {
    const hint = cache.leaderHint.get(region.id) ?? this.cluster.pd.leaders.get(region.id);
    if (hint !== undefined && hint !== avoid && region.peers.some((p) => p.storeId === hint)) return hint;
    const others = region.peers.filter((p) => p.storeId !== avoid);
    const pool = others.length > 0 ? others : region.peers;
    return pool.length === 0 ? undefined : pool[rng.nextInt(pool.length)]!.storeId;
  }
}

class RegionRefused extends Refused {
  constructor(readonly error: RegionError) {
    super(error.code);
  }
}

/** Whether a region error proves the request was not applied (so it may be retried). */
function definite(err: RegionError, input: RegisterInput): boolean {
  if (input.op === 'get') return true;
  switch (err.variant) {
    case 'notLeader':
    case 'epochNotMatch':
    case 'keyNotInRegion':
    case 'storeNotMatch':
    case 'serverIsBusy':
    case 'raftEntryTooLarge':
    case 'regionNotInitialized':
      return true;
    default:
      // undeterminedResult, staleCommand (a snapshot may have carried the entry), regionNotFound
      // (the peer may have been destroyed after proposing), anything else: maybe applied.
      return false;
  }
}

async function run(kv: RawKvApi, ctx: ReturnType<TestCluster['contextFor']>, input: RegisterInput, key: Uint8Array): Promise<RegisterOutput> {
  switch (input.op) {
    case 'get': {
      const v = await kv.rawGet(ctx, key);
      return { value: v === undefined ? null : td.decode(v) };
    }
    case 'put':
      await kv.rawPut(ctx, key, te.encode(input.value));
      return {};
    case 'delete':
      await kv.rawDelete(ctx, key);
      return {};
    case 'cas': {
      const r = await kv.rawCompareAndSwap(ctx, {
        key,
        value: input.value === null ? new Uint8Array() : te.encode(input.value),
        previousNotExist: input.expected === null,
        previousValue: input.expected === null ? new Uint8Array() : te.encode(input.expected),
        delete: input.value === null,
      });
      return { succeeded: r.succeeded, previous: r.previousNotExist ? null : td.decode(r.previousValue) };
    }
  }
}

function describeInput(input: RegisterInput): Record<string, string | null> {
  switch (input.op) {
    case 'put':
      return { value: input.value };
    case 'cas':
      return { expected: input.expected, value: input.value };
    default:
      return {};
  }
}
