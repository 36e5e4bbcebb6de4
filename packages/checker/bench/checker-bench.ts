/**
 * Checker benchmark: `node tools/run-ts.mjs packages/checker/bench/checker-bench.ts [--ops N] [--hot-ops N] [--seed S]`.
 *
 * Scenarios:
 * - jepsen-etcd: the 50 golden etcd register logs (testdata/porcupine/jepsen), each checked
 *   with explanation; per-file check time percentiles.
 * - kv-golden: the golden KV histories (many keys).
 * - multikey: a generated linearizable mrkv register history (--ops operations over 64 keys,
 *   16 clients, overlapping intervals, 2% indeterminate, unique written values: the shape the
 *   chaos suite writes); then the same with one stale read injected near the end: the verdict
 *   alone, and with the explanation (narrowing the window, minimizing the conflicting set).
 * - hotkey: the same on one key (--hot-ops operations): one long partition.
 * - few-values: --ops operations over 64 keys writing values from a pool of 8, so indeterminate
 *   writes cannot be patched away and reads are ambiguous: the search's harder case.
 * Prints a table, then one JSON line.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { SeededRng } from '@mrkv/common';
import { checkOperations, INDETERMINATE, parseHistory, registerModel } from '@mrkv/checker';
import type { HistoryFormat, Model, Operation, RegisterInput, RegisterOutput } from '@mrkv/checker';
import { randomRegisterPlan, registerHistoryFromPlan } from '@mrkv/checker/testing';

const opts = new Command()
  .option('--ops <n>', 'operations in the generated multi-key histories', (v) => Number.parseInt(v, 10), 100_000)
  .option('--hot-ops <n>', 'operations in the generated single-key histories', (v) => Number.parseInt(v, 10), 10_000)
  .option('--seed <n>', 'seed of the generated histories', (v) => Number.parseInt(v, 10), 7)
  .parse()
  .opts<{ ops: number; hotOps: number; seed: number }>();

interface Scenario {
  readonly scenario: string;
  readonly histories: number;
  readonly operations: number;
  readonly verdicts: string;
  readonly totalMs: number;
  readonly opsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

function summarize(scenario: string, runs: { ops: number; ms: number; verdict: string }[]): Scenario {
  const times = runs.map((r) => r.ms).sort((a, b) => a - b);
  const pct = (p: number): number => times[Math.min(times.length - 1, Math.floor(p * times.length))] ?? 0;
  const operations = runs.reduce((s, r) => s + r.ops, 0);
  const totalMs = times.reduce((s, t) => s + t, 0);
  const counts = new Map<string, number>();
  for (const r of runs) counts.set(r.verdict, (counts.get(r.verdict) ?? 0) + 1);
  return {
    scenario,
    histories: runs.length,
    operations,
    verdicts: [...counts].map(([v, n]) => `${n} ${v}`).join(', '),
    totalMs: round(totalMs),
    opsPerSec: Math.round(operations / (totalMs / 1000)),
    p50Ms: round(pct(0.5)),
    p99Ms: round(pct(0.99)),
    maxMs: round(times[times.length - 1] ?? 0),
  };
}

const round = (x: number): number => Math.round(x * 100) / 100;

function timeCheck<S, I, O>(model: Model<S, I, O>, ops: readonly Operation<I, O>[], explain = true): { ops: number; ms: number; verdict: string } {
  const t0 = performance.now();
  const r = checkOperations(model, ops, { explain });
  return { ops: ops.length, ms: performance.now() - t0, verdict: r.verdict };
}

function golden(dir: string, format: HistoryFormat, files: string[]): { ops: number; ms: number; verdict: string }[] {
  return files.map((f) => {
    const p = parseHistory(format, readFileSync(`${dir}/${f}`, 'utf8'), f);
    return timeCheck(p.model, p.operations);
  });
}

const GOLDEN = fileURLToPath(new URL('../testdata/porcupine/', import.meta.url));
const results: Scenario[] = [];
if (existsSync(GOLDEN)) {
  const jepsen = readdirSync(`${GOLDEN}jepsen`).filter((f) => f.endsWith('.log')).sort();
  golden(`${GOLDEN}jepsen`, 'jepsen-register', jepsen); // warm-up pass
  results.push(summarize('jepsen-etcd', golden(`${GOLDEN}jepsen`, 'jepsen-register', jepsen)));
  const kv = readdirSync(`${GOLDEN}kv`).filter((f) => f.endsWith('.txt')).sort();
  results.push(summarize('kv-golden', golden(`${GOLDEN}kv`, 'jepsen-kv', kv)));
} else {
  console.log(`(golden data not found at ${GOLDEN}; skipping the golden scenarios)`);
}

type RegisterOp = Operation<RegisterInput, RegisterOutput>;

function generate(steps: number, keys: number, uniqueValues: boolean): RegisterOp[] {
  const plan = randomRegisterPlan(new SeededRng(opts.seed), { steps, keys, clients: 16, values: 8, overlap: 3, infoRate: 0.02, uniqueValues });
  return registerHistoryFromPlan(plan).operations;
}

/**
 * Makes the first completed get after 90% of the history return a value that was definitely
 * overwritten before the get was called (needs unique values): a stale read.
 */
