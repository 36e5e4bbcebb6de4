import { SeededRng } from '@mrkv/common';
import { afterEach, describe, expect, it } from 'vitest';
import { Poller } from './poller.js';
import { isRouteUp, LocalRouter } from './router.js';
import { SimScheduler } from './sim-scheduler.js';
import { ThreadBatchSystem } from './thread-system.js';
import { Counter, type ToyControl, type ToyControlMsg, type ToyMsg, toyHandler } from './testing/toy.js';

/** A workload: `rounds` waves of adds and cross-FSM forwards over `ids`, from a seed. */
function workload(seed: number, ids: number[], waves: number): Array<[number, ToyMsg]> {
  const rng = new SeededRng(seed);
  const out: Array<[number, ToyMsg]> = [];
  for (let w = 0; w < waves; w++) {
    for (const id of ids) {
      out.push([id, { type: 'add', n: rng.range(1, 100) }]);
      if (rng.chance(0.5)) out.push([id, { type: 'forward', to: ids[rng.nextInt(ids.length)]!, n: rng.range(1, 100) }]);
    }
  }
  return out;
}

/** The totals the workload must produce, computed without any batch system. */
function expectedTotals(msgs: Array<[number, ToyMsg]>): Map<number, number> {
  const t = new Map<number, number>();
  for (const [id, m] of msgs) {
    const target = m.type === 'add' ? id : m.to;
    t.set(target, (t.get(target) ?? 0) + m.n);
  }
  return t;
}

function makeLocalSystem(sim: SimScheduler, size: number) {
  const stats = { rounds: 0, maxBatch: 0 };
  const counters = new Map<number, Counter>();
  const pollers: Array<Poller<Counter, ToyMsg, ToyControl, ToyControlMsg>> = [];
  const router = new LocalRouter<ToyMsg, ToyControlMsg>(pollers as never);
  for (let i = 0; i < size; i++) {
    const idx = i;
    const handler = toyHandler(
      {
        router,
        create: (id) => {
          const c = new Counter(id);
          counters.set(id, c);
          pollers[idx]!.register(id, c);
          router.place(id, idx);
        },
        report: () => {},
        counters: () => [...counters.values()].filter((c) => router.placement(c.id) === idx),
        persist: () => Promise.resolve(),
      },
      stats,
    );
    pollers.push(new Poller(handler, { created: [] }, sim, { maxBatchSize: 8, messagesPerTick: 16 }));
  }
  return { pollers, router, counters, stats };
}

