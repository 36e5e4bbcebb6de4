/**
 * A real cluster for cross-process store tests: one `mrkv-pd` and N `mrkv-store` processes on
 * loopback, each on its own free ports and temporary data directory, plus what the tests ask of
 * it over the wire: the region map and leaders from PD (GetRegion, as any client would), waiting
 * for replicas and leaders, splitting through the leaders' `SplitRegion`, and the store process
 * that hosts a region's leader (to kill it).
 *
 * Timings are shortened for tests (100 ms raft ticks, so elections take about 1 s; region and
 * store heartbeats every 500 ms so PD learns leaders quickly) but stay well above what a busy
 * 2-core box needs to keep leases and heartbeats steady.
 */
import { ClusterView, type RegionView } from '@mrkv/playground';
import { PdProcess } from '../pd/pd-process.js';
import { StoreProcess } from '../harness/store.js';

/** Store flags used by every cluster test. */
export const FAST_STORE_ARGS: readonly string[] = [
  '--raft-base-tick-ms',
  '100',
  '--raft-election-timeout-ticks',
  '10',
  '--raft-heartbeat-ticks',
  '2',
  '--max-leader-lease-ms',
  '800',
  '--set',
  'raftstore.pd-heartbeat-tick-ms=500',
  '--set',
  'raftstore.pd-store-heartbeat-tick-ms=500',
];

export interface ClusterOptions {
  readonly stores?: number;
  /** Extra flags for every store. */
  readonly storeArgs?: readonly string[];
}

/** Polls `probe` until it returns a value other than undefined; throws `what` past the deadline. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? ` (last error: ${last.message})` : ''}`);
}

export class Cluster {
  /** The store processes by index; a killed one is replaced in place by `restartStore`. */
  readonly stores: StoreProcess[];

  private constructor(
    readonly pd: PdProcess,
    stores: StoreProcess[],
    readonly view: ClusterView,
    /** Store address → PD store id (addresses survive restarts). */
    private readonly storeIds: ReadonlyMap<string, string>,
  ) {
    this.stores = stores;
  }

  /** Starts PD, then the stores, and waits until PD knows every store and region 1 has a leader. */
  static async start(opts: ClusterOptions = {}): Promise<Cluster> {
    const pd = await PdProcess.start();
    const stores: StoreProcess[] = [];
    try {
      const n = opts.stores ?? 3;
      const args = [...FAST_STORE_ARGS, ...(opts.storeArgs ?? [])];
      stores.push(...(await Promise.all(Array.from({ length: n }, () => StoreProcess.start({ pd: [pd.addr], args, logLevel: 'warn' })))));
    } catch (e) {
      for (const s of stores) s.cleanup();
      pd.cleanup();
      throw e;
    }
    const ids = new Map<string, string>();
    for (const st of stores) ids.set(st.addr, String((await st.status()).storeId));
    const c = new Cluster(pd, stores, new ClusterView(pd.addr), ids);
    await waitFor('PD to know every store', async () => ((await c.view.storeCount()) === stores.length ? true : undefined));
    return c;
  }

  /** The region map from PD, in key order. */
  regions(): Promise<RegionView[]> {
    return this.view.regions();
  }

  /** Waits until PD reports `count` regions, each with `replicas` voters (no learner left) and a leader. */
  async waitRegions(count: number, replicas: number, timeoutMs = 30_000): Promise<RegionView[]> {
    return waitFor(
      `${count} regions with ${replicas} replicas and a leader`,
      async () => {
        const rs = await this.regions();
        return rs.length === count && rs.every((r) => r.region.peers.length === replicas && r.region.peers.every((p) => p.role === 'Voter') && r.leader !== undefined) ? rs : undefined;
      },
      timeoutMs,
    );
  }

  /** Splits the key space at `keys` through the region leaders (retrying region errors). */
  async split(keys: readonly string[]): Promise<void> {
    for (const k of keys) {
      const key = Buffer.from(k);
      await waitFor(`a split at ${k}`, async () => {
        const r = await this.view.splitAt([key]);
        if ('sent' in r) return true;
        return undefined;
      });
    }
  }

  /** The store process whose PD store id is `storeId`. */
  storeById(storeId: string): StoreProcess {
    const s = this.stores.find((p) => this.storeIds.get(p.addr) === storeId);
    if (!s) throw new Error(`no store process for store ${storeId}`);
    return s;
  }

  /** The PD store id of a store process (learnt from its /status at start). */
  storeIdOf(p: StoreProcess): string {
    const id = this.storeIds.get(p.addr);
    if (id === undefined) throw new Error(`unknown store process ${p.addr}`);
    return id;
  }

  /** Restarts the (exited) store at `index` on its data directory and ports. */
  async restartStore(index: number): Promise<StoreProcess> {
    const next = await this.stores[index]!.restart();
    this.stores[index] = next;
    return next;
  }

  /** Stops everything (SIGKILL: the tests have checked what they need) and removes the data. */
  async stop(): Promise<void> {
    this.view.close();
    await Promise.all(this.stores.map((s) => s.kill()));
    for (const s of this.stores) s.cleanup();
    await this.pd.kill();
    this.pd.cleanup();
  }

  /** Output tails of every process, for failure messages. */
  tails(n = 15): string {
    return [`--- pd ---\n${this.pd.tail(n)}`, ...this.stores.map((s, i) => `--- store ${i} (${s.addr}) ---\n${s.tail(n)}`)].join('\n');
  }
}
