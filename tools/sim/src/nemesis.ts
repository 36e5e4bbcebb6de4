/**
 * The nemesis: faults drawn from the run's seed, injected during the safety phase and all healed
 * before the liveness phase (Jepsen's nemesis, FoundationDB's simulated machines).
 *
 * Background faults hold for the whole safety phase: message loss, duplication and latency with
 * jitter (which reorders) on every link, and clock-rate skew per store. Episodic faults start at
 * random moments and heal after a random duration, several at once:
 * - `partition`: two random groups that do not talk; `one-way`: a link that drops one direction;
 *   `isolate`: one store cut off; `swizzle`: FoundationDB's swizzle-clogging (clog a random subset
 *   of stores one by one, then unclog them one by one in a random order);
 * - `crash`: kill -9 of a store (unsynced writes lost, sometimes a prefix of them kept), restarted
 *   later;
 * - `disk`: one store's raft or kv disk full, or failing a fraction of writes; a store that hits
 *   it stops as its process would (fatal I/O), and is restarted once the fault healed;
 * - `slow-fsync`: synced writes of one store wait tens of ms;
 * - `split`: a split of a random region at a random key (topology churn under faults).
 */
import type { Rng } from '@mrkv/common';
import { EngineError, EngineErrorCodes } from '@mrkv/engine';
import type { TestCluster } from '@mrkv/raftstore/testing';
import type { Trace } from './trace.js';

