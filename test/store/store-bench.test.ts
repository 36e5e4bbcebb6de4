/**
 * `pnpm bench store` as users run it, on a tiny setting (memory engines, 1 and 4 regions, a
 * fraction of a second each): the human table, then a last line of JSON whose figures are sane
 * (writes were committed, group commit put several writes behind each fsync). Plus the CPU
 * profile reader on a hand-made profile, and the refusal of bad flags.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { topSelfTime } from '../../packages/raftstore/bench/profile.js';
import { REPO_ROOT } from '../harness/store.js';

function bench(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['tools/bench.mjs', 'store', ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('pnpm bench store', () => {
  it('prints a table and, last, one JSON line with proposals_per_sec and fsyncs_per_write; --profile writes a profile', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mrkv-store-bench-test-'));
    try {
      const profile = join(dir, 'p.cpuprofile');
      const r = bench(['--seconds', '0.5', '--warmup', '0.2', '--regions', '1,4', '--engines', 'memory', '--concurrency', '64', '--profile', profile]);
      expect(r.status, r.stderr).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(r.stdout).toMatch(/engine\s+regions\s+writes\/s/);
      expect(r.stdout).toMatch(/top self time/);
      const json = JSON.parse(lines[lines.length - 1]!) as {
        name: string;
        proposals_per_sec: number;
        fsyncs_per_write: number;
        cases: Array<{ regions: number; writes: number; fsyncs_per_write: number; cmds_per_proposal: number }>;
      };
      expect(json.name).toBe('store');
      expect(json.cases.map((c) => c.regions)).toEqual([1, 4]);
      expect(json.proposals_per_sec).toBeGreaterThan(0);
      for (const c of json.cases) {
        expect(c.writes).toBeGreaterThan(0);
        // 64 writers on at most 4 regions: without group commit and proposal batching this is ≥ 3.
        expect(c.fsyncs_per_write).toBeLessThan(1);
        expect(c.cmds_per_proposal).toBeGreaterThan(1);
      }
      const prof = JSON.parse(readFileSync(profile, 'utf8')) as { nodes: unknown[] };
      expect(prof.nodes.length).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('refuses bad flags with exit code 2 and the usage', () => {
    const r = bench(['--engines', 'leveldb']);
    expect(r.status).toBe(2);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace for a usage error
    expect(r.stderr).toMatch(/--engines takes memory and\/or rocksdb/);
    expect(r.stderr).toMatch(/usage: store-bench/);
  });
});

describe('topSelfTime', () => {
  it('sums each function’s sample time over its call-tree nodes, largest first', () => {
    const frame = (functionName: string, lineNumber = 0) => ({ functionName, url: `file://${process.cwd()}/x.ts`, lineNumber });
    const top = topSelfTime(
      {
        nodes: [
          { id: 1, callFrame: frame('(root)') },
          { id: 2, callFrame: frame('encode', 9) },
          { id: 3, callFrame: frame('step', 19) },
          { id: 4, callFrame: frame('encode', 9) }, // same function, another caller
        ],
        // Each sample lasts until the next one: deltas[i + 1].
        samples: [2, 3, 4, 2, 1],
        timeDeltas: [0, 1000, 3000, 2000, 500, 0],
      },
      2,
    );
    expect(top).toEqual([
      { name: 'encode', where: 'x.ts:10', selfMs: 1 + 2 + 0.5, selfPct: (3.5 / 6.5) * 100 },
      { name: 'step', where: 'x.ts:20', selfMs: 3, selfPct: (3 / 6.5) * 100 },
    ]);
  });
});
