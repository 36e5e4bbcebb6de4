/**
 * The real-process chaos suite: PD + 3 stores (each behind a fault proxy), several SDK clients
 * recording a history, and one fault per scenario: kill -9 of the leader's store, of every store
 * at once, of the leader under heavy writes; the leader cut off from the majority; a follower cut
 * off then healed; the leader frozen with SIGSTOP; a follower frozen until it needs a snapshot.
 * Every scenario ends with the same verdicts (scenario.ts): the history is linearizable, every
 * acknowledged write is readable, and the cluster took writes again (recovery time printed).
 *
 * Scenarios share one cluster (starting one costs more than a scenario) and run in order; each
 * leaves the cluster whole. See README.md for the profiles and what each scenario asserts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HistoryRecorder } from '@mrkv/checker';
import { ChaosCluster, closeDirectClients, directGet, storeName } from './chaos-cluster.js';
import { hold, LONG, PROFILE, runScenario, type ScenarioReport } from './scenario.js';
import type { Workload } from './workload.js';
import { waitFor } from '../store/cluster.js';

let cluster: ChaosCluster;
const timeout = LONG ? 600_000 : 60_000;

beforeAll(async () => {
  cluster = await ChaosCluster.start(3);
}, 90_000);
afterAll(async () => {
  closeDirectClients();
  await cluster?.stop();
});

/** The shared verdicts. */
function expectSound(r: ScenarioReport): void {
  expect(r.missing, `acknowledged writes missing after ${r.name}: ${r.missing.slice(0, 5).join(', ')}`).toEqual([]);
  expect(r.verdict, `${r.name}: history not linearizable (${r.historyFile ?? 'no file'}):\n${r.explanation}`).toBe('linearizable');
  expect(r.recoveryMs, `${r.name}: no write acknowledged after the heal`).toBeDefined();
}

/** "became leader" log lines of every store so far. */
function leaderChanges(): number {
  return cluster.stores.reduce((n, s) => n + s.logs().filter((l) => l.msg === 'became leader').length, 0);
}

describe.sequential('chaos', () => {
  it('leader store kill -9, then restart', async () => {
    for (let round = 0; round < PROFILE.rounds; round++) {
      const r = await runScenario(cluster, `leader-kill-${round}`, async (w) => {
        const { index } = await cluster.leaderIndexOf(`leader-kill-${round}/r0`);
        const faultAt = performance.now();
        await cluster.kill(index);
        await w.waitAcks(PROFILE.settleAcks, 30_000); // a new leader among the two survivors
        await hold(PROFILE.faultMs);
        const healAt = performance.now();
        await cluster.restart(index);
        return { faultAt, healAt };
      });
      expectSound(r);
      expect(r.firstAckAfterFaultMs).toBeDefined();
    }
  }, timeout);
});
