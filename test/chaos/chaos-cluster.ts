/**
 * The chaos cluster: one `mrkv-pd` and three `mrkv-store` processes on loopback, each store behind
 * a fault proxy (`test/harness/fault-net.ts`) whose address it advertises to PD. Peer stores and
 * SDK clients reach a store only through its proxy; the test reaches a store directly on its real
 * address when it must talk to one particular peer (a deposed leader) whatever the proxy does.
 *
 * Store timings are the cross-process test ones (100 ms ticks, elections in about 1–2 s, 800 ms
 * leases), and raft log GC is aggressive (a handful of entries, a short reserve), so a follower
 * paused for a few seconds falls behind the leader's compacted log and must take a snapshot.
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTikvClient, type kvrpcpb, type metapb, type TikvClient } from '@mrkv/proto';
import { ClusterView, type RegionView } from '@mrkv/playground';
import { FaultNet } from '../harness/fault-net.js';
import { freePorts } from '../harness/ports.js';
import { StoreProcess } from '../harness/store.js';
import { PdProcess } from '../pd/pd-process.js';
import { FAST_STORE_ARGS, waitFor } from '../store/cluster.js';

/** Raft log GC that compacts behind a lagging follower within seconds (snapshot scenarios). */
export const AGGRESSIVE_GC_ARGS: readonly string[] = [
  '--set',
  'raftstore.raft-log-gc-tick-ms=300',
  '--set',
  'raftstore.raft-log-gc-threshold=5',
  '--set',
  'raftstore.raft-log-gc-count-limit=12',
  '--set',
  'raftstore.raft-log-reserve-max-ticks=1',
  // Reconnect quickly after a healed partition.
  '--set',
  'transport.backoff-max-ms=500',
];

/** The name of store `i` on the fault network. */
export const storeName = (i: number): string => `s${i}`;

export class ChaosCluster {
  private constructor(
    readonly pd: PdProcess,
    readonly stores: StoreProcess[],
    readonly net: FaultNet,
    readonly view: ClusterView,
    /** PD store id of each store index. */
    readonly storeIds: readonly string[],
  ) {}

  /**
   * Starts PD, the proxies and `n` stores, and waits until region 1 has `n` voters and a leader.
   * Stores run with `MRKV_FAILPOINTS_WATCH=1` (disk failpoints switched by {@link setDiskFailpoints}).
   */
  static async start(n = 3, extraArgs: readonly string[] = []): Promise<ChaosCluster> {
    // No leader balancing: every leader change in a scenario comes from its fault.
    const pd = await PdProcess.start({ args: ['--schedule', 'leader-schedule-limit=0'] });
    const net = new FaultNet();
    const stores: StoreProcess[] = [];
    try {
      const ports = await freePorts(n);
      const proxies = await Promise.all(ports.map((p, i) => net.addProxy(storeName(i), `127.0.0.1:${p}`)));
      const args = [...FAST_STORE_ARGS, ...AGGRESSIVE_GC_ARGS, ...extraArgs];
      stores.push(
        ...(await Promise.all(
          ports.map((p, i) =>
            StoreProcess.start({ pd: [pd.addr], addr: `127.0.0.1:${p}`, args: [...args, '--advertise-addr', proxies[i]!.addr], env: { MRKV_FAILPOINTS_WATCH: '1' }, logLevel: process.env.MRKV_CHAOS_LOG_LEVEL ?? 'info', readyTimeoutMs: 60_000 }),
          ),
        )),
      );
      stores.forEach((s, i) => net.setPid(storeName(i), s.pid));
      const ids: string[] = [];
      for (const s of stores) ids.push(String((await s.status()).storeId));
      const c = new ChaosCluster(pd, stores, net, new ClusterView(pd.addr), ids);
      await c.waitHealthy(30_000);
      return c;
    } catch (e) {
      for (const s of stores) s.cleanup();
      await net.close();
      pd.cleanup();
      throw e;
    }
  }

  /** Every region has `stores.length` voters and a leader (per PD). */
  async waitHealthy(timeoutMs = 30_000): Promise<RegionView[]> {
    return waitFor(
      'every region fully replicated with a leader',
      async () => {
        const rs = await this.view.regions();
        const n = this.stores.length;
        return rs.length > 0 && rs.every((r) => r.region.peers.length === n && r.region.peers.every((p) => p.role === 'Voter') && r.leader !== undefined)
          ? rs
          : undefined;
      },
      timeoutMs,
    );
  }

  /** Index of the store with PD store id `storeId`. */
  indexOf(storeId: string): number {
    const i = this.storeIds.indexOf(storeId);
    if (i < 0) throw new Error(`no store with id ${storeId}`);
    return i;
  }

  /** The index of the store leading the region of `key`, per PD (waits for one). */
  async leaderIndexOf(key: string, timeoutMs = 20_000): Promise<{ index: number; region: RegionView }> {
    const r = await waitFor(`a leader for ${key}`, async () => {
      const v = await this.view.regionOf(Buffer.from(key));
      return v?.leader ? v : undefined;
    }, timeoutMs);
    return { index: this.indexOf(r.leader!.storeId), region: r };
  }

  /**
   * The leader of the region of `key` as the stores themselves see it: the store whose own peer
   * answers a ReadIndex directly (not through the proxy). PD may lag behind an election.
   */
  async liveLeaderIndex(key: string, exclude: readonly number[] = [], timeoutMs = 20_000): Promise<number> {
    return waitFor(`a live leader for ${key}`, async () => {
      const r = await this.view.regionOf(Buffer.from(key));
      if (!r) return undefined;
      for (let i = 0; i < this.stores.length; i++) {
        if (exclude.includes(i) || !this.stores[i]!.running) continue;
        const peer = r.region.peers.find((p) => p.storeId === this.storeIds[i]);
        if (!peer) continue;
        const got = await directGet(this.stores[i]!, r.region, peer, key, 1_000).catch(() => undefined);
        if (got !== undefined && got.kind === 'value') return i;
      }
      return undefined;
    }, timeoutMs, 200);
  }

