/**
 * Checker benchmark: `node tools/run-ts.mjs packages/checker/bench/checker-bench.ts [--ops N] [--seed S]`.
 *
 * Scenarios:
 * - jepsen-etcd: the 50 golden etcd register logs (../shared/data/porcupine/jepsen), each checked
 *   with explanation; per-file check time percentiles.
 * - kv-golden: the golden KV histories (many keys).
 * - register-multikey: a generated linearizable mrkv register history (--ops operations over 64
 *   keys, 16 clients, overlapping intervals, 2% indeterminate), the shape the chaos suite writes.
 * - register-hotkey: the same on a single key, so one long partition.
 * - register-violation: the multi-key history with one read corrupted near the end: find and
 *   explain it.
 * Prints a table, then one JSON line.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { SeededRng } from '@mrkv/common';
import { checkOperations, parseHistory, registerModel } from '@mrkv/checker';
import type { HistoryFormat, Model, Operation, RegisterInput, RegisterOutput } from '@mrkv/checker';
import { randomRegisterPlan, registerHistoryFromPlan } from '@mrkv/checker/testing';

const opts = new Command()
  .option('--ops <n>', 'operations in the generated histories', (v) => Number.parseInt(v, 10), 100_000)
  .option('--seed <n>', 'seed of the generated histories', (v) => Number.parseInt(v, 10), 7)
  .parse()
  .opts<{ ops: number; seed: number }>();

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

function timeCheck<S, I, O>(model: Model<S, I, O>, ops: readonly Operation<I, O>[]): { ops: number; ms: number; verdict: string } {
  const t0 = performance.now();
  const r = checkOperations(model, ops);
  return { ops: ops.length, ms: performance.now() - t0, verdict: r.verdict };
}

function golden(dir: string, format: HistoryFormat, files: string[]): { ops: number; ms: number; verdict: string }[] {
  return files.map((f) => {
    const p = parseHistory(format, readFileSync(`${dir}/${f}`, 'utf8'), f);
    return timeCheck(p.model, p.operations);
  });
}

const GOLDEN = fileURLToPath(new URL('../../../../shared/data/porcupine/', import.meta.url));
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

const plan = (keys: number): Operation<RegisterInput, RegisterOutput>[] =>
  registerHistoryFromPlan(
    randomRegisterPlan(new SeededRng(opts.seed), { steps: opts.ops, keys, clients: 16, values: 8, overlap: 3, infoRate: 0.02 }),
  ).operations;

const multi = plan(64);
results.push(summarize('register-multikey', [timeCheck(registerModel, multi)]));
results.push(summarize('register-hotkey', [timeCheck(registerModel, plan(1))]));
const target = multi.findLastIndex((op) => op.input.op === 'get' && op.ret !== Number.POSITIVE_INFINITY);
const corrupted = multi.map((op, i) => (i === target ? { ...op, output: { value: 'corrupted' } } : op));
results.push(summarize('register-violation', [timeCheck(registerModel, corrupted)]));

console.log(`checker bench: Node ${process.version}, generated histories of ${opts.ops} operations (seed ${opts.seed})`);
console.log('scenario             histories   operations   total ms     ops/s   p50 ms   p99 ms   max ms   verdicts');
for (const r of results) {
  console.log(
    `${r.scenario.padEnd(20)} ${String(r.histories).padStart(9)} ${String(r.operations).padStart(12)} ${r.totalMs.toFixed(1).padStart(10)} ${String(r.opsPerSec).padStart(9)} ${r.p50Ms.toFixed(2).padStart(8)} ${r.p99Ms.toFixed(2).padStart(8)} ${r.maxMs.toFixed(2).padStart(8)}   ${r.verdicts}`,
  );
}
const main = results.find((r) => r.scenario === 'register-multikey')!;
const etcd = results.find((r) => r.scenario === 'jepsen-etcd');
console.log(
  JSON.stringify({
    name: 'checker',
    parameters: { ops: opts.ops, seed: opts.seed, keys: 64, clients: 16, overlap: 3, infoRate: 0.02 },
    opsPerSec: main.opsPerSec,
    p50Ms: etcd?.p50Ms ?? null,
    p99Ms: etcd?.p99Ms ?? null,
    scenarios: results,
  }),
);
