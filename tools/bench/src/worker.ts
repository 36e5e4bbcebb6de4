/**
 * The load generator: a piscina task module, run on worker threads so the client's CPU (protobuf,
 * gRPC, histogram recording) is spread over cores and the harness's own thread only reports.
 *
 * A `run` task opens its own client (driver), starts `concurrency` loops that each issue one
 * operation at a time (closed loop), records each completed operation's latency in the histogram
 * of its kind, and bumps this worker's counters in the shared block for the progress line. Time-bound
 * runs warm up first (operations done then are not recorded); count-bound runs take operations from
 * a shared counter until the total is handed out. Failed operations are counted, never fatal.
 */
import { performance } from 'node:perf_hooks';
import { threadId } from 'node:worker_threads';
import { SeededRng, isMrkvError } from '@mrkv/common';
import { keyChooser } from './distribution.js';
import { openDriver, type KvDriver } from './drivers/index.js';
import { BenchCodes, BenchError, describeError } from './errors.js';
import { encodeHistogram, newHistogram, recordMs, type Histogram } from './histogram.js';
import { ValuePool, benchKey } from './keys.js';
import { SLOT_ISSUED, SLOT_KEY_COUNT, SLOT_WORKERS, type FailedResult, type LoadResult, type LoadTask, type PingResult, type OpResult, type RunResult, type RunTask, type WorkerTask } from './tasks.js';
import { pickOp, type OpKind } from './workload.js';

/** Distinct error messages kept per worker. */
const MAX_ERROR_SAMPLES = 5;
/** Attempts per load batch before the load phase fails. */
const LOAD_ATTEMPTS = 3;

/** Piscina's entry: runs one task; a failure comes back as a `FailedResult`, never thrown. */
export default async function runTask(task: WorkerTask): Promise<RunResult | LoadResult | PingResult | FailedResult> {
  if (task.type === 'ping') return { type: 'ping', worker: task.worker, threadId };
  try {
    return await runWithDriver(task);
  } catch (e) {
    const error = isMrkvError(e) ? e.toWire() : { code: BenchCodes.WORKER_FAILED, message: describeError(e) };
    return { type: 'failed', worker: task.worker, error };
  }
}

async function runWithDriver(task: LoadTask | RunTask): Promise<RunResult | LoadResult> {
  const driver = await openDriver(task.target).catch((e: unknown) => {
    if (isMrkvError(e)) throw e;
    throw new BenchError(BenchCodes.TARGET_UNAVAILABLE, `${task.target.kind}: cannot open a client: ${describeError(e)}`, { cause: e });
  });
  try {
    return task.type === 'load' ? await load(driver, task) : await run(driver, task);
  } finally {
    await driver.close();
  }
}

async function load(driver: KvDriver, t: LoadTask): Promise<LoadResult> {
  const values = new ValuePool(t.valueSize, t.seed);
  const started = performance.now();
  let next = t.from;
  const done = SLOT_WORKERS + 2 * t.worker;
  const loop = async () => {
    while (next < t.to) {
      const from = next;
      const to = Math.min(t.to, from + t.batchSize);
      next = to;
      const keys: Buffer[] = [];
      const vals: Buffer[] = [];
      for (let i = from; i < to; i++) {
        keys.push(benchKey(i));
        vals.push(values.next());
      }
      let first: unknown;
      for (let attempt = 1; ; attempt++) {
        try {
          await driver.batchPut(keys, vals);
          break;
        } catch (e) {
          first ??= e;
          if (attempt >= LOAD_ATTEMPTS) {
            const last = describeError(e);
            const firstText = describeError(first);
            const why = firstText === last ? last : `${firstText} (last: ${last})`;
            throw new BenchError(BenchCodes.TARGET_FAILED, `${t.target.kind}: loading keys ${from}..${to} failed ${attempt} times: ${why}`, { cause: e });
          }
        }
      }
      Atomics.add(t.counters, done, to - from);
    }
  };
  await Promise.all(Array.from({ length: t.inflight }, loop));
  return { type: 'load', worker: t.worker, keys: t.to - t.from, elapsedMs: performance.now() - started };
}

interface OpStats {
  count: number;
  errors: number;
  readonly histogram: Histogram;
}

async function run(driver: KvDriver, t: RunTask): Promise<RunResult> {
  const rng = new SeededRng(t.seed);
  const values = new ValuePool(t.valueSize, t.seed ^ 0x5eed);
  const { workload, counters } = t;
  const chooser = keyChooser(workload.distribution, () => Atomics.load(counters, SLOT_KEY_COUNT), rng.fork());
  const stats = new Map<OpKind, OpStats>(workload.mix.map(([k]) => [k, { count: 0, errors: 0, histogram: newHistogram() }]));
  const samples = new Set<string>();
  let keysWritten = 0;
  const doneSlot = SLOT_WORKERS + 2 * t.worker;

  const start = performance.now();
  const measureFrom = t.durationMs === undefined ? start : start + t.warmupMs;
  const end = t.durationMs === undefined ? Infinity : measureFrom + t.durationMs;
  let lastCompletion = measureFrom;
  const more = (): boolean => {
    if (t.totalOps !== undefined) return Atomics.add(counters, SLOT_ISSUED, 1) < t.totalOps;
    return performance.now() < end;
  };

  const op = async (kind: OpKind): Promise<number> => {
    switch (kind) {
      case 'read':
        await driver.get(benchKey(chooser.next()));
        return 0;
      case 'update':
        await driver.put(benchKey(chooser.next()), values.next());
        return 1;
      case 'insert':
        await driver.put(benchKey(Atomics.add(counters, SLOT_KEY_COUNT, 1)), values.next());
        return 1;
      case 'scan':
        await driver.scan(benchKey(chooser.next()), 1 + rng.nextInt(workload.scanLength));
        return 0;
      case 'rmw': {
        const key = benchKey(chooser.next());
        await driver.get(key);
        await driver.put(key, values.next());
        return 1;
      }
      case 'batch-put': {
        const keys: Buffer[] = [];
        const vals: Buffer[] = [];
        for (let i = 0; i < workload.batchSize; i++) {
          keys.push(benchKey(chooser.next()));
          vals.push(values.next());
        }
        await driver.batchPut(keys, vals);
        return keys.length;
      }
    }
  };

  const loop = async () => {
    while (more()) {
      const kind = pickOp(workload.mix, rng.next());
      const s = stats.get(kind)!;
      const t0 = performance.now();
      let written = 0;
      let failed = false;
      try {
        written = await op(kind);
      } catch (e) {
        failed = true;
        if (samples.size < MAX_ERROR_SAMPLES) samples.add(`${kind}: ${describeError(e)}`);
      }
      const t1 = performance.now();
      Atomics.add(counters, doneSlot + (failed ? 1 : 0), 1);
      if (t1 < measureFrom) continue;
      lastCompletion = t1;
      if (failed) {
        s.errors++;
      } else {
        s.count++;
        keysWritten += written;
        recordMs(s.histogram, t1 - t0);
      }
    }
  };
  await Promise.all(Array.from({ length: t.concurrency }, loop));

  const byOp: Partial<Record<OpKind, OpResult>> = {};
  for (const [kind, s] of stats) {
    byOp[kind] = { count: s.count, errors: s.errors, histogram: encodeHistogram(s.histogram) };
    s.histogram.destroy();
  }
  const elapsedMs = t.durationMs === undefined ? lastCompletion - start : Math.max(t.durationMs, lastCompletion - measureFrom);
  return { type: 'run', worker: t.worker, elapsedMs, byOp, keysWritten, errorSamples: [...samples] };
}
