/**
 * `pnpm bench store [--seconds S] [--warmup S] [--concurrency C] [--regions 1,64,1024]
 *                   [--engines memory,rocksdb] [--value-size B] [--dir D] [--profile FILE]
 *                   [--heap-profile FILE]`
 *
 * Proposals per second through the raft and apply batch systems of an in-process three-store
 * cluster (`TestCluster`: every store, its raft and apply pollers and the load generator share
 * one thread, and the network is the in-process one), for 1, 64 and 1,024 regions, on memory
 * and on RocksDB engines (one kv and one raft-log RocksDB per store, in a temp dir).
 *
 * Per case: start the cluster, pre-split the key space through the leader (SplitRegion, ids from
 * the in-process PD), wait until every region has a leader, then `C` writers each put 256-byte
 * incompressible values under a uniformly random region's prefix, one put at a time, straight
 * into the leader's RawKV API (no gRPC). After a warm-up, the counters of every store
 * (`store.ctx.counters`) are read at the start and end of the measured window:
 *
 * - writes/s (`proposals_per_sec`) = puts acknowledged (applied on the leader) in the window ÷ its length.
 * - `fsyncs_per_write` = raft-log fsyncs of all three stores ÷ client writes committed. Without
 *   group commit it would be at least 3 (each replica syncs each write); below 1 means one
 *   fsync covered several writes (and several regions: one raft-log batch per poll round).
 * - `cmds_per_proposal` = commands proposed ÷ raft proposals (the peer's proposal batching).
 * - `apply_writes_per_write` = kv write batches of all stores ÷ writes.
 * - `msgs_per_write` = raft messages sent by all stores ÷ writes (appends, acks, heartbeats).
 * - `cpu_us_per_write` = process CPU time (user + system, all threads) in the window ÷ writes:
 *   steadier than writes/s on a shared machine, where another process can take a core away.
 *
 * With `--profile FILE`, the measured window of the last case is CPU-profiled (node:inspector,
 * the same profiler as `node --cpu-prof`), written to FILE (.cpuprofile, opens in Chrome
 * DevTools) and its top self-time functions printed. With `--heap-profile FILE`, the same window
 * is heap-sampled (`HeapProfiler.startSampling`, one sample per 16 KiB allocated on average),
 * written to FILE (.heapprofile, DevTools' Memory tab) and the functions that allocated the most
 * bytes printed: what the garbage collector's share of the CPU profile is spent on.
 *
 * Bad flags print the usage and exit 2. The last line is one JSON object; its top-level
 * `proposals_per_sec` and `fsyncs_per_write` are
 * the 1,024-region RocksDB case's (or the last case's when that one is not run).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CommonCodes, MrkvError } from '@mrkv/common';
import { openRocksKvEngine, openRocksRaftLogEngine } from '@mrkv/engine';
import { isRegionError, regionContainsKey, type RequestContext } from '@mrkv/proto';
import { TestCluster } from '@mrkv/raftstore/testing';
import type { RaftstoreCounters } from '../src/store/context.js';
import { topAllocations, topSelfTime, type CpuProfile, type HeapProfile } from './profile.js';

type EngineKind = 'memory' | 'rocksdb';

interface Args {
  seconds: number;
  warmup: number;
  concurrency: number;
  regions: number[];
  engines: EngineKind[];
  valueSize: number;
  dir: string | undefined;
  profile: string | undefined;
  heapProfile: string | undefined;
}

const USAGE =
  'usage: store-bench [--seconds S] [--warmup S] [--concurrency C] [--regions 1,64,1024] [--engines memory,rocksdb] [--value-size B] [--dir D] [--profile FILE] [--heap-profile FILE]';

/** A bad flag: reported with the usage, exit code 2. */
function usageError(message: string): MrkvError {
  return new MrkvError(CommonCodes.INVALID_ARGUMENT, `${message}\n${USAGE}`);
}

