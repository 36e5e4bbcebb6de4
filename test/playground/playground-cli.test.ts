/** The `mrkv-playground` command's exit codes and error output. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const REPO_ROOT = new URL('../../', import.meta.url).pathname;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'mrkv-playground-test-'));
  dirs.push(d);
  return d;
}

describe('mrkv-playground command', () => {
  const run = (args: string[]) =>
    spawnSync(process.execPath, ['--conditions=@mrkv/source', '--import', 'tsx', 'tools/playground/src/main.ts', ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 45_000 });

  it('exits 2 on bad flags and 1 with the failing child and its log lines when a store cannot start', () => {
    const bad = run(['--stores', '0']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/KV:Playground:InvalidArgument.*--stores/);
    const failed = run(['--dir', tempDir(), '--base-port', '0', '--stores', '1', '--store-arg', '--max-key-size huge']);
    expect(failed.status, failed.stderr).toBe(1);
    expect(failed.stderr).toMatch(/KV:Playground:ChildExited\] store-1 exited \(code 2\)/);
    expect(failed.stderr).toMatch(/--- last lines of .*store-1\.log ---/);
    expect(failed.stdout).not.toMatch(/^PD: /m);
  });
});
