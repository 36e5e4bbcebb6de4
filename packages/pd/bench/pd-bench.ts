/**
 * `pnpm bench pd [--regions N] [--seconds S] [--engine memory|rocks]`: the placement driver's
 * hot paths, in process (no gRPC), on a cluster of 5 stores and N regions (default 10 000) with 3
 * replicas each:
 * 1. region heartbeats that change only stats (the common case: tree update, operator check, hot
 *    cache), one at a time;
 * 2. region heartbeats that change the epoch (persisted to the engine), one at a time;
 * 3. TSO: `next(1)` one at a time;
 * 4. a patrol round (median of 7): every region through the replica and merge checkers (healthy cluster, so
 *    nothing to do: the cost PD pays every `patrol-region-interval`);
 * 5. a scheduler round (median of 7; balance-leader, balance-region, hot-region) on a balanced cluster.
 *
 * The last line is one JSON object; `ops_per_s`/`p50_ms`/`p99_ms` at the top are the stats-only
 * heartbeats.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { systemClock } from '@mrkv/common';
import { openMemoryKvEngine, openRocksKvEngine, type KvEngine } from '@mrkv/engine';
import { newStore, type Peer, type Region, type Store } from '@mrkv/proto';
import { PlacementDriver, type RegionInfo } from '@mrkv/pd';

interface Args {
  regions: number;
  seconds: number;
  engine: 'memory' | 'rocks';
}

function parseArgs(argv: string[]): Args {
  const a: Args = { regions: 10_000, seconds: 2, engine: 'memory' };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[++i];
    if (argv[i - 1] === '--regions') a.regions = Number(v);
    else if (argv[i - 1] === '--seconds') a.seconds = Number(v);
    else if (argv[i - 1] === '--engine' && (v === 'memory' || v === 'rocks')) a.engine = v;
    else throw new Error(`bad argument ${argv[i - 1]}; usage: pd-bench [--regions N] [--seconds S] [--engine memory|rocks]`);
  }
  if (!(Number.isInteger(a.regions) && a.regions >= 1 && a.seconds > 0)) throw new Error('--regions must be ≥ 1 and --seconds > 0');
  return a;
}

interface Stat {
  ops_per_s: number;
  p50_ms: number;
  p99_ms: number;
}

async function measure(seconds: number, op: (i: number) => Promise<unknown>): Promise<Stat> {
  const lat: number[] = [];
  const start = performance.now();
  const end = start + seconds * 1000;
  let i = 0;
  while (performance.now() < end) {
    const t = performance.now();
    await op(i++);
    lat.push(performance.now() - t);
  }
  const took = (performance.now() - start) / 1000;
  lat.sort((x, y) => x - y);
  const pct = (p: number) => Number(lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))]!.toFixed(4));
  return { ops_per_s: Math.round(i / took), p50_ms: pct(50), p99_ms: pct(99) };
}

function store(id: number): Store {
  return newStore(id, `127.0.0.1:${20160 + id}`, { version: 'bench' });
}

const key = (i: number) => Buffer.from(`k${String(i).padStart(8, '0')}`);

const args = parseArgs(process.argv.slice(2));
const dir = args.engine === 'rocks' ? mkdtempSync(join(tmpdir(), 'mrkv-pd-bench-')) : undefined;
const engine: KvEngine = dir === undefined ? openMemoryKvEngine() : await openRocksKvEngine({ path: join(dir, 'meta') });
try {
  const pd = await PlacementDriver.open({ engine, clock: systemClock, newClusterId: 1 });
  await pd.ids.alloc(10 * args.regions + 100);
  const stores = [1, 2, 3, 4, 5];
  await pd.cluster.bootstrap(store(1), { id: 1, startKey: new Uint8Array(), endKey: new Uint8Array(), regionEpoch: { confVer: 1, version: 1 }, peers: [{ id: 2, storeId: 1, role: 'Voter' }] });
  for (const s of stores.slice(1)) await pd.cluster.putStore(store(s));
  // N regions, replicas round-robin over the stores, leaders spread
  const regions: RegionInfo[] = [];
  for (let i = 0; i < args.regions; i++) {
    const peers: Peer[] = [0, 1, 2].map((j) => ({ id: 100 + i * 3 + j, storeId: stores[(i + j) % stores.length]!, role: 'Voter' }));
    const meta: Region = { id: i === 0 ? 1 : 100_000_000 + i, startKey: i === 0 ? new Uint8Array() : key(i), endKey: i === args.regions - 1 ? new Uint8Array() : key(i + 1), regionEpoch: { confVer: 3, version: 2 }, peers };
    const info: RegionInfo = { meta, leader: peers[i % 3]!, term: 1, downPeers: [], pendingPeers: [], approximateSize: 64 << 20, approximateKeys: 500_000, flow: { bytesWritten: 1000, bytesRead: 1000, keysWritten: 10, keysRead: 10, intervalSeconds: 60 } };
    await pd.regionHeartbeat(info);
    regions.push(info);
  }
  for (const s of stores) pd.cluster.storeHeartbeat(s, { capacity: 1 << 40, available: 1 << 39, usedSize: 1 << 30, regionCount: 0, sendingSnapCount: 0, receivingSnapCount: 0, applyingSnapCount: 0, isBusy: false, bytesWritten: 0, keysWritten: 0, bytesRead: 0, keysRead: 0, startTime: 0 });

  const statsOnly = await measure(args.seconds, (i) => {
    const r = regions[i % regions.length]!;
    return pd.regionHeartbeat({ ...r, flow: { ...r.flow, bytesWritten: i } });
  });
  let confVer = 3;
  const metaChange = await measure(args.seconds, (i) => {
    const r = regions[i % regions.length]!;
    if (i % regions.length === 0) confVer++;
    return pd.regionHeartbeat({ ...r, meta: { ...r.meta, regionEpoch: { confVer, version: 2 } } });
  });
  const tso = await measure(args.seconds, () => pd.tso.next(1));
  // patrol and scheduler rounds: the median of 7 (the first rounds run cold, before the JIT)
  const rounds = async (fn: () => Promise<unknown[]>): Promise<{ ms: number; ops: number }> => {
    const times: number[] = [];
    let ops = 0;
    for (let k = 0; k < 7; k++) {
      const t = performance.now();
      ops += (await fn()).length;
      times.push(performance.now() - t);
    }
    times.sort((x, y) => x - y);
    return { ms: times[3]!, ops };
  };
  const patrol = await rounds(() => pd.coordinator.patrol());
  const sched = await rounds(() => pd.coordinator.runSchedulers());
  const patrolMs = patrol.ms;
  const schedMs = sched.ms;
  const patrolOps = { length: patrol.ops };
  const schedOps = { length: sched.ops };
  console.log(`pd bench: ${args.regions} regions × 3 replicas on 5 stores, ${args.engine} engine, ${args.seconds} s per phase`);
  console.log(`  region heartbeat, stats only   ${statsOnly.ops_per_s.toLocaleString()} /s   p50 ${statsOnly.p50_ms} ms   p99 ${statsOnly.p99_ms} ms`);
  console.log(`  region heartbeat, epoch change ${metaChange.ops_per_s.toLocaleString()} /s   p50 ${metaChange.p50_ms} ms   p99 ${metaChange.p99_ms} ms`);
  console.log(`  tso next(1)                    ${tso.ops_per_s.toLocaleString()} /s   p50 ${tso.p50_ms} ms   p99 ${tso.p99_ms} ms`);
  console.log(`  patrol round (median of 7)     ${patrolMs.toFixed(1)} ms (${patrolOps.length} operators)`);
  console.log(`  scheduler round (median of 7)  ${schedMs.toFixed(1)} ms (${schedOps.length} operators)`);
  console.log(
    JSON.stringify({
      name: 'pd',
      params: { regions: args.regions, replicas: 3, stores: 5, seconds: args.seconds, engine: args.engine },
      ops_per_s: statsOnly.ops_per_s,
      p50_ms: statsOnly.p50_ms,
      p99_ms: statsOnly.p99_ms,
      heartbeat_stats_only: statsOnly,
      heartbeat_epoch_change: metaChange,
      tso,
      patrol_round_ms: Number(patrolMs.toFixed(2)),
      scheduler_round_ms: Number(schedMs.toFixed(2)),
    }),
  );
} finally {
  await engine.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
}
