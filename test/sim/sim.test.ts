/**
 * The deterministic simulator in CI, in-process: the 5-store and beyond-bound modes, exact replay,
 * and self-checks proving that the checks can fail. The quick-profile seeds (`SIM_CI_SEEDS`,
 * default 300) run in `seeds-<i>.test.ts` (see ./ci-seeds.ts). The long profile is opt-in:
 * `pnpm sim --seeds 200 --profile long` (see tools/sim/README.md).
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultOptions, runSimulation, type RunResult, type SimOptions } from '@mrkv/sim';
import { CI_FILES, CI_SEEDS, fileRange } from './ci-seeds.js';

function explain(r: RunResult): string {
  return [`seed ${r.seed}: ${r.verdict} (${r.plan})`, ...r.violations.map((v) => `  ${v.kind}: ${v.message}`), r.explanation ?? '', `  replay: ${r.replay}`, ...r.traceTail.slice(-10)].join('\n');
}

async function runChunk(first: number, count: number, make: (seed: number) => SimOptions, allowed: RunResult['verdict'][]): Promise<void> {
  const bad: string[] = [];
  for (let seed = first; seed < first + count; seed++) {
    const r = await runSimulation(make(seed));
    if (!allowed.includes(r.verdict)) bad.push(explain(r));
  }
  expect(bad, bad.join('\n\n')).toEqual([]);
}

describe('pnpm sim (quick profile), other modes', () => {
  it('the seeds files cover seeds 1..SIM_CI_SEEDS, each seed once', () => {
    const files = readdirSync(new URL('./', import.meta.url)).filter((f) => /^seeds-\d+\.test\.ts$/.test(f));
    expect(files.length).toBe(CI_FILES);
    const seeds = Array.from({ length: CI_FILES }, (_, i) => fileRange(i)).flatMap(({ first, count }) => Array.from({ length: count }, (_, k) => first + k));
    expect(seeds).toEqual(Array.from({ length: CI_SEEDS }, (_, k) => k + 1));
  });

  it('5-store clusters keep every invariant', async () => {
    await runChunk(10_001, 3, (seed) => ({ ...defaultOptions(seed), stores: 5, regions: 4 }), ['pass']);
  }, 120_000);

  it('clock skew beyond the lease bound (labelled mode) breaks no invariant; a stale lease read is reported, not failed', async () => {
    await runChunk(20_001, 3, (seed) => ({ ...defaultOptions(seed), clockBeyondBound: true }), ['pass', 'expected-lease-violation']);
  }, 120_000);
});

describe('pnpm sim determinism and self-checks', () => {
  it('replays a seed exactly: same trace, same history', async () => {
    const o = { ...defaultOptions(4242), keepTrace: true };
    const a = await runSimulation(o);
    const b = await runSimulation(o);
    expect(a.trace.length).toBeGreaterThan(1000);
    expect(b.trace).toBe(a.trace);
    expect(b.history).toBe(a.history);
    expect(b.stats.events).toBe(a.stats.events);
  }, 60_000);

  it('catches a replica whose applied entries diverge (an observer injects a wrong checksum)', async () => {
    let target: number | undefined;
    const r = await runSimulation(defaultOptions(7), {
      tamper: (storeId, regionId, e, digest) => {
        if (storeId !== 2 || e.index < 12) return digest;
        target ??= regionId;
        return regionId === target && e.index === 12 ? digest ^ 1 : digest;
      },
    });
    expect(r.verdict).toBe('fail');
    expect(r.violations[0]?.kind).toBe('apply-divergence');
    expect(r.violations[0]?.message).toMatch(/store 2 applied index 12|another replica/);
    expect(r.replay).toBe('pnpm sim --seed 7');
  }, 60_000);

  it('catches a read that returns a value nobody wrote (the history check runs end to end)', async () => {
    let done = false;
    const r = await runSimulation(defaultOptions(8), {
      tamperGet: (_key, value) => {
        if (done || value === null) return value;
        done = true;
        return 'never-written';
      },
    });
    expect(done).toBe(true);
    expect(r.verdict).toBe('fail');
    expect(r.violations.map((v) => v.kind)).toContain('linearizability');
    expect(r.explanation).toContain('never-written');
  }, 60_000);
});