describe('batch system, deterministic single-thread executor', () => {
  it('delivers every message exactly once and persists totals in rounds', async () => {
    const sim = new SimScheduler();
    const { router, counters, stats } = makeLocalSystem(sim, 2);
    const ids = Array.from({ length: 20 }, (_, i) => i + 1);
    ids.forEach((id, i) => router.sendControl(i % 2, { type: 'create', id }));
    await sim.runUntilIdle();
    const msgs = workload(7, ids, 30);
    for (const [id, m] of msgs) expect(router.send(id, m)).toBe(true);
    await sim.runUntilIdle();
    const want = expectedTotals(msgs);
    for (const id of ids) {
      expect(counters.get(id)!.total).toBe(want.get(id) ?? 0);
      expect(counters.get(id)!.persisted).toBe(want.get(id) ?? 0);
    }
    // Batching: far fewer rounds than messages, and no round larger than maxBatchSize.
    expect(stats.rounds).toBeLessThan(msgs.length / 4);
    expect(stats.maxBatch).toBeLessThanOrEqual(8);
  });

  it('replays the same interleaving for the same seed (shuffled events)', async () => {
    const run = async (seed: number) => {
      const sim = new SimScheduler({ shuffle: true, rng: new SeededRng(seed) });
      const { router, counters } = makeLocalSystem(sim, 3);
      const order: number[] = [];
      const ids = [1, 2, 3, 4, 5, 6];
      ids.forEach((id, i) => router.sendControl(i % 3, { type: 'create', id }));
      await sim.runUntilIdle();
      for (const [id, m] of workload(seed, ids, 5)) {
        router.send(id, m);
        sim.schedule(() => order.push(counters.get(id)!.handledMsgs));
      }
      await sim.runUntilIdle();
      return order.join(',');
    };
    expect(await run(11)).toBe(await run(11));
    expect(await run(11)).not.toBe(await run(12));
  });

  it('returns undelivered mail on deregister and refuses unknown ids', async () => {
    const sim = new SimScheduler();
    const { pollers, router } = makeLocalSystem(sim, 1);
    router.sendControl(0, { type: 'create', id: 5 });
    await sim.runUntilIdle();
    router.send(5, { type: 'add', n: 1 });
    router.send(5, { type: 'add', n: 2 });
    expect(pollers[0]!.deregister(5)).toHaveLength(2);
    router.unplace(5);
    expect(router.send(5, { type: 'add', n: 3 })).toBe(false);
    await sim.runUntilIdle();
    expect(pollers[0]!.isIdle()).toBe(true);
  });

  it('bounds a round when an FSM keeps mailing itself', async () => {
    const sim = new SimScheduler();
    let handles = 0;
    const poller: Poller<{ id: number }, number, null, never> = new Poller(
      {
        begin() {},
        handleControl() {},
        handleNormal(fsm, msgs) {
          handles++;
          for (const m of msgs) if (m > 0) poller.send(fsm.id, m - 1);
        },
        end() {},
      },
      null,
      sim,
      { maxBatchSize: 4, messagesPerTick: 100 },
    );
    poller.register(1, { id: 1 });
    poller.send(1, 50);
    await sim.step();
    expect(handles).toBeLessThanOrEqual(4);
    await sim.runUntilIdle();
    expect(handles).toBe(51);
  });
});

describe('batch system, worker-thread executor', () => {
  let system: ThreadBatchSystem | undefined;
  afterEach(async () => {
    await system?.stop();
    system = undefined;
  });

  it('runs the same toy FSMs on worker threads with cross-worker forwarding', async () => {
    const reports: Array<{ worker: number; list: Array<{ id: number; total: number; persisted: number }>; stats: { rounds: number } }> = [];
    let fatal: Error | undefined;
    system = new ThreadBatchSystem({
      name: 'toy',
      entry: new URL('./testing/toy-worker.js', import.meta.url),
      callerUrl: import.meta.url,
      size: 2,
      onMessage: (_w, msg) => {
        if (isRouteUp(msg)) system!.send(msg.id, msg.msg);
        else reports.push(msg as never);
      },
      onFatal: (_w, err) => {
        fatal = err;
      },
    });
    await system.start();
    const ids = Array.from({ length: 16 }, (_, i) => i + 1);
    ids.forEach((id, i) => system!.sendControl(i % 2, { type: 'create', id }));
    await waitFor(() => ids.every((id) => system!.placement(id) !== undefined), 'placement');
    expect(system.placement(3)).toBe(0);
    expect(system.placement(4)).toBe(1);
    const msgs = workload(3, ids, 40);
    for (const [id, m] of msgs) expect(system.send(id, m)).toBe(true);
    const want = expectedTotals(msgs);
    const totals = new Map<number, { total: number; persisted: number }>();
    await waitFor(async () => {
      reports.length = 0;
      system!.broadcastControl({ type: 'report' });
      await waitFor(() => reports.length === 2, 'reports');
      for (const r of reports) for (const c of r.list) totals.set(c.id, c);
      return ids.every((id) => totals.get(id)?.persisted === (want.get(id) ?? 0));
    }, 'all totals persisted');
    for (const id of ids) expect(totals.get(id)!.total).toBe(want.get(id) ?? 0);
    const rounds = reports.reduce((s, r) => s + r.stats.rounds, 0);
    expect(rounds).toBeLessThan(msgs.length);
    expect(fatal).toBeUndefined();
  });
});

async function waitFor(pred: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
