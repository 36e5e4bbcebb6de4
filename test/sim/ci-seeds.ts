/**
 * The simulator's CI seeds: `SIM_CI_SEEDS` seeds (default 300) of the quick profile, split evenly
 * across the `seeds-<i>.test.ts` files (each its own seed range, so vitest can run the files in
 * parallel workers), and within a file across `SIM_CI_PROCS` (default 2) `pnpm sim --json` child
 * processes running at once. The children are what uses a second core where vitest runs one
 * worker (its default on a 2-core machine is `availableParallelism() − 1` = 1 worker).
 *
 * A child prints one JSON line per seed; every seed must pass. A failure names the seed, its
 * violations and the command that replays it (`pnpm sim --seed S` prints the trace tail and the
 * checker's explanation).
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';

/** Total CI seeds over all files, and the files they are split across. */
export const CI_SEEDS = positive('SIM_CI_SEEDS', 300);
export const CI_FILES = 3;
/** Child processes per file (at most the machine's cores). */
const PROCS = Math.min(positive('SIM_CI_PROCS', 2), Math.max(1, availableParallelism()));

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function positive(name: string, dflt: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return n;
}

/** One seed's line of `pnpm sim --json`. */
interface SeedLine {
  readonly seed: number;
  readonly verdict: string;
  readonly plan: string;
  readonly replay: string;
  readonly violations: ReadonlyArray<{ readonly kind: string; readonly message: string }>;
  readonly stats: { readonly wallMs: number };
}

interface ChildResult {
  readonly runs: SeedLine[];
  readonly code: number | null;
  readonly output: string;
}

/** How long one child may run before it is killed (just under the test's own timeout). */
const CHILD_LIMIT_MS = 280_000;

/**
 * Runs `pnpm sim --seeds count --first-seed first --json` (node with tsx directly, as `pnpm sim`
 * does through tools/run-ts.mjs). The child is killed when `signal` aborts (the test timed out or
 * was cancelled) or after `CHILD_LIMIT_MS`.
 */
function runChild(first: number, count: number, signal: AbortSignal): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const args = ['--import', 'tsx', '--conditions=@mrkv/source', 'tools/sim/src/main.ts', '--seeds', String(count), '--first-seed', String(first), '--json'];
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], signal, timeout: CHILD_LIMIT_MS, killSignal: 'SIGKILL' });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    // An abort also emits 'error' (AbortError) and then 'close'; the test has already failed then.
    child.on('error', (e) => {
      if (e.name !== 'AbortError') reject(e);
    });
    child.on('close', (code) => {
      const runs: SeedLine[] = [];
      for (const line of out.split('\n')) {
        if (!line.startsWith('{"seed":')) continue;
        runs.push(JSON.parse(line) as SeedLine);
      }
      resolve({ runs, code, output: `${out.slice(-2000)}${err.slice(-4000)}` });
    });
  });
}

function explain(r: SeedLine): string {
  return [`seed ${r.seed}: ${r.verdict} (${r.plan})`, ...r.violations.map((v) => `  ${v.kind}: ${v.message}`), `  replay: ${r.replay}`].join('\n');
}

/** The seed range of file `index` (0-based) of `CI_FILES`: [first, first + count). */
export function fileRange(index: number): { first: number; count: number } {
  const per = Math.ceil(CI_SEEDS / CI_FILES);
  const first = 1 + index * per;
  return { first, count: Math.max(0, Math.min(per, CI_SEEDS + 1 - first)) };
}

/** Declares the tests of one seeds file: its range in `PROCS` children that run at once. */
export function seedsSuite(index: number): void {
  const { first, count } = fileRange(index);
  const per = Math.ceil(count / PROCS);
  const parts: Array<[number, number]> = [];
  for (let s = first; s < first + count; s += per) parts.push([s, Math.min(per, first + count - s)]);
  describe.concurrent(`pnpm sim quick profile, seeds ${first}–${first + count - 1}`, () => {
    if (parts.length === 0) it.skip('no seeds in this file (SIM_CI_SEEDS)', () => undefined);
    it.for(parts)('seeds %i.. (%i) keep every invariant, stay live and linearizable', { timeout: 290_000 }, async ([from, n], { expect, signal }) => {
      const r = await runChild(from, n, signal);
      const bad = r.runs.filter((x) => x.verdict !== 'pass').map(explain);
      expect(bad, bad.join('\n\n')).toEqual([]);
      expect(r.runs.map((x) => x.seed), `the child ran every seed of its range (exit ${r.code}):\n${r.output}`).toEqual(Array.from({ length: n }, (_, i) => from + i));
      expect(r.code, r.output).toBe(0);
    });
  });
}
