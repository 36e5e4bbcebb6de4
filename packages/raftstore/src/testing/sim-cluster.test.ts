import { describe, expect, it } from 'vitest';
import { SeededRng } from '@mrkv/common';
import { SimScheduler } from '../batch/sim-scheduler.js';
import { TestCluster } from './cluster.js';

/** Runs a cluster scenario entirely on virtual time; returns a trace that must replay exactly. */
async function scenario(seed: number): Promise<string[]> {
  const sim = new SimScheduler({ shuffle: true, rng: new SeededRng(seed) });
  const cluster = new TestCluster({ stores: 3, sim });
  const trace: string[] = [];
  const run = async <T>(p: Promise<T>): Promise<T> => {
    let done = false;
    let out: T | undefined;
    let error: unknown;
    p.then(
      (v) => ((done = true), (out = v)),
      (e: unknown) => ((done = true), (error = e)),
    );
    const deadline = sim.nowMs() + 60_000;
    let idle = 0;
    while (!done) {
      if (sim.nextAt() === undefined) {
        // Nothing scheduled: let pending promise chains (engine I/O) settle, then look again.
        await new Promise((r) => setImmediate(r));
        if (++idle > 1000) throw new Error('sim: stuck with nothing scheduled');
        continue;
      }
      idle = 0;
      if (sim.nowMs() > deadline) throw new Error('sim: operation did not finish in 60 s of virtual time');
      await sim.step();
    }
    if (error !== undefined) throw error;
    return out as T;
  };
  const region = await run(cluster.start());
  const first = await run(cluster.waitLeader(region.id));
  trace.push(`leader ${first} at ${sim.nowMs()}`);
  for (let i = 0; i < 10; i++) await run(cluster.put(`k${i}`, `v${i}`));
  trace.push(`writes done at ${sim.nowMs()}`);
  await run(cluster.crash(first));
  const second = await run(cluster.waitFor(() => cluster.leaderStore(region.id), 60_000, 'a new leader'));
  trace.push(`leader ${second} at ${sim.nowMs()}`);
  for (let i = 0; i < 10; i++) expect(await run(cluster.get(`k${i}`))).toBe(`v${i}`);
  trace.push(`reads done at ${sim.nowMs()} after ${sim.eventsRun} events`);
  await run(cluster.shutdown());
  return trace;
}

describe('raftstore under the deterministic scheduler', () => {
  it('runs a failover scenario on virtual time and replays it exactly from its seed', async () => {
    const a = await scenario(42);
    const b = await scenario(42);
    expect(b).toEqual(a);
    const c = await scenario(7);
    expect(c[0]).toMatch(/^leader \d at \d+/);
  });
});