  /** Kills store `i` with SIGKILL. */
  async kill(i: number): Promise<void> {
    await this.stores[i]!.kill();
  }

  /** Restarts the exited store `i` on its data directory and ports, and registers its new pid. */
  async restart(i: number): Promise<StoreProcess> {
    const next = await this.stores[i]!.restart();
    this.stores[i] = next;
    this.net.setPid(storeName(i), next.pid);
    return next;
  }

  /**
   * Switches store `i`'s disk failpoints at runtime (`MRKV_FAILPOINTS` format, e.g. `disk-full`
   * or `slow-fsync=150`) by replacing `<data-dir>/failpoints` atomically; `undefined` removes the
   * file (space is back). The store applies it within its 100 ms poll, and at its next start.
   */
  setDiskFailpoints(i: number, spec: string | undefined): void {
    const file = join(this.stores[i]!.dataDir, 'failpoints');
    if (spec === undefined) {
      rmSync(file, { force: true });
      return;
    }
    writeFileSync(`${file}.tmp`, spec);
    renameSync(`${file}.tmp`, file);
  }

  /** A counter of the store's Prometheus metrics (sum over label sets matching `labels`). */
  async metric(i: number, name: string, labels: Readonly<Record<string, string>> = {}): Promise<number> {
    const body = (await this.stores[i]!.http('/metrics')).body;
    let sum = 0;
    for (const line of body.split('\n')) {
      if (!line.startsWith(name)) continue;
      const m = /^([a-zA-Z_:]+)(\{([^}]*)\})?\s+([-0-9.e+]+)$/.exec(line);
      if (!m || m[1] !== name) continue;
      const ls = Object.fromEntries((m[3] ?? '').split(',').filter(Boolean).map((kv) => kv.split('=').map((x) => x.replace(/"/g, '')) as [string, string]));
      if (Object.entries(labels).every(([k, v]) => ls[k] === v)) sum += Number(m[4]);
    }
    return sum;
  }

  /** Stops everything and removes the data. */
  async stop(): Promise<void> {
    this.view.close();
    this.stores.forEach((s) => s.resume());
    await Promise.all(this.stores.map((s) => s.kill()));
    for (const s of this.stores) s.cleanup();
    await this.net.close();
    await this.pd.kill();
    this.pd.cleanup();
  }

  /** Output tails of every process, for failure messages. */
  tails(n = 20): string {
    return [`--- pd ---\n${this.pd.tail(n)}`, ...this.stores.map((s, i) => `--- store ${i} (${s.addr}) ---\n${s.tail(n)}`)].join('\n');
  }
}

/** The outcome of one direct RawGet at a particular peer. */
export type DirectGet = { kind: 'value'; value: string | null } | { kind: 'region-error'; message: string } | { kind: 'error'; message: string };

const tikvClients = new Map<string, TikvClient>();

/** A Tikv client on the store's real address (bypassing its proxy), cached per address. */
export function directClient(store: StoreProcess): TikvClient {
  let c = tikvClients.get(store.addr);
  if (!c) {
    c = createTikvClient(store.addr);
    tikvClients.set(store.addr, c);
  }
  return c;
}

/** Closes the cached direct clients. */
export function closeDirectClients(): void {
  for (const c of tikvClients.values()) c.close();
  tikvClients.clear();
}

/**
 * RawGet of `key` at `peer` on `store` itself, no retries: a value, a region error, or an error.
 * `replicaRead`: a follower read (ReadIndex from the leader, then the peer's own data).
 */
export function directGet(store: StoreProcess, region: metapb.Region__Output, peer: metapb.Peer__Output, key: string, timeoutMs: number, replicaRead = false): Promise<DirectGet> {
  const client = directClient(store);
  return new Promise((resolve) => {
    client.RawGet(
      { context: { regionId: region.id, regionEpoch: region.regionEpoch, peer, replicaRead }, key: Buffer.from(key) },
      { deadline: Date.now() + timeoutMs },
      (err, res?: kvrpcpb.RawGetResponse__Output) => {
        if (err) return resolve({ kind: 'error', message: err.message });
        if (res!.regionError) return resolve({ kind: 'region-error', message: res!.regionError.message || JSON.stringify(res!.regionError) });
        if (res!.error) return resolve({ kind: 'error', message: res!.error });
        resolve({ kind: 'value', value: res!.notFound ? null : res!.value.toString() });
      },
    );
  });
}

/** RawPut of `key` at `peer` on `store` itself, no retries: resolves when acknowledged, rejects otherwise. */
export function directPut(store: StoreProcess, region: metapb.Region__Output, peer: metapb.Peer__Output, key: string, value: string, timeoutMs: number): Promise<void> {
  const client = directClient(store);
  return new Promise((resolve, reject) => {
    client.RawPut(
      { context: { regionId: region.id, regionEpoch: region.regionEpoch, peer }, key: Buffer.from(key), value: Buffer.from(value) },
      { deadline: Date.now() + timeoutMs },
      (err, res?: kvrpcpb.RawPutResponse__Output) => {
        if (err) return reject(err);
        if (res!.regionError) return reject(new Error(`region error: ${res!.regionError.message || JSON.stringify(res!.regionError)}`));
        if (res!.error) return reject(new Error(res!.error));
        resolve();
      },
    );
  });
}
