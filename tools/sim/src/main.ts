#!/usr/bin/env node
/**
 * mrkv-sim (`pnpm sim`): the deterministic simulator. See README.md.
 *
 *   pnpm sim [--seed S | --seeds N [--first-seed S]] [--profile quick|long] [--stores 3|5]
 *            [--regions K] [--duration MS] [--steps N] [--clients N] [--keys N]
 *            [--faults LIST|none] [--clock-beyond-bound] [--check-every K] [--liveness-bound MS]
 *            [--trace FILE] [--history FILE] [--json]
 *
 * Exit status: 0 every seed passed (an expected lease violation in the beyond-bound clock mode is
 * reported, not failed), 1 some seed failed, 2 usage error, 3 some history undecided.
 */
import { Command, InvalidArgumentError } from 'commander';
import { isMrkvError } from '@mrkv/common';
import { FAULT_KINDS, type FaultKind } from './nemesis.js';
import { defaultOptions, validateOptions, PROFILES, type Profile, type SimOptions } from './options.js';
import { formatRun, runSeeds, summaryJson } from './report.js';

function int(what: string, min = 0) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`${what} must be an integer ≥ ${min}`);
    return n;
  };
}

function faultList(v: string): FaultKind[] {
  if (v === 'none') return [];
  const out = v.split(',').map((s) => s.trim());
  for (const f of out) if (!(FAULT_KINDS as readonly string[]).includes(f)) throw new InvalidArgumentError(`unknown fault ${f}; known: ${FAULT_KINDS.join(', ')}, or none`);
  return out as FaultKind[];
}

interface CliOptions {
  seed?: number;
  seeds?: number;
  firstSeed?: number;
  profile: string;
  stores?: number;
  regions?: number;
  duration?: number;
  steps?: number;
  clients?: number;
  keys?: number;
  faults?: FaultKind[];
  clockBeyondBound?: boolean;
  checkEvery?: number;
  livenessBound?: number;
  trace?: string;
  history?: string;
  json?: boolean;
}

export async function main(argv: string[]): Promise<number> {
  const program = new Command('mrkv-sim')
    .description('Deterministic simulation of an mrkv cluster under faults, with invariant and linearizability checks')
    .option('--seed <n>', 'run (or replay) this one seed', int('--seed'))
    .option('--seeds <n>', 'run this many seeds', int('--seeds', 1))
    .option('--first-seed <n>', 'first seed of --seeds (default 1)', int('--first-seed'))
    .option('--profile <name>', `defaults: ${Object.keys(PROFILES).join(' | ')}`, 'quick')
    .option('--stores <n>', 'stores: 3 or 5', int('--stores', 1))
    .option('--regions <n>', 'regions after the pre-split', int('--regions', 1))
    .option('--duration <ms>', 'virtual length of the safety phase', int('--duration', 1))
    .option('--steps <n>', 'cap on scheduler events of the safety phase', int('--steps', 1))
    .option('--clients <n>', 'concurrent clients', int('--clients', 1))
    .option('--keys <n>', 'keys in the workload', int('--keys', 1))
    .option('--faults <list>', `episodic faults (comma-separated: ${FAULT_KINDS.join(',')}; or none); default: drawn from the seed`, faultList)
    .option('--clock-beyond-bound', 'labelled mode: clock rates beyond the lease drift bound (a stale lease read is reported, not failed)')
    .option('--check-every <k>', 'run the invariant sweep every k scheduler events', int('--check-every', 1))
    .option('--liveness-bound <ms>', 'after healing, every region must take a write within this many virtual ms', int('--liveness-bound', 1))
    .option('--trace <file>', 'write the event trace (JSON lines) of the run (with --seeds: of the first failing run)')
    .option('--history <file>', 'write the client history (mrkv-jsonl, for pnpm check-history)')
    .option('--json', 'print one JSON object per run instead of text')
    .showHelpAfterError()
    .exitOverride();
  try {
    program.parse(argv);
  } catch (err) {
    // Commander already printed the problem (or the help / version text).
    const code = (err as { exitCode?: number }).exitCode;
    return code === 0 ? 0 : 2;
  }
  const o = program.opts<CliOptions>();
  if (!(o.profile in PROFILES)) {
    process.stderr.write(`mrkv-sim: --profile must be one of ${Object.keys(PROFILES).join(', ')}\n`);
    return 2;
  }
  if (o.seed !== undefined && o.seeds !== undefined) {
    process.stderr.write('mrkv-sim: give --seed (one run) or --seeds (many), not both\n');
    return 2;
  }
  const profile = o.profile as Profile;
  const first = o.seed ?? o.firstSeed ?? 1;
  const count = o.seed !== undefined ? 1 : (o.seeds ?? 1);
  const make = (seed: number): SimOptions => {
    const d = defaultOptions(seed, profile);
    return {
      ...d,
      stores: o.stores ?? d.stores,
      regions: o.regions ?? d.regions,
      durationMs: o.duration ?? d.durationMs,
      maxSteps: o.steps,
      clients: o.clients ?? d.clients,
      keys: o.keys ?? d.keys,
      faults: o.faults,
      clockBeyondBound: o.clockBeyondBound === true,
      checkEvery: o.checkEvery ?? d.checkEvery,
      livenessBoundMs: o.livenessBound,
      keepTrace: o.trace !== undefined,
    };
  };
  try {
    validateOptions(make(first));
  } catch (err) {
    process.stderr.write(`mrkv-sim: ${(err as Error).message}\n`);
    return 2;
  }
  const summary = await runSeeds(first, count, make, {
    tracePath: o.trace,
    historyPath: o.history,
    onRun: (r) => process.stdout.write(o.json === true ? `${JSON.stringify({ seed: r.seed, verdict: r.verdict, plan: r.plan, violations: r.violations, stats: r.stats, replay: r.replay })}\n` : formatRun(r, count === 1)),
  });
  process.stdout.write(`${summary.text}\n${JSON.stringify(summaryJson(summary, profile))}\n`);
  if (summary.failed.length > 0) return 1;
  return summary.unknown.length > 0 ? 3 : 0;
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/main.ts') || process.argv[1]?.endsWith('/main.js')) {
  main(process.argv).then(
    (code) => process.exit(code),
    (err: unknown) => {
      const code = isMrkvError(err) ? ` [${err.code}]` : '';
      process.stderr.write(`mrkv-sim: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}${code}\n`);
      process.exit(1);
    },
  );
}
