/**
 * A cluster of simulated regions driven through PD the way stores would: every region heartbeats,
 * the command PD answers is applied (sim-store.ts), the coordinator ticks, the clock moves on,
 * until nothing is left to do. Shared by the scheduling tests.
 */
import type { Peer } from '@mrkv/proto';
import { MERGE_CHECKER } from '../schedule/checkers/merge-checker.js';
import { REPLICA_CHECKER } from '../schedule/checkers/replica-checker.js';
import { BALANCE_LEADER } from '../schedule/schedulers/balance-leader.js';
import { BALANCE_REGION } from '../schedule/schedulers/balance-region.js';
import { HOT_REGION } from '../schedule/schedulers/hot-region.js';
import type { Env } from './cluster-env.js';
import { info, peer, region } from './fixtures.js';
import { applyCommand, type SimRegion } from './sim-store.js';

/** Every checker and scheduler. */
export const ALL = [REPLICA_CHECKER, MERGE_CHECKER, BALANCE_LEADER, BALANCE_REGION, HOT_REGION];

/** Regions 1..n over the key space, version 2, peers on `stores` (leader on leaderOf(i)). */
export function layout(n: number, stores: number[], leaderOf: (i: number) => number = () => stores[0]!): SimRegion[] {
  const out: SimRegion[] = [];
  for (let i = 1; i <= n; i++) {
    const start = i === 1 ? '' : `k${String(i).padStart(3, '0')}`;
    const end = i === n ? '' : `k${String(i + 1).padStart(3, '0')}`;
    const peers: Peer[] = stores.map((s) => peer(i * 100 + s, s));
    const meta = region(i, start, end, peers, 2, 1);
    out.push({ meta, leader: peers.find((p) => p.storeId === leaderOf(i))! });
  }
  return out;
}

/** Enables exactly `names`. */
export async function only(env: Env, names: string[]): Promise<void> {
  for (const n of ALL) await env.pd.coordinator.setEnabled(n, names.includes(n));
}

/** Every region whose leader is alive heartbeats once; commands PD answers are applied. True if any came. */
export async function report(env: Env, sims: SimRegion[], alive: number[], extra: (s: SimRegion) => object = () => ({})): Promise<boolean> {
  let busy = false;
  for (const s of sims) {
    if (!alive.includes(s.leader.storeId) || s.meta.peers.length === 0) continue;
    const { command } = await env.pd.regionHeartbeat({ ...info(s.meta), leader: s.leader, term: 1, ...extra(s) });
    if (command !== undefined) {
      applyCommand(s, command);
      busy = true;
    }
  }
  return busy;
}

/** Heartbeat/tick/apply rounds until no operator runs and nothing was sent for two rounds. */
export async function settle(env: Env, sims: SimRegion[], alive: number[], rounds = 80, extra?: (s: SimRegion) => object): Promise<number> {
  let quiet = 0;
  for (let i = 0; i < rounds; i++) {
    env.beatStores(alive);
    await report(env, sims, alive, extra);
    await env.pd.coordinator.tick();
    const busy = await report(env, sims, alive, extra);
    env.clock.advance(1000);
    quiet = !busy && env.pd.operators.list().length === 0 ? quiet + 1 : 0;
    if (quiet >= 2) return i;
  }
  throw new Error(`did not settle in ${rounds} rounds; running: ${env.pd.operators.list().map((o) => o.toString()).join('; ')}`);
}

/** The stores of a region's peers, ascending. */
export const storesOf = (s: SimRegion) => s.meta.peers.map((p) => p.storeId).sort((a, b) => a - b);
/** Leaders per store of `stores`. */
export const leaderCounts = (sims: SimRegion[], stores: number[]) => stores.map((id) => sims.filter((s) => s.leader.storeId === id).length);
