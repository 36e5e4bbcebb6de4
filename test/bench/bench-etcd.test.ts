/**
 * The etcd target against a real 3-member etcd started from Debian's etcd-server binary (skipped,
 * with the reason in the test name, where /usr/bin/etcd is absent).
 */
import { describe, expect, it } from 'vitest';
import { etcdAvailable, etcdBinary, parseBenchArgs, runBench } from '@mrkv/bench';

describe.skipIf(!etcdAvailable())(`etcd target (3 members started from ${etcdBinary()})`, () => {
  it('starts a cluster, loads keys, runs linearizable gets, and stops the members', async () => {
    const opts = parseBenchArgs(['--target', 'etcd', '--workload', 'raw-get', '--keys', '200', '--duration', '1s', '--warmup', '0', '--concurrency', '8']);
    const [r] = (await runBench(opts, { progress: { tty: false, write: () => {} } })).results;
    if (!r?.ok) throw new Error(`etcd target failed: ${JSON.stringify(r)}`);
    expect(r.load?.keys).toBe(200);
    expect(r.count).toBeGreaterThan(0);
    expect(r.errors).toBe(0);
    expect(r.where).toMatch(/^3 etcd members started/);
  });
});