function injectStaleRead(ops: readonly RegisterOp[]): RegisterOp[] {
  const done = (op: RegisterOp): boolean => op.ret !== INDETERMINATE;
  for (let r = Math.floor(ops.length * 0.9); r < ops.length; r++) {
    const read = ops[r]!;
    if (read.input.op !== 'get' || !done(read)) continue;
    const puts = ops.filter((op) => op.input.key === read.input.key && op.input.op === 'put' && done(op) && op.ret < read.call);
    const stale = puts.find((p1) => puts.some((p2) => p2.call > p1.ret));
    if (stale !== undefined && stale.input.op === 'put') {
      const value = stale.input.value;
      return ops.map((op, i) => (i === r ? { ...op, output: { value } } : op));
    }
  }
  throw new Error('no read to make stale');
}

const multi = generate(opts.ops, 64, true);
results.push(summarize('multikey', [timeCheck(registerModel, multi)]));
const multiStale = injectStaleRead(multi);
results.push(summarize('multikey-stale/verdict', [timeCheck(registerModel, multiStale, false)]));
results.push(summarize('multikey-stale/explained', [timeCheck(registerModel, multiStale)]));
const hot = generate(opts.hotOps, 1, true);
results.push(summarize('hotkey', [timeCheck(registerModel, hot)]));
const hotStale = injectStaleRead(hot);
results.push(summarize('hotkey-stale/verdict', [timeCheck(registerModel, hotStale, false)]));
results.push(summarize('hotkey-stale/explained', [timeCheck(registerModel, hotStale)]));
results.push(summarize('few-values', [timeCheck(registerModel, generate(opts.ops, 64, false))]));

console.log(`checker bench: Node ${process.version}; generated: ${opts.ops} ops over 64 keys, ${opts.hotOps} ops on one key (seed ${opts.seed})`);
console.log('scenario                 histories   operations   total ms     ops/s   p50 ms   p99 ms   max ms   verdicts');
for (const r of results) {
  console.log(
    `${r.scenario.padEnd(24)} ${String(r.histories).padStart(9)} ${String(r.operations).padStart(12)} ${r.totalMs.toFixed(1).padStart(10)} ${String(r.opsPerSec).padStart(9)} ${r.p50Ms.toFixed(2).padStart(8)} ${r.p99Ms.toFixed(2).padStart(8)} ${r.maxMs.toFixed(2).padStart(8)}   ${r.verdicts}`,
  );
}
const main = results.find((r) => r.scenario === 'multikey')!;
const etcd = results.find((r) => r.scenario === 'jepsen-etcd');
console.log(
  JSON.stringify({
    name: 'checker',
    parameters: { ops: opts.ops, hotOps: opts.hotOps, seed: opts.seed, keys: 64, clients: 16, overlap: 3, infoRate: 0.02 },
    opsPerSec: main.opsPerSec,
    p50Ms: etcd?.p50Ms ?? null,
    p99Ms: etcd?.p99Ms ?? null,
    scenarios: results,
  }),
);
