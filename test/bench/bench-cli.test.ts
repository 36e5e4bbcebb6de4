/** The `mrkv-bench` command as users run it: exit codes, the table, and the last JSON line. */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const REPO_ROOT = new URL('../../', import.meta.url).pathname;

describe('mrkv-bench command', () => {
  const bench = (args: string[]) =>
    spawnSync(process.execPath, ['tools/run-ts.mjs', 'tools/bench/src/main.ts', ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 20_000 });

  it('prints the table and ends stdout with one JSON line', () => {
    const res = bench(['--target', 'rocksdb', '--ops', '200', '--concurrency', '4']);
    expect(res.status, res.stderr).toBe(0);
    const lines = res.stdout.trimEnd().split('\n');
    expect(res.stdout).toContain('│ rocksdb │ all');
    const json = JSON.parse(lines[lines.length - 1]!) as { name: string; params: { ops: number }; targets: { rocksdb: { ops: number; p99_ms: number } } };
    expect(json.name).toBe('cluster');
    expect(json.params.ops).toBe(200);
    expect(json.targets.rocksdb.ops).toBe(200);
    expect(json.targets.rocksdb.p99_ms).toBeGreaterThan(0);
  });

  it('exits 2 with a message naming the flag on bad input', () => {
    const res = bench(['--target', 'rocksdb', '--concurrency', 'lots']);
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(/KV:Bench:InvalidArgument.*--concurrency/);
  });
});
