/**
 * Running many seeds and reporting: a block per run (a short line for a pass; the seed, the
 * replay command, the violations, the checker's explanation and the last trace lines for a
 * failure), then a summary and one JSON line.
 */
import { writeFile } from 'node:fs/promises';
import type { SimOptions } from './options.js';
import { runSimulation, type RunHooks, type RunResult } from './run.js';

export interface Summary {
  readonly runs: number;
  readonly passed: number;
  readonly failed: ReadonlyArray<{ seed: number; replay: string; kinds: string[] }>;
  readonly expectedLeaseViolations: readonly number[];
  readonly unknown: readonly number[];
  readonly wallMs: number;
  /** Wall ms per run, sorted. */
  readonly runMs: readonly number[];
  readonly virtualMs: number;
  readonly ops: number;
  readonly text: string;
}

export interface RunSeedsOptions {
  /** Where to write the trace (of the single run, or of the first failing one). */
  readonly tracePath?: string | undefined;
  /** Where to write the history (same rule). */
  readonly historyPath?: string | undefined;
  readonly onRun?: (r: RunResult) => void;
  readonly hooks?: RunHooks;
}

/** Runs seeds `first … first+count−1` one after another. */
export async function runSeeds(first: number, count: number, make: (seed: number) => SimOptions, opts: RunSeedsOptions = {}): Promise<Summary> {
  const t0 = performance.now();
  const failed: Array<{ seed: number; replay: string; kinds: string[] }> = [];
  const expected: number[] = [];
  const unknown: number[] = [];
  const runMs: number[] = [];
  let virtualMs = 0;
  let ops = 0;
  let wrote = false;
  for (let seed = first; seed < first + count; seed++) {
    const r = await runSimulation(make(seed), opts.hooks);
    runMs.push(r.stats.wallMs);
    virtualMs += r.stats.virtualMs;
    ops += r.stats.ops.ok + r.stats.ops.fail + r.stats.ops.info;
    if (r.verdict === 'fail') failed.push({ seed, replay: r.replay, kinds: [...new Set(r.violations.map((v) => v.kind))] });
    else if (r.verdict === 'expected-lease-violation') expected.push(seed);
    else if (r.verdict === 'unknown') unknown.push(seed);
    if (!wrote && (count === 1 || r.verdict !== 'pass')) {
      wrote = true;
      if (opts.tracePath !== undefined) await writeFile(opts.tracePath, r.trace, 'utf8');
      if (opts.historyPath !== undefined) await writeFile(opts.historyPath, r.history, 'utf8');
    }
    opts.onRun?.(r);
  }
  const wallMs = performance.now() - t0;
  runMs.sort((a, b) => a - b);
  const passed = count - failed.length - expected.length - unknown.length;
  const lines = [
    `${count} seed${count === 1 ? '' : 's'} from ${first}: ${passed} passed, ${failed.length} failed` +
      (expected.length > 0 ? `, ${expected.length} expected lease violations (clock beyond bound)` : '') +
      (unknown.length > 0 ? `, ${unknown.length} undecided` : '') +
      ` in ${(wallMs / 1000).toFixed(1)} s (${(virtualMs / 1000).toFixed(1)} s virtual, ${ops} client operations)`,
  ];
  for (const f of failed) lines.push(`  FAILED seed ${f.seed} (${f.kinds.join(', ')}): ${f.replay}`);
  for (const s of expected) lines.push(`  expected lease violation, seed ${s} (not a failure in this mode)`);
  for (const s of unknown) lines.push(`  undecided history, seed ${s}`);
  return { runs: count, passed, failed, expectedLeaseViolations: expected, unknown, wallMs, runMs, virtualMs, ops, text: lines.join('\n') };
}

/** The human report of one run. */
export function formatRun(r: RunResult, verbose: boolean): string {
  const s = r.stats;
  const head =
    `seed ${r.seed}: ${r.verdict.toUpperCase()}  ${r.plan}\n` +
    `  ${(s.virtualMs / 1000).toFixed(1)} s virtual, ${s.events} events, ${s.wallMs} ms wall; ` +
    `ops ok ${s.ops.ok} fail ${s.ops.fail} info ${s.ops.info}; ${s.applied} entries applied; ${s.regions} regions; ` +
    `${s.restarts} restarts; faults ${Object.entries(s.faults).map(([k, v]) => `${k}×${v}`).join(' ') || 'none'}; ` +
    `reads lease ${s.leaseReads} read-index ${s.readIndexReads}; ` +
    `liveness ${s.livenessMs === undefined ? '-' : `${s.livenessMs} ms`}; checker ${s.checkerMs} ms\n`;
  if (r.verdict === 'pass' && !verbose) return head;
  const out = [head];
  for (const v of r.violations) out.push(`  VIOLATION ${v.kind} at ${v.atMs.toFixed(1)} ms (event ${v.event}): ${v.message}\n`);
  if (r.explanation !== undefined) out.push(r.explanation.replace(/^/gm, '  ') + '\n');
  if (r.verdict !== 'pass') {
    out.push('  last trace lines:\n');
    for (const l of r.traceTail) out.push(`    ${l}\n`);
    out.push(`  replay: ${r.replay} --trace trace.jsonl --history history.jsonl\n`);
  }
  return out.join('');
}

/** The final JSON line. */
export function summaryJson(s: Summary, profile: string): Record<string, unknown> {
  const q = (p: number) => (s.runMs.length === 0 ? 0 : s.runMs[Math.min(s.runMs.length - 1, Math.floor(p * s.runMs.length))]!);
  return {
    name: 'sim',
    params: { profile, seeds: s.runs },
    passed: s.passed,
    failed: s.failed.map((f) => f.seed),
    expectedLeaseViolations: s.expectedLeaseViolations,
    unknown: s.unknown,
    'ops/s': Math.round((s.ops / Math.max(1, s.wallMs)) * 1000),
    'seeds/s': Math.round((s.runs / Math.max(1, s.wallMs)) * 1000 * 100) / 100,
    p50_ms: q(0.5),
    p99_ms: q(0.99),
    wall_ms: Math.round(s.wallMs),
    virtual_ms: Math.round(s.virtualMs),
  };
}
