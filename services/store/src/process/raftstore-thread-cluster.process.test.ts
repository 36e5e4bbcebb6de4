/**
 * A real 3-store cluster (`startPlayground`: real PD and store processes) with every raftstore on
 * its worker thread: replication between raftstore threads through the main threads' transport,
 * peers added by PD through snapshots sent and received across the port, region heartbeats and
 * store stats reaching PD, and the SDK reading every acknowledged write back.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createRawClient } from '@mrkv/client';
import { startPlayground, type Playground } from '@mrkv/playground';

let pg: Playground | undefined;
const dir = mkdtempSync(join(tmpdir(), 'mrkv-rs-thread-cluster-'));
afterAll(async () => {
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Parsed JSON log lines of a store's log file. */
function logLines(file: string): Array<Record<string, unknown>> {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('a 3-store cluster with raftstore threads', () => {
  it('replicates, moves snapshots through the threads and serves the SDK', { timeout: 120_000 }, async () => {
    pg = await startPlayground({ stores: 3, dir, basePort: 0, clean: true, readyTimeoutMs: 90_000, storeArgs: ['--raftstore-thread', 'worker'] });
    const client = createRawClient({ pdEndpoints: [pg.pdAddress] });
    try {
      const keys = Array.from({ length: 100 }, (_, i) => `key-${String(i).padStart(3, '0')}`);
      await Promise.all(keys.map((k) => client.put(k, `value-of-${k}`)));
      for (const k of keys) expect(Buffer.from((await client.get(k))!).toString()).toBe(`value-of-${k}`);
    } finally {
      await client.close();
    }
    const status = await pg.status();
    expect(status.stores.every((s) => s.ready)).toBe(true);
    expect(status.leaders).toBe(status.regions);

    // Every store's raftstore ran on its thread; the two replicas PD adds arrive as snapshots
    // (one after the other: the second may still be on its way).
    const files = pg.layout.stores.map((s) => s.logFile);
    for (const f of files) expect(logLines(f).some((r) => r.thread === 'raftstore' && r.msg === 'raftstore thread serving')).toBe(true);
    const storesWithSnapshot = () => files.filter((f) => logLines(f).some((r) => r.thread === 'raftstore' && r.msg === 'snapshot applied')).length;
    await expect.poll(storesWithSnapshot, { timeout: 60_000, interval: 250 }).toBe(2);
  });
});
