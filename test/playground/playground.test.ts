/**
 * The playground as users run it: `mrkv-playground` from sources, real PD and store processes,
 * the SDK against it, SIGTERM, and a restart on the same directory. Failure paths:
 * playground-failures.test.ts and playground-cli.test.ts.
 *
 * This test needs stores that can serve, so it is gated on `storeReady`: a real probe, not a flag.
 * It runs the store binary against an in-process fake PD and waits for its /ready (or its exit);
 * a build whose store has no raftstore wired in (it stops at start-up) skips the test.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { createRawClient } from '@mrkv/client';
import { Child, ClusterView, assertPortsFree, freePorts, layoutPorts, type Layout } from '@mrkv/playground';
import { fakePdCluster, startFakePdServer } from '@mrkv/store-server/testing';

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

/** Runs mrkv-store against a fake PD: true once /ready answers 200, false if it exits first. */
async function probeStoreReady(): Promise<boolean> {
  const pd = await startFakePdServer(fakePdCluster());
  const dir = tempDir();
  const [port, statusPort] = await freePorts(2);
  const store = new Child({
    name: 'probe-store',
    args: ['--conditions=@mrkv/source', '--import', 'tsx', 'services/store/src/main.ts', '--pd', pd.address, '--data-dir', join(dir, 's'), '--addr', `127.0.0.1:${port}`, '--status-addr', `127.0.0.1:${statusPort}`],
    cwd: REPO_ROOT,
    logFile: join(dir, 'probe.log'),
  });
  try {
    const deadline = Date.now() + 30_000;
    while (store.running && Date.now() < deadline) {
      const ok = await fetch(`http://127.0.0.1:${statusPort}/ready`, { signal: AbortSignal.timeout(1000) }).then((r) => r.status === 200, () => false);
      if (ok) return true;
      await new Promise((r) => setTimeout(r, 200));
    }
    return false;
  } finally {
    await store.stop(5000);
    pd.stop();
  }
}

const storeReady = await probeStoreReady();

async function portsFreed(layout: Layout): Promise<void> {
  await expect(assertPortsFree(layoutPorts(layout))).resolves.toBeUndefined();
}

describe.skipIf(!storeReady)('a real playground (needs a store with a raftstore)', () => {
  /** Starts the command; resolves with the process and PD's address once it printed `PD: …`. */
  function startCli(dir: string, extra: string[] = []) {
    const child = spawn(process.execPath, ['--conditions=@mrkv/source', '--import', 'tsx', 'tools/playground/src/main.ts', '--dir', dir, '--base-port', '0', ...extra], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: string[] = [];
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    child.stderr.on('data', (b: Buffer) => out.push(b.toString()));
    const pd = new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        out.push(line);
        const m = /^PD: (127\.0\.0\.1:\d+)$/.exec(line);
        if (m) resolve(m[1]!);
      });
      void exited.then((code) => reject(new Error(`playground exited (${code}) before printing PD:\n${out.join('\n')}`)));
    });
    return { child, pd, exited, out };
  }

  it('starts, pre-splits, serves the SDK, stops on SIGTERM, and comes back with its data', async () => {
    const dir = tempDir();
    const first = startCli(dir, ['--clean', '--regions', '3']);
    const pd = await first.pd;
    const view = new ClusterView(pd);
    const client = await createRawClient({ pdEndpoints: [pd] });
    try {
      expect((await view.regions()).length).toBe(3);
      await client.put('playground-test', 'kept');
      expect(Buffer.from((await client.get('playground-test'))!).toString()).toBe('kept');
    } finally {
      await client.close();
      view.close();
    }
    const layout = JSON.parse(readFileSync(join(dir, 'playground.json'), 'utf8')) as Layout;
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    await portsFreed(layout);

    const second = startCli(dir);
    const pd2 = await second.pd;
    const again = await createRawClient({ pdEndpoints: [pd2] });
    try {
      expect(Buffer.from((await again.get('playground-test'))!).toString()).toBe('kept');
    } finally {
      await again.close();
    }
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 120_000);
});
