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
import { join } from 'node:path';
import { ClientErrorCodes, isClientError } from '@mrkv/client';
import { ClusterView, type RegionView } from '@mrkv/playground';
import { RegionErrorCodes } from '@mrkv/proto';
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

/**
 * How long a process may take to answer /ready. Generous: on a 2-core box shared by parallel
 * test files, tsx start-up alone can take tens of seconds.
 */
const READY_TIMEOUT_MS = 90_000;

export interface ClusterOptions {
  readonly stores?: number;
  /** Extra flags for every store. */
  readonly storeArgs?: readonly string[];
}

/** Polls `probe` until it returns a value other than undefined; throws `what` past the deadline. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000, intervalMs = 100): Promise<T> {
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

/**
 * Runs an idempotent call (a read, a put, a range delete) again when its outcome was
 * undetermined. The raftstore answers UndeterminedResult when a proposal or a ReadIndex is not
 * done within twice the election timeout (2 s with these test ticks); on a loaded box the first
 * requests to freshly split regions can take that long (the followers' new peers exist only once
 * they applied the split). The SDK does not retry it, since a write may have been applied; these
 * calls can simply be repeated. At most 5 attempts, so a region that stays stuck still fails.
 */
export async function idempotent<T>(write: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (e) {
      const undetermined = isClientError(e, ClientErrorCodes.REGION_ERROR) && (e.details as { regionError?: string }).regionError === RegionErrorCodes.UNDETERMINED_RESULT;
      if (!undetermined || attempt >= 5) throw e;
    }
  }
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

  /** Starts PD, then the stores, and waits until PD knows every store (regions: `waitRegions`). */
  static async start(opts: ClusterOptions = {}): Promise<Cluster> {
    const pd = await PdProcess.start({ readyTimeoutMs: READY_TIMEOUT_MS });
    const n = opts.stores ?? 3;
    const args = [...FAST_STORE_ARGS, ...(opts.storeArgs ?? [])];
    // MRKV_TEST_LOG_DIR=<dir>: every store logs at info level into <dir>/store-<i>.log (post-mortems).
    const logDir = process.env.MRKV_TEST_LOG_DIR;
    let next = 0;
    const startOne = () =>
      StoreProcess.start({
        pd: [pd.addr],
        args,
        logLevel: logDir === undefined ? 'warn' : 'info',
        readyTimeoutMs: READY_TIMEOUT_MS,
        ...(logDir === undefined ? {} : { outputFile: join(logDir, `store-${next++}.log`) }),
      });
    // All stores start together, as the playground starts them: they race to bootstrap, and PD
    // must admit exactly one first region (two overlapping ones were accepted before 2502e61).
    // allSettled, so that the stores that did start are cleaned up when another one fails.
    const started = await Promise.allSettled(Array.from({ length: n }, startOne));
    const stores = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) {
      for (const s of stores) s.cleanup();
      pd.cleanup();
      throw failed.reason;
    }
    const view = new ClusterView(pd.addr);
    try {
      const ids = new Map<string, string>();
      for (const st of stores) ids.set(st.addr, String((await st.status()).storeId));
      const c = new Cluster(pd, stores, view, ids);
      await waitFor('PD to know every store', async () => ((await c.view.storeCount()) === stores.length ? true : undefined));
      return c;
    } catch (e) {
      view.close();
      for (const s of stores) s.cleanup();
      pd.cleanup();
      throw e;
    }
  }

  /** The region map from PD, in key order. */
  regions(): Promise<RegionView[]> {
    return this.view.regions();
  }

  /** Waits until PD reports `count` regions, each with `replicas` voters (no learner left) and a leader. */
  async waitRegions(count: number, replicas: number, timeoutMs = 60_000): Promise<RegionView[]> {
    let last: RegionView[] = [];
    try {
      return await waitFor(
        `${count} regions with ${replicas} replicas and a leader`,
        async () => {
          const rs = (last = await this.regions());
          return rs.length === count && rs.every((r) => r.region.peers.length === replicas && r.region.peers.every((p) => p.role === 'Voter') && r.leader !== undefined) ? rs : undefined;
        },
        timeoutMs,
      );
    } catch (e) {
      const seen = last.map((r) => `region ${r.region.id} peers ${r.region.peers.map((p) => `${p.id}@${p.storeId}:${p.role}`).join(',')} leader ${r.leader?.storeId ?? 'none'}`);
      throw new Error(`${(e as Error).message}; PD last showed: ${seen.join(' | ') || 'no region'}\n${this.tails()}`, { cause: e });
    }
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