/** Episodic fault kinds. */
export const FAULT_KINDS = ['partition', 'one-way', 'isolate', 'swizzle', 'crash', 'disk', 'slow-fsync', 'split'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Message loss, duplication and latency on every link. */
export interface NetworkFaults {
  readonly dropRate: number;
  readonly duplicateRate: number;
  readonly delayMs: number;
  readonly jitterMs: number;
}

/** What the seed chose (printed with every run, so a failure says what it ran under). */
export interface FaultPlan {
  readonly kinds: readonly FaultKind[];
  readonly network: NetworkFaults | undefined;
  /** Clock rate per store (1 = exact). */
  readonly clockRates: ReadonlyMap<number, number>;
  /** Whether the rates may exceed the lease's drift bound (the labelled, non-failing mode). */
  readonly clockBeyondBound: boolean;
  /** Gap between episodic faults, [min, max] virtual ms. */
  readonly gapMs: readonly [number, number];
  /** How long an episodic fault lasts, [min, max] virtual ms. */
  readonly holdMs: readonly [number, number];
}

/** Region split hook (the run owns splitting: it knows the key space). */
export type Splitter = () => Promise<string>;

export class Nemesis {
  private readonly heals = new Set<() => void>();
  /** Stores that are down and why; the restart loop brings them back once allowed. */
  private readonly down = new Map<number, { until: number; why: string }>();
  private readonly diskFaulty = new Set<number>();
  private stopped = false;
  /** Wakes the restart loop while it waits for a store to go down (or for the end). */
  private wakeRestarter: (() => void) | undefined;
  /** Episodes started, by kind. */
  readonly counts = new Map<string, number>();
  restarts = 0;
  restartFailures = 0;

  constructor(
    private readonly cluster: TestCluster,
    private readonly rng: Rng,
    private readonly plan: FaultPlan,
    private readonly trace: Trace,
    private readonly split: Splitter,
    private readonly onRestart: (storeId: number) => void,
  ) {}

  /** Installs the background faults (network shaping, clock skew). */
  startBackground(): void {
    const net = this.plan.network;
    if (net !== undefined) {
      const rng = this.rng;
      this.cluster.net.shaper = () => {
        if (rng.next() < net.dropRate) return [];
        const d = net.delayMs + rng.next() * net.jitterMs;
        return rng.next() < net.duplicateRate ? [d, d + rng.next() * net.jitterMs] : [d];
      };
      this.heals.add(() => {
        this.cluster.net.shaper = undefined;
      });
    }
    for (const [id, rate] of this.plan.clockRates) {
      this.cluster.clockOf(id).setRate(rate);
      this.trace.emit('clock-rate', { store: id, rate });
    }
    if (this.plan.clockRates.size > 0) {
      this.heals.add(() => {
        for (const id of this.plan.clockRates.keys()) this.cluster.clockOf(id).setRate(1);
      });
    }
  }

  /** A store stopped on a fatal I/O error (called by the cluster): restart it after a while. */
  onFatal(storeId: number, err: unknown): void {
    this.trace.emit('fatal', { store: storeId, err: (err as { code?: string }).code ?? String(err) });
    this.markDown(storeId, { until: this.cluster.clock.nowMs() + this.between([50, 300]), why: 'fatal' });
  }

  private markDown(storeId: number, d: { until: number; why: string }): void {
    this.down.set(storeId, d);
    this.wakeRestarter?.();
  }

  private stop(): void {
    this.stopped = true;
    this.wakeRestarter?.();
  }

  /** Injects episodic faults until `over()` holds, restarting crashed stores as it goes. */
  async run(over: () => boolean): Promise<void> {
    const restarter = this.restartLoop();
    while (!over()) {
      if (this.plan.kinds.length === 0) {
        await this.cluster.sleep(10);
        continue;
      }
      await this.cluster.sleep(this.between(this.plan.gapMs));
      if (over()) break;
      const kind = this.plan.kinds[this.rng.nextInt(this.plan.kinds.length)]!;
      await this.inject(kind);
    }
    this.stop();
    await restarter;
  }

  /** Heals every fault and restarts every store that is down. */
  async healAll(): Promise<void> {
    this.stop();
    for (const h of [...this.heals]) h();
    this.heals.clear();
    this.cluster.net.clearFilters();
    this.trace.emit('heal-all');
    for (const id of this.cluster.stores.keys()) {
      if (this.cluster.running().includes(id)) continue;
      // A store that fails to start now (it should not: every disk fault is healed) is retried.
      for (let attempt = 0; ; attempt++) {
        if (await this.tryRestart(id)) break;
        if (attempt >= 20) throw new Error(`store ${id} does not restart after healing`);
        await this.cluster.sleep(50);
      }
    }
    this.down.clear();
  }

  private async restartLoop(): Promise<void> {
    while (!this.stopped) {
      // Nothing down: sleep until a store goes down (polling then would only add idle events).
      if (this.down.size === 0) {
        await new Promise<void>((wake) => (this.wakeRestarter = wake));
        this.wakeRestarter = undefined;
        continue;
      }
      await this.cluster.sleep(25);
      const now = this.cluster.clock.nowMs();
      for (const [id, d] of [...this.down]) {
        if (d.until > now || this.cluster.running().includes(id)) continue;
        if (d.why === 'fatal' && this.diskFaulty.has(id)) continue;
        if (await this.tryRestart(id)) this.down.delete(id);
        else d.until = now + 100;
      }
    }
  }

  private async tryRestart(id: number): Promise<boolean> {
    try {
      await this.cluster.restart(id);
    } catch (err) {
      this.restartFailures++;
      this.trace.emit('restart-failed', { store: id, err: (err as { code?: string }).code ?? String(err) });
      return false;
    }
    this.restarts++;
    this.trace.emit('restart', { store: id });
    this.onRestart(id);
    return true;
  }

  private between([lo, hi]: readonly [number, number]): number {
    return lo + this.rng.nextInt(Math.max(1, hi - lo + 1));
  }

  private pickStore(): number {
    const ids = [...this.cluster.stores.keys()];
    return ids[this.rng.nextInt(ids.length)]!;
  }

  /** Runs `heal` after the fault's hold time (or at heal-all, whichever comes first). */
  private holdThenHeal(kind: string, heal: () => void): void {
    let healed = false;
    const once = () => {
      if (healed) return;
      healed = true;
      this.heals.delete(once);
      heal();
      this.trace.emit('heal', { fault: kind });
    };
    this.heals.add(once);
    void this.cluster.sleep(this.between(this.plan.holdMs)).then(once);
  }

  private async inject(kind: FaultKind): Promise<void> {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
    const stores = [...this.cluster.stores.keys()];
    switch (kind) {
      case 'partition': {
        const a = stores.filter(() => this.rng.next() < 0.5);
        const groupA = a.length === 0 || a.length === stores.length ? [stores[0]!] : a;
        const groupB = stores.filter((s) => !groupA.includes(s));
        this.trace.emit('fault', { fault: kind, a: groupA, b: groupB });
        this.holdThenHeal(kind, this.cluster.net.partition(groupA, groupB));
        return;
      }
      case 'one-way': {
        const from = this.pickStore();
        const others = stores.filter((s) => s !== from);
        const to = others[this.rng.nextInt(others.length)]!;
        this.trace.emit('fault', { fault: kind, from, to });
        this.holdThenHeal(kind, this.cluster.net.dropOneWay(from, to));
        return;
      }
      case 'isolate': {
        const s = this.pickStore();
        this.trace.emit('fault', { fault: kind, store: s });
        this.holdThenHeal(kind, this.cluster.net.isolate(s));
        return;
      }
      case 'swizzle':
        await this.swizzle(stores);
        return;
      case 'crash': {
        const s = this.pickStore();
        if (!this.cluster.running().includes(s)) return;
        const keepUnsynced = this.rng.next() < 0.3 ? 1 + this.rng.nextInt(4) : 0;
        this.trace.emit('fault', { fault: kind, store: s, keepUnsynced });
        await this.cluster.crash(s, { keepUnsynced });
        this.markDown(s, { until: this.cluster.clock.nowMs() + this.between(this.plan.holdMs), why: 'crash' });
        return;
      }
      case 'disk':
        this.diskFault();
        return;
      case 'slow-fsync': {
        const s = this.pickStore();
        const ms = 5 + this.rng.nextInt(60);
        this.trace.emit('fault', { fault: kind, store: s, ms });
        this.cluster.setSyncDelay(s, ms);
        this.holdThenHeal(kind, () => this.cluster.setSyncDelay(s, 0));
        return;
      }
      case 'split': {
        const what = await this.split();
        this.trace.emit('fault', { fault: kind, result: what });
        return;
      }
    }
  }

  /** Clogs a random subset of stores one by one, then unclogs them one by one in random order. */
  private async swizzle(stores: number[]): Promise<void> {
    const subset = stores.filter(() => this.rng.next() < 0.6);
    if (subset.length === 0) subset.push(this.pickStore());
    this.trace.emit('fault', { fault: 'swizzle', stores: subset });
    const unclog = new Map<number, () => void>();
    const healAll = () => {
      for (const u of unclog.values()) u();
      unclog.clear();
    };
    this.heals.add(healAll);
    for (const s of subset) {
      unclog.set(s, this.cluster.net.isolate(s));
      await this.cluster.sleep(this.between([10, 100]));
    }
    await this.cluster.sleep(this.between(this.plan.holdMs));
    const order = [...subset];
    for (let i = order.length - 1; i > 0; i--) {
      const j = this.rng.nextInt(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (const s of order) {
      unclog.get(s)?.();
      unclog.delete(s);
      await this.cluster.sleep(this.between([10, 100]));
    }
    this.heals.delete(healAll);
    this.trace.emit('heal', { fault: 'swizzle' });
  }

  private diskFault(): void {
    const s = this.pickStore();
    if (this.diskFaulty.has(s)) return;
    const disks = this.cluster.disks(s);
    const which = this.rng.next() < 0.5 ? 'raft' : 'kv';
    const disk = which === 'raft' ? disks.raft : disks.kv;
    const full = this.rng.next() < 0.5;
    const rate = full ? 1 : 0.05 + this.rng.next() * 0.3;
    const rng = this.rng;
    this.trace.emit('fault', { fault: 'disk', store: s, disk: which, mode: full ? 'full' : 'io-errors', rate: Math.round(rate * 100) / 100 });
    this.diskFaulty.add(s);
    disk.setWriteFault(() => {
      if (rng.next() >= rate) return undefined;
      return full
        ? new EngineError(EngineErrorCodes.NO_SPACE, 'injected fault: no space left on device')
        : new EngineError(EngineErrorCodes.IO, 'injected fault: write failed');
    });
    this.holdThenHeal('disk', () => {
      disk.setWriteFault(undefined);
      this.diskFaulty.delete(s);
    });
  }
}
