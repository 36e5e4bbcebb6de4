/**
 * A real cluster for end-to-end and cross-process store tests (test/e2e, test/store): one
 * `mrkv-pd` and N `mrkv-store` processes on loopback, each on its own free ports and temporary
 * data directory, with PD's scheduling config and the stores' flags chosen by the test. Beside
 * the processes it offers what the tests ask of the cluster over the wire: the region map from
 * PD, `mrkv-ctl` run in process against this PD, waiting for replica and leader conditions, and
 * killing, pausing and restarting PD or a store.
 *
 * ```ts
 * const c = await E2eCluster.start({ stores: 4, schedule: { 'max-store-down-time': '6s' } });
 * await c.waitRegions((rs) => rs.length === 1 && rs.every(c.fullyReplicated));
 * const { code, out } = await c.ctl('store', 'list');
 * await c.stop();
 * ```
 *
 * Timings are shortened (100 ms raft ticks, 500 ms store and region heartbeats, PD ticking every
 * 100 ms), but stay well above what a loaded 2-core box needs to keep leases steady. With
 * `pdTimings: 'default'` PD keeps its own tick and scheduling intervals (the store tests' setting:
 * PD moves nothing behind a failover test's back).
 *
 * `MRKV_TEST_LOG_DIR=<dir>`: every store logs at info level into `<dir>/store-<i>.log`, and PD's
 * output is appended to `<dir>/pd.log` when PD stops (post-mortems).
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCtl } from '@mrkv/ctl';
import { ClusterView, type RegionView } from '@mrkv/playground';
import { PdProcess } from '../pd/pd-process.js';
import { StoreProcess } from './store.js';
import { waitFor } from './wait.js';

/** Store flags of every end-to-end cluster (fast raft ticks, frequent PD heartbeats). */
export const E2E_STORE_ARGS: readonly string[] = [
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

/** PD scheduling keys of every end-to-end cluster (fast patrol and scheduling). */
export const E2E_SCHEDULE: Readonly<Record<string, string>> = {
  'patrol-region-interval': '200ms',
  'schedule-interval': '200ms',
};

/**
 * How long a process may take to become ready. Starting a store from sources (tsx) takes 3–20 s
 * on a loaded 2-core machine, and the stores of a cluster start together.
 */
const READY_TIMEOUT_MS = 90_000;

export interface E2eClusterOptions {
  /** Stores to start (default 3). */
  readonly stores?: number;
  /** Extra flags for every store, after {@link E2E_STORE_ARGS}. */
  readonly storeArgs?: readonly string[];
  /** PD scheduling keys (`--schedule k=v`), over {@link E2E_SCHEDULE}. */
  readonly schedule?: Readonly<Record<string, string>>;
  /** Checkers and schedulers to turn off right after PD starts (before any store exists). */
  readonly disable?: readonly string[];
  /** Store log level (default warn). */
  readonly storeLogLevel?: string;
  /**
   * `fast` (default): PD ticks every 100 ms with {@link E2E_SCHEDULE} under `schedule`; `default`:
   * PD's own tick interval and scheduling config (`schedule` must then be absent).
   */
  readonly pdTimings?: 'fast' | 'default';
}

/** What `ctl` returns: the exit code and everything written. */
export interface CtlResult {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

export class E2eCluster {
  /** The store processes by index; a killed one is replaced in place by `restartStore`. */
  readonly stores: StoreProcess[];
  private pdProcess: PdProcess;
  private clusterView: ClusterView;

  private constructor(
    pd: PdProcess,
    stores: StoreProcess[],
    /** Store address → PD store id (addresses survive restarts). */
    private readonly storeIds: ReadonlyMap<string, string>,
  ) {
    this.pdProcess = pd;
    this.stores = stores;
    this.clusterView = new ClusterView(pd.addr);
  }

  /**
   * Starts PD, turns off `disable`, starts the stores and waits until PD knows every store
   * (regions: `waitRegions`, `waitReplicated`). Whatever started is killed and removed when a step
   * fails.
   */
  static async start(opts: E2eClusterOptions = {}): Promise<E2eCluster> {
    const pd = await PdProcess.start({ readyTimeoutMs: READY_TIMEOUT_MS, args: pdArgs(opts) });
    const stores: StoreProcess[] = [];
    let c: E2eCluster | undefined;
    try {
      for (const name of opts.disable ?? []) {
        const r = await ctlAt(pd.addr, 'scheduler', 'remove', name);
        if (r.code !== 0) throw new Error(`scheduler remove ${name}: ${r.err}`);
      }
      const n = opts.stores ?? 3;
      const args = [...E2E_STORE_ARGS, ...(opts.storeArgs ?? [])];
      const logDir = process.env.MRKV_TEST_LOG_DIR;
      const logging = (i: number) => (logDir === undefined ? { logLevel: opts.storeLogLevel ?? 'warn' } : { logLevel: 'info', outputFile: join(logDir, `store-${i}.log`) });
      // All stores start together, as the playground starts them: they race to bootstrap, and PD
      // must admit exactly one first region (two overlapping ones were accepted before 2502e61).
      // allSettled, so that the stores that did start are cleaned up when another one fails.
      const started = await Promise.allSettled(
        Array.from({ length: n }, (_, i) => StoreProcess.start({ pd: [pd.addr], args, ...logging(i), readyTimeoutMs: READY_TIMEOUT_MS })),
      );
      for (const s of started) if (s.status === 'fulfilled') stores.push(s.value);
      const failed = started.find((s) => s.status === 'rejected');
      if (failed) throw failed.reason;
      const ids = new Map<string, string>();
      for (const st of stores) ids.set(st.addr, String((await st.status()).storeId));
      c = new E2eCluster(pd, stores, ids);
      await c.waitStoresKnown();
      return c;
    } catch (e) {
      c?.view.close();
      for (const s of stores) s.cleanup();
      pd.cleanup();
      throw e;
    }
  }

  /** Waits until PD knows every store process. */
  private waitStoresKnown(): Promise<true> {
    return waitFor('PD to know every store', async () => ((await this.view.storeCount()) === this.stores.length ? true : undefined));
  }

  /** The PD process now (replaced by `restartPd`). */
  get pd(): PdProcess {
    return this.pdProcess;
  }

  /** PD's client address (the same across PD restarts). */
  get pdAddr(): string {
    return this.pdProcess.addr;
  }

  /** Wire queries against PD and the stores. */
  get view(): ClusterView {
    return this.clusterView;
  }

  /** The region map from PD, in key order. */
  regions(): Promise<RegionView[]> {
    return this.view.regions();
  }

  /** True if the region has `replicas` voters, no learner, and a known leader. */
  static fullyReplicated(r: RegionView, replicas = 3): boolean {
    return r.leader !== undefined && r.region.peers.length === replicas && r.region.peers.every((p) => p.role === 'Voter');
  }

  /** Waits until `pred` holds of PD's region map; resolves with that map. */
  waitRegions(what: string, pred: (rs: RegionView[]) => boolean, timeoutMs = 30_000): Promise<RegionView[]> {
    return waitFor(
      what,
      async () => {
        const rs = await this.regions();
        return pred(rs) ? rs : undefined;
      },
      { timeoutMs, intervalMs: 200, describe: async () => `${describeRegions(await this.regions())}; operators: ${await this.describeOperators()}` },
    );
  }

  /**
   * Waits until PD reports `count` regions, each {@link fullyReplicated} with `replicas` voters;
   * a failure names PD's last region map and operators, and the processes' output tails.
   */
  async waitReplicated(count: number, replicas = 3, timeoutMs = 60_000): Promise<RegionView[]> {
    try {
      return await this.waitRegions(`${count} regions with ${replicas} replicas and a leader`, (rs) => rs.length === count && rs.every((r) => E2eCluster.fullyReplicated(r, replicas)), timeoutMs);
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${this.tails()}`, { cause: e });
    }
  }

  /** Running and recent operators, one short line each, for failure messages. */
  async describeOperators(): Promise<string> {
    const r = await this.ctl('--json', 'operator', 'list', '--history');
    if (r.code !== 0) return `(operator list failed: ${r.err.trim()})`;
    const ops = JSON.parse(r.out) as Array<{ regionId: number; desc: string; status: string; currentStep: number; steps: string[]; reason: string; ageMs: number }>;
    return ops.map((o) => `[r${o.regionId} ${o.desc}: ${o.status}${o.reason ? ` (${o.reason})` : ''} step ${o.currentStep}/${o.steps.length} ${Math.round(o.ageMs / 1000)}s]`).join(' ') || 'none';
  }

  /** Splits the key space at `keys` through the region leaders (tikvpb.SplitRegion, retried). */
  async split(keys: readonly string[]): Promise<void> {
    for (const k of keys) {
      await waitFor(`a split at ${k}`, async () => ('sent' in (await this.view.splitAt([Buffer.from(k)])) ? true : undefined));
    }
  }

  /** Runs mrkv-ctl in process against this PD. */
  ctl(...args: string[]): Promise<CtlResult> {
    return ctlAt(this.pdAddr, ...args);
  }

  /** Runs `mrkv-ctl --json …`, expects exit code 0 and parses the document. */
  async ctlJson<T>(...args: string[]): Promise<T> {
    const r = await this.ctl('--json', ...args);
    if (r.code !== 0) throw new Error(`mrkv-ctl ${args.join(' ')} exited ${r.code}: ${r.err}`);
    return JSON.parse(r.out) as T;
  }

  /** The store process whose PD store id is `storeId`. */
  storeById(storeId: string | number): StoreProcess {
    const s = this.stores.find((p) => this.storeIds.get(p.addr) === String(storeId));
    if (!s) throw new Error(`no store process for store ${storeId}`);
    return s;
  }

  /** The PD store id of a store process. */
  storeIdOf(p: StoreProcess): string {
    const id = this.storeIds.get(p.addr);
    if (id === undefined) throw new Error(`unknown store process ${p.addr}`);
    return id;
  }

  /** Every store id, in process order. */
  allStoreIds(): string[] {
    return this.stores.map((s) => this.storeIdOf(s));
  }

  /** Restarts the (exited) store at `index` on its data directory and ports. */
  async restartStore(index: number): Promise<StoreProcess> {
    const next = await this.stores[index]!.restart();
    this.stores[index] = next;
    return next;
  }

  /** Stops PD (SIGTERM, waiting for a clean exit, or SIGKILL) and starts it again on its data and ports. */
  async restartPd(how: 'SIGTERM' | 'SIGKILL'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const exit = how === 'SIGTERM' ? await this.pdProcess.stop() : await this.pdProcess.kill();
    this.keepPdLog();
    this.clusterView.close();
    this.pdProcess = await this.pdProcess.restart();
    this.clusterView = new ClusterView(this.pdProcess.addr);
    return exit;
  }

  /** Stops everything (SIGKILL: the tests have checked what they need) and removes the data. */
  async stop(): Promise<void> {
    this.clusterView.close();
    await Promise.all(this.stores.map((s) => s.kill()));
    for (const s of this.stores) s.cleanup();
    await this.pdProcess.kill();
    this.keepPdLog();
    this.pdProcess.cleanup();
  }

  /** With MRKV_TEST_LOG_DIR: appends the (exited) PD process's output to `<dir>/pd.log`. */
  private keepPdLog(): void {
    const logDir = process.env.MRKV_TEST_LOG_DIR;
    if (logDir !== undefined) appendFileSync(join(logDir, 'pd.log'), this.pdProcess.lines.map((l) => l + '\n').join(''));
  }

  /** Output tails of every process, for failure messages. */
  tails(n = 15): string {
    return [`--- pd ---\n${this.pdProcess.tail(n)}`, ...this.stores.map((s, i) => `--- store ${i} (${s.addr}) ---\n${s.tail(n)}`)].join('\n');
  }
}

/** PD's flags for `opts.pdTimings`. */
function pdArgs(opts: E2eClusterOptions): string[] {
  if (opts.pdTimings === 'default') {
    if (opts.schedule !== undefined) throw new Error("E2eCluster: 'schedule' needs pdTimings 'fast'");
    return [];
  }
  const schedule = { ...E2E_SCHEDULE, ...opts.schedule };
  return ['--tick-interval-ms', '100', ...Object.entries(schedule).flatMap(([k, v]) => ['--schedule', `${k}=${v}`])];
}

/** Runs mrkv-ctl in process against the PD at `pdAddr`. */
export async function ctlAt(pdAddr: string, ...args: string[]): Promise<CtlResult> {
  let out = '';
  let err = '';
  const code = await runCtl(['--pd', pdAddr, ...args], { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

/** One line per region: id, range, peers (`*` leader, `L` learner), for failure messages. */
export function describeRegions(rs: readonly RegionView[]): string {
  return rs
    .map((r) => {
      const peers = r.region.peers.map((p) => `${p.storeId}${p.role === 'Learner' ? 'L' : ''}${r.leader?.id === p.id ? '*' : ''}`).join(',');
      return `#${r.region.id}[${Buffer.from(r.region.startKey).toString()}..${Buffer.from(r.region.endKey).toString()}) v${r.region.regionEpoch?.version}/c${r.region.regionEpoch?.confVer} {${peers}}`;
    })
    .join(' ');
}

/** Leader count per store id (every id in `storeIds` listed, zero included). */
export function leadersPerStore(rs: readonly RegionView[], storeIds: readonly string[]): Map<string, number> {
  const m = new Map(storeIds.map((id) => [id, 0]));
  for (const r of rs) if (r.leader) m.set(r.leader.storeId, (m.get(r.leader.storeId) ?? 0) + 1);
  return m;
}
