/**
 * Client-side cost of @mrkv/client: put and get at a fixed concurrency against the simulated
 * cluster (3 real store gRPC servers on loopback over an in-memory key space, 8 regions, no raft),
 * over one BatchCommands stream per store and over unary calls. What it measures is the client
 * plus gRPC plus the store's service layer, all in this one process: an upper bound on what the
 * SDK adds, not cluster throughput.
 *
 *   node tools/run-ts.mjs packages/client/bench/client-bench.ts [--ops N] [--concurrency C] [--value-size B]
 *     [--transport batch,unary] [--op put,get]
 *
 * Prints a table, then one JSON line.
 */
import { SimCluster } from '../src/__tests__/sim-cluster.js';
import { createRawClient } from '../src/index.js';
import type { TransportMode } from '../src/store-connection.js';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const ops = arg('ops', 20_000);
const concurrency = arg('concurrency', 64);
const valueSize = arg('value-size', 256);
const pick = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const transports = (pick('transport') ?? 'batch,unary').split(',') as TransportMode[];
const opsToRun = (pick('op') ?? 'put,get').split(',') as Array<'put' | 'get'>;

interface Result {
  transport: TransportMode;
  op: 'put' | 'get';
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

async function run(cluster: SimCluster, transport: TransportMode, op: 'put' | 'get'): Promise<Result> {
  const client = createRawClient({ pdEndpoints: cluster.pdEndpoints, transport });
  const value = new Uint8Array(valueSize).fill(0x61);
  const key = (i: number): string => `user${String((i * 7919) % ops).padStart(8, '0')}`;
  await client.get(key(0)); // warm the PD connection
  const lat = new Float64Array(ops);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < ops; i = next++) {
        const s = performance.now();
        if (op === 'put') await client.put(key(i), value);
        else await client.get(key(i));
        lat[i] = performance.now() - s;
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  await client.close();
  lat.sort();
  return { transport, op, opsPerSec: Math.round(ops / secs), p50Ms: round(percentile(lat, 0.5)), p99Ms: round(percentile(lat, 0.99)) };
}

const round = (x: number): number => Math.round(x * 1000) / 1000;

const cluster = await SimCluster.start({ stores: 3, splits: ['user00002500', 'user00005000', 'user00007500', 'user00010000', 'user00012500', 'user00015000', 'user00017500'] });
const results: Result[] = [];
try {
  for (const transport of transports) {
    for (const op of opsToRun) results.push(await run(cluster, transport, op));
  }
} finally {
  await cluster.close();
}
console.log(`client bench: ${ops} ops per row, concurrency ${concurrency}, ${valueSize} B values, 3 stores, 8 regions, one process, Node ${process.version}`);
console.log('transport  op     ops/s      p50 ms    p99 ms');
for (const r of results) {
  console.log(`${r.transport.padEnd(10)} ${r.op.padEnd(5)} ${String(r.opsPerSec).padStart(8)} ${r.p50Ms.toFixed(3).padStart(9)} ${r.p99Ms.toFixed(3).padStart(9)}`);
}
console.log(JSON.stringify({ name: 'client-raw', params: { ops, concurrency, valueSize, stores: 3, regions: 8 }, results }));
