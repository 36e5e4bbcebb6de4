/**
 * `pnpm bench engine [--seconds S] [--dir D]`: the storage engines on RocksDB.
 *
 * 1. Raft-log appends, the raft batch system's group commit: one write per poll round carrying
 *    1 entry of 256 B plus a hard state for each of 1, 16 or 256 regions, `sync: true`, one write
 *    at a time. Against, in the same run and interleaved round by round, raw `rocksdb` batches of
 *    the same bytes (the same keys, an entry-sized and a state-sized value per region) and the
 *    same sync: through the native binding call the engine itself makes, and through the package's
 *    public `batch()`. `raftlog_vs_raw_ratio` = raft-log appends/s ÷ raw native batches/s at 256
 *    regions, the median over 10 rounds of adjacent runs (a shared disk's fsync stalls hit one
 *    round, not the ratio).
 * 2. Kv write batches (100 puts of 256 B, unsynced and synced).
 * 3. Point gets (one at a time, and 32 in flight) and short scans (10 keys) over 100 000 keys.
 *
 * The last line is one JSON object.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DEFAULT_ROCKS_TUNING, encodeEntry, encodeState, openRocksKvEngine, openRocksRaftLogEngine, raftLogKey, raftStateKey, type KvEngine, type RaftLogEngine } from '@mrkv/engine';
import { NativeDb } from '../src/rocks/native.js';

interface Args {
  seconds: number;
  dir: string | undefined;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { seconds: 2, dir: undefined };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--seconds') a.seconds = Number(argv[++i]);
    else if (argv[i] === '--dir') a.dir = argv[++i];
    else throw new Error(`unknown argument ${argv[i]}; usage: engine-bench [--seconds S] [--dir D]`);
  }
  if (!(a.seconds > 0)) throw new Error('--seconds must be positive');
  return a;
}

/** Latencies of one measured loop. */
interface Run {
  ops: number;
  seconds: number;
  lat: number[];
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface Stat {
  ops_per_s: number;
  p50_ms: number;
  p99_ms: number;
}

function stat(runs: Run[], opsPerCall = 1): Stat {
  const ops = runs.reduce((s, r) => s + r.ops, 0);
  const secs = runs.reduce((s, r) => s + r.seconds, 0);
  const lat = runs.flatMap((r) => r.lat).sort((x, y) => x - y);
  return { ops_per_s: Math.round((ops * opsPerCall) / secs), p50_ms: Number(pct(lat, 50).toFixed(4)), p99_ms: Number(pct(lat, 99).toFixed(4)) };
}

/** Calls `op` back to back for `seconds`, `inflight` at a time. */
async function loop(seconds: number, op: (i: number) => Promise<unknown>, inflight = 1): Promise<Run> {
  const lat: number[] = [];
  let i = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  const lane = async () => {
    while (performance.now() < end) {
      const s = performance.now();
      await op(i++);
      lat.push(performance.now() - s);
    }
  };
  await Promise.all(Array.from({ length: inflight }, lane));
  return { ops: lat.length, seconds: (performance.now() - t0) / 1000, lat };
}

const ENTRY_BYTES = 256;
const REGION_COUNTS = [1, 16, 256] as const;
const ROUNDS = 10;

interface LevelDown {
  open(o: object, cb: (e?: Error | null) => void): void;
  close(cb: (e?: Error | null) => void): void;
  batch(ops: unknown[], o: { sync: boolean }, cb: (e?: Error | null) => void): void;
}
const require = createRequire(import.meta.url);
const rocksdb = require('rocksdb') as (location: string) => LevelDown;

function cb<T>(f: (done: (e?: Error | null) => void) => void): Promise<T | void> {
  return new Promise((resolve, reject) => f((e) => (e ? reject(e) : resolve())));
}

/** Results of one region count. Ratios are medians over rounds of paired (adjacent) runs. */
interface RaftCase {
  engine: Stat;
  rawPublic: Stat;
  rawNative: Stat;
  bytesPerBatch: number;
  vsNative: number;
  vsPublic: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** The raft-log engine case and its raw twins, for one region count. */
async function raftLogCase(root: string, regions: number, seconds: number): Promise<RaftCase> {
  const engine: RaftLogEngine = await openRocksRaftLogEngine({ path: join(root, `raft-${regions}`) });
  const pub = rocksdb(join(root, `raw-public-${regions}`));
  await cb((d) => pub.open({ createIfMissing: true, ...DEFAULT_ROCKS_TUNING }, d));
  const native = await NativeDb.open(join(root, `raw-native-${regions}`), { createIfMissing: true, ...DEFAULT_ROCKS_TUNING });
  const data = Buffer.alloc(ENTRY_BYTES, 0x5a);
  // The raw batches carry what the engine writes: per region an entry record and a state record.
  const entryValue = encodeEntry({ index: 1, term: 1, entryType: 0, data });
  const stateValue = encodeState({ hardState: { term: 1, vote: 1, commit: 1 }, firstIndex: 1, lastIndex: 1, runs: [1, 1] });
  const bytesPerBatch = regions * (19 + entryValue.length + 11 + stateValue.length);
  let engineIndex = 0;
  let publicIndex = 0;
  let nativeIndex = 0;
  const engineOp = () => {
    const index = ++engineIndex;
    const b = engine.newBatch();
    for (let r = 1; r <= regions; r++) b.append(r, [{ index, term: 1, entryType: 0, data }]).setHardState(r, { term: 1, vote: 1, commit: index - 1 });
    return engine.write(b, { sync: true });
  };
  const rawOps = (index: number) => {
    const ops: Array<{ type: 'put'; key: Buffer; value: Buffer }> = [];
    for (let r = 1; r <= regions; r++) ops.push({ type: 'put', key: raftLogKey(r, index), value: entryValue }, { type: 'put', key: raftStateKey(r), value: stateValue });
    return ops;
  };
  const publicOp = () => cb((d) => pub.batch(rawOps(++publicIndex), { sync: true }, d));
  const nativeOp = () => native.batch(rawOps(++nativeIndex), true);
  const runs = { engine: [] as Run[], pub: [] as Run[], native: [] as Run[] };
  const per = seconds / ROUNDS;
  // Warm-up, then interleaved rounds so disk noise hits all three alike.
  await loop(0.1, engineOp);
  await loop(0.1, publicOp);
  await loop(0.1, nativeOp);
  for (let round = 0; round < ROUNDS; round++) {
    runs.engine.push(await loop(per, engineOp));
    runs.pub.push(await loop(per, publicOp));
    runs.native.push(await loop(per, nativeOp));
  }
  await engine.close();
  await cb((d) => pub.close(d));
  await native.close();
  const rate = (r: Run) => r.ops / r.seconds;
  return {
    engine: stat(runs.engine),
    rawPublic: stat(runs.pub),
    rawNative: stat(runs.native),
    bytesPerBatch,
    vsNative: median(runs.engine.map((r, i) => rate(r) / rate(runs.native[i]!))),
    vsPublic: median(runs.engine.map((r, i) => rate(r) / rate(runs.pub[i]!))),
  };
}

const KEYS = 100_000;
const key = (i: number) => Buffer.from('z' + String(i).padStart(8, '0'));

/** Kv engine cases: write batches, point gets, short scans. */
async function kvCases(root: string, seconds: number): Promise<Record<string, Stat>> {
  const kv: KvEngine = await openRocksKvEngine({ path: join(root, 'kv') });
  const value = Buffer.alloc(256, 0x61);
  for (let i = 0; i < KEYS; i += 1000) {
    const wb = kv.newWriteBatch();
    for (let j = i; j < i + 1000; j++) wb.put(key(j), value);
    await kv.write(wb);
  }
  await kv.sync();
  let seed = 12345;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const writeBatch = (sync: boolean) => () => {
    const wb = kv.newWriteBatch();
    for (let j = 0; j < 100; j++) wb.put(key(rnd(KEYS)), value);
    return kv.write(wb, { sync });
  };
  const out: Record<string, Stat> = {};
  out.kv_write_batch100 = stat([await loop(seconds, writeBatch(false))], 100);
  out.kv_write_batch100_sync = stat([await loop(seconds, writeBatch(true))], 100);
  out.get = stat([await loop(seconds, () => kv.get(key(rnd(KEYS))))]);
  out.get_32_inflight = stat([await loop(seconds, () => kv.get(key(rnd(KEYS))), 32)]);
  out.scan10 = stat([await loop(seconds, () => kv.scan({ start: key(rnd(KEYS)), limit: 10 }))]);
  out.scan10_reverse = stat([await loop(seconds, () => kv.scan({ end: key(rnd(KEYS)), limit: 10, reverse: true }))]);
  await kv.close();
  return out;
}

const args = parseArgs(process.argv.slice(2));
const root = mkdtempSync(join(args.dir ?? tmpdir(), 'mrkv-engine-bench-'));
try {
  const f = (x: number) => Math.round(x).toLocaleString('en-US');
  console.log(`engine bench: RocksDB in ${root}, ${args.seconds}s per case (${ROUNDS} interleaved rounds for raft-log cases)`);
  console.log('raft-log appends: 1 entry of 256 B + hard state per region per batch, sync: true, one batch at a time');
  const raft: Record<string, RaftCase> = {};
  for (const regions of REGION_COUNTS) {
    const r = await raftLogCase(root, regions, args.seconds);
    raft[regions] = r;
    console.log(
      `  ${String(regions).padStart(3)} regions (${f(r.bytesPerBatch)} B/batch): raft-log ${f(r.engine.ops_per_s)} batches/s (p50 ${r.engine.p50_ms} ms, p99 ${r.engine.p99_ms} ms)` +
        ` | raw native ${f(r.rawNative.ops_per_s)}/s (p50 ${r.rawNative.p50_ms} ms) | raw batch() ${f(r.rawPublic.ops_per_s)}/s (p50 ${r.rawPublic.p50_ms} ms)` +
        ` | ratio ${r.vsNative.toFixed(3)} vs native, ${r.vsPublic.toFixed(3)} vs batch()`,
    );
  }
  const kv = await kvCases(root, args.seconds);
  console.log('kv engine (100 000 keys of 256 B):');
  for (const [name, s] of Object.entries(kv)) console.log(`  ${name.padEnd(24)} ${f(s.ops_per_s)} ops/s   p50 ${s.p50_ms} ms   p99 ${s.p99_ms} ms`);
  const r256 = raft[256]!;
  console.log(
    JSON.stringify({
      name: 'engine',
      params: { seconds: args.seconds, rounds: ROUNDS, entry_bytes: ENTRY_BYTES, regions: REGION_COUNTS, kv_keys: KEYS },
      ops_per_s: r256.engine.ops_per_s,
      p50_ms: r256.engine.p50_ms,
      p99_ms: r256.engine.p99_ms,
      raftlog_vs_raw_ratio: Number(r256.vsNative.toFixed(3)),
      raftlog_vs_raw_public_ratio: Number(r256.vsPublic.toFixed(3)),
      raftlog: Object.fromEntries(
        Object.entries(raft).map(([k, v]) => [
          `regions_${k}`,
          { ...v.engine, raw_native: v.rawNative, raw_public: v.rawPublic, ratio_vs_native: Number(v.vsNative.toFixed(3)), ratio_vs_public: Number(v.vsPublic.toFixed(3)), bytes_per_batch: v.bytesPerBatch },
        ]),
      ),
      kv,
    }),
  );
} finally {
  rmSync(root, { recursive: true, force: true });
}
