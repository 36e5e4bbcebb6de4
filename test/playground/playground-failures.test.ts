/**
 * Start-up failures of the playground, against real PD and store processes: a child that exits is
 * reported with its log lines and the rest is stopped; a taken port is refused up front. Plus the
 * flags and the layout.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PlaygroundCodes, assertPortsFree, freePorts, layoutPorts, parsePlaygroundArgs, planLayout, startPlayground, summarizeLines, type Layout } from '@mrkv/playground';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'mrkv-playground-test-'));
  dirs.push(d);
  return d;
}

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
    const failedLog = layout.stores.find((st) => st.name === e.details.name)!.logFile;
    expect(readFileSync(failedLog, 'utf8')).toMatch(/max-key-size/);
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
