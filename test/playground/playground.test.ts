/**
 * The playground as users run it: real PD and store processes from sources.
 *
 * The full start / use / stop / restart test needs stores that can serve. Until the raftstore is
 * wired into `mrkv-store` (TODO(lead) in services/store/src/main.ts) a store stops at start-up,
 * so that test is skipped; `storeReady` is a real probe, not a flag: it runs the store binary
 * against an in-process fake PD and waits for its /ready (or its exit). Everything else (child
 * failure reports, port conflicts, flags, the command's exit codes) runs now.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { createRawClient } from '@mrkv/client';
import {
  Child,
  ClusterView,
  PlaygroundCodes,
  assertPortsFree,
  freePorts,
  layoutPorts,
  parsePlaygroundArgs,
  planLayout,
  startPlayground,
  summarizeLines,
  type Layout,
} from '@mrkv/playground';
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

describe('start-up failures are reported, never hung on', () => {
  it('a store that exits names itself, shows its last log lines, and PD and the other stores are stopped', async () => {
    const dir = tempDir();
    const err = await startPlayground({ dir, basePort: 0, stores: 2, storeArgs: ['--max-key-size', 'huge'], readyTimeoutMs: 30_000 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: PlaygroundCodes.CHILD_EXITED });
    const e = err as Error & { details: { name: string; code: number; lastLines: string[] } };
    expect(e.details.name).toMatch(/^store-[12]$/);
    expect(e.details.code).toBe(2);
    expect(e.message).toMatch(/max-key-size/);
    expect(e.details.lastLines.length).toBeGreaterThan(0);
    const layout = JSON.parse(readFileSync(join(dir, 'playground.json'), 'utf8')) as Layout;
    await portsFreed(layout);
    expect(readFileSync(layout.stores[0]!.logFile, 'utf8')).toMatch(/max-key-size/);
  });

  it('a taken port is refused before anything starts', async () => {
    const [port] = await freePorts(1);
    const net = await import('node:net');
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(port, '127.0.0.1', () => r()));
    try {
      await expect(startPlayground({ dir: tempDir(), basePort: port! })).rejects.toMatchObject({ code: PlaygroundCodes.PORT_IN_USE, details: { port } });
    } finally {
      holder.close();
    }
  });

  it('summarizes a child log by its last error line', () => {
    const lines = ['{"level":"info","msg":"starting"}', '{"level":"fatal","msg":"mrkv-store failed to start","err":{"message":"no raftstore"}}', 'plain trailer'];
    expect(summarizeLines(lines)).toBe('mrkv-store failed to start: no raftstore');
    expect(summarizeLines(['just text', ''])).toBe('just text');
  });
});

describe('flags and layout', () => {
  it('parses the issue-8 contract and plans P, P+i and the status ports', async () => {
    const a = parsePlaygroundArgs(['--stores', '5', '--dir', 'x', '--base-port', '3000', '--regions', '8', '--clean'], () => {});
    expect(a).toMatchObject({ stores: 5, dir: 'x', basePort: 3000, regions: 8, clean: true, timeoutMs: 60_000 });
    const layout = await planLayout('/d', 3, 2379, '127.0.0.1');
    expect(layout.pd.addr).toBe('127.0.0.1:2379');
    expect(layout.stores.map((s) => s.addr)).toEqual(['127.0.0.1:2380', '127.0.0.1:2381', '127.0.0.1:2382']);
    expect(layout.stores.map((s) => s.statusAddr)).toEqual(['127.0.0.1:2480', '127.0.0.1:2481', '127.0.0.1:2482']);
    expect(layout.pd.statusPort).toBe(2479);
    expect(new Set(layoutPorts(await planLayout('/d', 3, 0, '127.0.0.1'))).size).toBe(8);
  });

  it('refuses bad flags with INVALID_ARGUMENT', () => {
    for (const argv of [['--stores', '0'], ['--base-port', 'x'], ['--regions', '-2'], ['--nope']]) {
      expect(() => parsePlaygroundArgs(argv, () => {})).toThrow(expect.objectContaining({ code: PlaygroundCodes.INVALID_ARGUMENT }));
    }
  });
});

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