function parseArgs(argv: string[]): Args {
  const a: Args = { seconds: 3, warmup: 1, concurrency: 1024, regions: [1, 64, 1024], engines: ['memory', 'rocksdb'], valueSize: 256, dir: undefined, profile: undefined, heapProfile: undefined };
  const num = (flag: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw usageError(`${flag} needs a number ≥ ${min}, got ${JSON.stringify(v)}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const v = argv[i + 1];
    switch (flag) {
      case '--seconds':
        a.seconds = num(flag, v, 0.1);
        break;
      case '--warmup':
        a.warmup = num(flag, v, 0);
        break;
      case '--concurrency':
        a.concurrency = Math.floor(num(flag, v, 1));
        break;
      case '--value-size':
        a.valueSize = Math.floor(num(flag, v, 0));
        break;
      case '--regions':
        a.regions = (v ?? '').split(',').map((s) => Math.floor(num(flag, s, 1)));
        break;
      case '--engines':
        a.engines = (v ?? '').split(',').map((s) => {
          if (s !== 'memory' && s !== 'rocksdb') throw usageError(`--engines takes memory and/or rocksdb, got ${JSON.stringify(s)}`);
          return s;
        });
        break;
      case '--dir':
        if (v === undefined) throw usageError(`--dir needs a path`);
        a.dir = v;
        break;
      case '--profile':
        if (v === undefined) throw usageError(`--profile needs a file name`);
        a.profile = v;
        break;
      case '--heap-profile':
        if (v === undefined) throw usageError(`--heap-profile needs a file name`);
        a.heapProfile = v;
        break;
      default:
        throw usageError(`unknown argument ${flag}`);
    }
    i++;
  }
  return a;
}

/** One region's write target: its key prefix and the leader's context (refreshed on region errors). */
interface Route {
  readonly prefix: string;
  readonly start: string;
  leader: number;
  ctx: RequestContext;
}

interface CaseResult {
  engine: EngineKind;
  regions: number;
  concurrency: number;
  writes: number;
  seconds: number;
  proposals_per_sec: number;
  p50_ms: number;
  p99_ms: number;
  fsyncs_per_write: number;
  cmds_per_proposal: number;
  raft_rounds_per_sec: number;
  apply_writes_per_write: number;
  /** Raft messages sent by all stores ÷ writes (appends, acks, heartbeats: the transport's load). */
  msgs_per_write: number;
  /**
   * Process CPU time (user + system, every thread: RocksDB's too) per write, in µs: on a shared
   * machine a steadier figure than writes/s, which drops whenever another process takes a core.
   */
  cpu_us_per_write: number;
  region_errors: number;
  /** Region errors met (and retried after a route refresh), by error code. */
  region_errors_by_code: Record<string, number>;
  setup_s: number;
}

const pad = (n: number): string => String(n).padStart(5, '0');

function sumCounters(cluster: TestCluster): RaftstoreCounters {
  const out: Record<string, number> = {};
  for (const id of cluster.running()) {
    for (const [k, v] of Object.entries(cluster.store(id).ctx.counters)) out[k] = (out[k] ?? 0) + v;
  }
  return out as unknown as RaftstoreCounters;
}

function pct(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** A small fast PRNG (xorshift32) for picking regions and value offsets. */
function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

async function openCluster(engine: EngineKind, root: string | undefined): Promise<{ cluster: TestCluster; cleanup: () => void }> {
  // 250 ms raft ticks (production: 1 s): 3 × 1,024 peers share one thread here, and shorter
  // ticks make their heartbeats alone a large share of its time (and, on a busy box, make
  // elections spurious); with 1 s ticks the first election and the elections of split children
  // whose vote reached a follower before it applied the split take 10-20 s, so setup would.
  const cfg = {
    raftBaseTickMs: 250,
    maxLeaderLeaseMs: 2000,
    leaseReadMarginMs: 100,
    raftLogGcTickMs: 3000,
    pdHeartbeatTickMs: 60_000,
    pdStoreHeartbeatTickMs: 10_000,
    splitRegionCheckTickMs: 10_000,
  };
  if (engine === 'memory') return { cluster: new TestCluster({ stores: 3, cfg }), cleanup: () => {} };
  const dir = mkdtempSync(join(root ?? tmpdir(), 'mrkv-store-bench-'));
  const cluster = new TestCluster({
    stores: 3,
    cfg,
    engines: async (storeId) => {
      const kv = await openRocksKvEngine({ path: join(dir, `store-${storeId}`, 'kv'), storeId });
      const raft = await openRocksRaftLogEngine({ path: join(dir, `store-${storeId}`, 'raft'), storeId });
      return { kv, raft };
    },
  });
  return { cluster, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Splits the key space into `n` regions at `r00001`, `r00002`, … and waits for every leader. */
async function presplit(cluster: TestCluster, n: number): Promise<Route[]> {
  const first = await cluster.start();
  await cluster.waitLeader(first.id, 20_000);
  if (n > 1) {
    const keys = Array.from({ length: n - 1 }, (_, i) => Buffer.from(`r${pad(i + 1)}`));
    // Split in chunks of 256 keys: each chunk is one BatchSplit of the rightmost region so far.
    for (let i = 0; i < keys.length; i += 256) {
      const chunk = keys.slice(i, i + 256);
      await cluster.withLeader(chunk[0]!, (kv, ctx) => kv.splitRegion(ctx, chunk), 30_000);
    }
  }
  const routes: Route[] = [];
  for (let i = 0; i < n; i++) routes.push(await routeFor(cluster, `r${pad(i)}/`, i === 0 ? '' : `r${pad(i)}`));
  return routes;
}

/**
 * The route to the region that starts at `start` and holds `prefix`, once that region has a
 * leader whose own view of it is the split one (a split's result reaches the stores' region maps
 * a little after the SplitRegion call returns).
 */
async function routeFor(cluster: TestCluster, prefix: string, start: string): Promise<Route> {
  const key = Buffer.from(prefix);
  const startKey = Buffer.from(start);
  return cluster.waitFor(
    () => {
      const region = cluster.regionOf(key);
      const leader = region === undefined ? undefined : cluster.leaderStore(region.id);
      if (region === undefined || leader === undefined) return undefined;
      // The leader's own view must already hold the key: right after a split, a store that has
      // not applied it yet still shows the parent's old range.
      const local = cluster.store(leader).peers.get(region.id)?.region;
      if (local === undefined || !regionContainsKey(local, key) || Buffer.compare(local.startKey, startKey) !== 0) return undefined;
      return { prefix, start, leader, ctx: cluster.contextFor(local, leader) };
    },
    30_000,
    `a leader for ${prefix}`,
  );
}

/** What `runCase` profiled of its measured window: CPU, heap allocations, both or neither. */
interface Profiles {
  cpuProfile?: CpuProfile;
  heapProfile?: HeapProfile;
}

async function runCase(engine: EngineKind, regions: number, a: Args, profile: { cpu: boolean; heap: boolean }): Promise<{ result: CaseResult } & Profiles> {
  const setupStart = performance.now();
  const { cluster, cleanup } = await openCluster(engine, a.dir);
  try {
    const routes = await presplit(cluster, regions);
    const setupS = (performance.now() - setupStart) / 1000;
    const pool = randomBytes(1 << 20); // values are slices of random bytes: incompressible
    const latencies: number[] = [];
    let acked = 0;
    let regionErrors = 0;
    const errorKinds = new Map<string, number>();
    let measuring = false;
    let stopping = false;

    const writer = async (w: number): Promise<void> => {
      const rnd = xorshift(0x9e3779b9 ^ (w * 2654435761));
      for (let seq = 0; !stopping; seq++) {
        const route = routes[rnd() % routes.length]!;
        const key = Buffer.from(`${route.prefix}${w}-${seq}`);
        const off = rnd() % (pool.length - a.valueSize);
        const value = pool.subarray(off, off + a.valueSize);
        const t0 = performance.now();
        try {
          await cluster.rawKv(route.leader).rawPut(route.ctx, key, value);
          if (measuring) {
            acked++;
            latencies.push(performance.now() - t0);
          }
        } catch (err) {
          if (!isRegionError(err)) throw err;
          regionErrors++;
          const kind = (err as { code?: string }).code ?? 'unknown';
          errorKinds.set(kind, (errorKinds.get(kind) ?? 0) + 1);
          Object.assign(route, await routeFor(cluster, route.prefix, route.start));
        }
      }
    };
    const writers = Array.from({ length: a.concurrency }, (_, w) => writer(w));
    await new Promise((r) => setTimeout(r, a.warmup * 1000));

    let session: Session | undefined;
    if (profile.cpu || profile.heap) {
      session = new Session();
      session.connect();
    }
    if (session !== undefined && profile.cpu) {
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    }
    if (session !== undefined && profile.heap) {
      await session.post('HeapProfiler.enable');
      // Objects already collected count too: the point is what was allocated, not what survived.
      await session.post('HeapProfiler.startSampling', { samplingInterval: 16 * 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
    }
    const c0 = sumCounters(cluster);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    measuring = true;
    await new Promise((r) => setTimeout(r, a.seconds * 1000));
    measuring = false;
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const c1 = sumCounters(cluster);
    const profiles: Profiles = {};
    if (session !== undefined) {
      if (profile.cpu) profiles.cpuProfile = (await session.post('Profiler.stop')).profile as CpuProfile;
      if (profile.heap) profiles.heapProfile = (await session.post('HeapProfiler.stopSampling')).profile as HeapProfile;
      session.disconnect();
    }
    stopping = true;
    await Promise.all(writers);

    const d = (k: keyof RaftstoreCounters): number => c1[k] - c0[k];
    const writes = acked;
    const sorted = Float64Array.from(latencies).sort();
    const result: CaseResult = {
      engine,
      regions,
      concurrency: a.concurrency,
      writes,
      seconds: round(seconds, 2),
      proposals_per_sec: Math.round(writes / seconds),
      p50_ms: round(pct(sorted, 50), 2),
      p99_ms: round(pct(sorted, 99), 2),
      fsyncs_per_write: round(d('raftSyncs') / Math.max(1, writes), 4),
      cmds_per_proposal: round(d('proposedCommands') / Math.max(1, d('proposals')), 2),
      raft_rounds_per_sec: Math.round(d('raftRounds') / seconds),
      apply_writes_per_write: round(d('applyWrites') / Math.max(1, writes), 4),
      msgs_per_write: round(d('messagesSent') / Math.max(1, writes), 2),
      cpu_us_per_write: Math.round((cpu.user + cpu.system) / Math.max(1, writes)),
      region_errors: regionErrors,
      region_errors_by_code: Object.fromEntries(errorKinds),
      setup_s: round(setupS, 1),
    };
    return { result, ...profiles };
  } finally {
    await cluster.shutdown();
    cleanup();
  }
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function table(rows: CaseResult[]): string {
  const head = ['engine', 'regions', 'writes/s', 'p50 ms', 'p99 ms', 'fsyncs/write', 'writes/proposal', 'raft rounds/s', 'kv writes/write', 'msgs/write', 'CPU µs/write', 'region errs', 'setup s'];
  const body = rows.map((r) => [
    r.engine,
    String(r.regions),
    String(r.proposals_per_sec),
    r.p50_ms.toFixed(2),
    r.p99_ms.toFixed(2),
    r.fsyncs_per_write.toFixed(4),
    r.cmds_per_proposal.toFixed(2),
    String(r.raft_rounds_per_sec),
    r.apply_writes_per_write.toFixed(4),
    r.msgs_per_write.toFixed(2),
    String(r.cpu_us_per_write),
    String(r.region_errors),
    r.setup_s.toFixed(1),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  console.log(`store bench: 3 stores in one process, ${a.concurrency} writers, ${a.valueSize} B values, ${a.warmup} s warm-up + ${a.seconds} s per case`);
  const rows: CaseResult[] = [];
  const cases = a.engines.flatMap((e) => a.regions.map((r) => [e, r] as const));
  let profileTop: ReturnType<typeof topSelfTime> | undefined;
  let allocTop: ReturnType<typeof topAllocations> | undefined;
  for (const [i, [engine, regions]] of cases.entries()) {
    const last = i === cases.length - 1;
    const { result, cpuProfile, heapProfile } = await runCase(engine, regions, a, { cpu: last && a.profile !== undefined, heap: last && a.heapProfile !== undefined });
    rows.push(result);
    console.log(`  ${engine} × ${regions} regions: ${result.proposals_per_sec} writes/s, ${result.fsyncs_per_write} fsyncs/write (setup ${result.setup_s} s)`);
    if (cpuProfile !== undefined && a.profile !== undefined) {
      writeFileSync(a.profile, JSON.stringify(cpuProfile));
      profileTop = topSelfTime(cpuProfile, 15);
    }
    if (heapProfile !== undefined && a.heapProfile !== undefined) {
      writeFileSync(a.heapProfile, JSON.stringify(heapProfile));
      allocTop = topAllocations(heapProfile, 15);
    }
  }
  console.log('');
  console.log(table(rows));
  if (profileTop !== undefined) {
    const c = cases[cases.length - 1]!;
    console.log(`\nCPU profile of ${c[0]} × ${c[1]} regions (written to ${a.profile}), top self time:`);
    for (const f of profileTop) console.log(`  ${f.selfPct.toFixed(1).padStart(5)}%  ${f.selfMs.toFixed(0).padStart(6)} ms  ${f.name}  ${f.where}`);
  }
  if (allocTop !== undefined) {
    const c = cases[cases.length - 1]!;
    const writes = rows[rows.length - 1]!.writes;
    console.log(`\nHeap allocation sampling of ${c[0]} × ${c[1]} regions (written to ${a.heapProfile}), top allocating functions:`);
    for (const f of allocTop) {
      const perWrite = writes > 0 ? f.bytes / writes : 0;
      console.log(`  ${f.pct.toFixed(1).padStart(5)}%  ${(f.bytes / 1e6).toFixed(1).padStart(7)} MB  ${perWrite.toFixed(0).padStart(6)} B/write  ${f.name}  ${f.where}`);
    }
  }
  const headline = rows.find((r) => r.engine === 'rocksdb' && r.regions === 1024) ?? rows[rows.length - 1]!;
  console.log(
    JSON.stringify({
      name: 'store',
      params: { stores: 3, concurrency: a.concurrency, value_size: a.valueSize, seconds: a.seconds, headline: `${headline.engine}/${headline.regions}` },
      proposals_per_sec: headline.proposals_per_sec,
      fsyncs_per_write: headline.fsyncs_per_write,
      'ops/s': headline.proposals_per_sec,
      p50_ms: headline.p50_ms,
      p99_ms: headline.p99_ms,
      cases: rows,
      ...(profileTop === undefined ? {} : { profile_top: profileTop.slice(0, 10) }),
    }),
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    if (err instanceof MrkvError && err.code === CommonCodes.INVALID_ARGUMENT) {
      console.error(err.message);
      process.exit(2);
    }
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
