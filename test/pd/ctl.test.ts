/**
 * mrkv-ctl end to end: a real mrkv-pd process, four stores simulated by a gRPC client
 * (PutStore / StoreHeartbeat / RegionHeartbeat), and ctl run in process (plus once as its own
 * process) checking tables, JSON, exit codes, and that operators added by ctl reach the leader's
 * heartbeat stream.
 */
import { spawnSync } from 'node:child_process';
import { runCtl } from '@mrkv/ctl';
import type { pdpb } from '@mrkv/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../harness/ports.js';
import { REPO_ROOT } from '../harness/store.js';
import { PdProcess } from './pd-process.js';
import { eventually, SimCluster, unary, waitFor } from './sim-store.js';

async function ctl(pd: PdProcess, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCtl(['--pd', pd.addr, ...args], { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

async function ctlJson<T>(pd: PdProcess, ...args: string[]): Promise<T> {
  const r = await ctl(pd, '--json', ...args);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.out) as T;
}

type Region = NonNullable<pdpb.GetRegionResponse['region']>;
type RegionJson = { id: number; startKey: string; leader: { storeId: number } | null; peers: Array<{ id: number; storeId: number; role: string }> };

describe('mrkv-ctl against mrkv-pd', () => {
  let pd: PdProcess;
  let sim: SimCluster;
  const regions: Region[] = [];

  beforeAll(async () => {
    pd = await PdProcess.start();
    for (const name of ['replica-checker', 'merge-checker', 'balance-leader-scheduler', 'balance-region-scheduler', 'balance-hot-region-scheduler']) {
      expect((await ctl(pd, 'scheduler', 'remove', name)).code).toBe(0);
    }
    sim = new SimCluster(pd.addr);
    await sim.connect();
    const first = await sim.bootstrap(1);
    for (const id of [2, 3, 4]) await sim.putStore(id);
    for (const id of [1, 2, 3, 4]) await sim.storeHeartbeat(id);
    // three regions ['', 'g'), ['g', 'p'), ['p', '') with voters on stores 1, 2, 3 and leaders on 1, 2, 3
    const split = await unary<pdpb.AskBatchSplitResponse__Output>(sim.client, 'AskBatchSplit', { header: sim.header, region: first, splitCount: 2 });
    const bounds: Array<[string, string]> = [['', 'g'], ['g', 'p'], ['p', '']];
    const regionIds = [Number(split.ids[0]!.newRegionId), Number(split.ids[1]!.newRegionId), Number(first!.id)];
    for (let i = 0; i < 3; i++) {
      const peers = await Promise.all([1, 2, 3].map(async (storeId) => ({ id: await sim.allocId(), storeId, role: 'Voter' as const })));
      regions.push({ id: regionIds[i], startKey: Buffer.from(bounds[i]![0]), endKey: Buffer.from(bounds[i]![1]), regionEpoch: { confVer: 3, version: 3 }, peers });
    }
    for (let i = 0; i < 3; i++) sim.regionHeartbeat(regions[i]!, regions[i]!.peers![i]!, { approximateSize: (i + 1) << 20, approximateKeys: 100 });
    await eventually(() => ctlJson<{ regions: RegionJson[] }>(pd, 'region', 'list'), (r) => r.regions.filter((x) => x.leader !== null && x.peers.length === 3).length === 3, 10_000, 'regions reported');
  });
  afterAll(() => {
    sim?.close();
    pd?.cleanup();
  });

  it('lists and shows stores as a table and as JSON', async () => {
    const t = await ctl(pd, 'store', 'list');
    expect(t.code).toBe(0);
    expect(t.out).toMatch(/ID\s+│\s+ADDRESS\s+│\s+STATUS/);
    for (const id of [1, 2, 3, 4]) expect(t.out).toMatch(new RegExp(`│ ${id}\\s+│ 127\\.0\\.0\\.1:3000${id}\\s+│ Up`));
    const j = await ctlJson<Array<{ id: number; status: string; regionCount: number; leaderCount: number }>>(pd, 'store', 'list');
    expect(j.map((s) => [s.id, s.status, s.regionCount, s.leaderCount])).toEqual([[1, 'Up', 3, 1], [2, 'Up', 3, 1], [3, 'Up', 3, 1], [4, 'Up', 0, 0]]);
    const one = await ctlJson<{ id: number; address: string }>(pd, 'store', 'show', '2');
    expect(one).toMatchObject({ id: 2, address: '127.0.0.1:30002' });
    const missing = await ctl(pd, 'store', 'show', '99');
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('PD:core:ErrStoreNotFound');
  });

  it('finds regions by key as text, hex and base64, and lists them', async () => {
    const byText = await ctlJson<RegionJson>(pd, 'region', 'key', 'hello');
    const byHex = await ctlJson<RegionJson>(pd, 'region', 'key', `0x${Buffer.from('hello').toString('hex')}`);
    const byB64 = await ctlJson<RegionJson>(pd, 'region', 'key', `b64:${Buffer.from('hello').toString('base64')}`);
    expect(byText.id).toBe(regions[1]!.id);
    expect(byHex.id).toBe(byText.id);
    expect(byB64.id).toBe(byText.id);
    expect(byText.startKey).toBe('g');
    const table = await ctl(pd, 'region', 'list');
    expect(table.out).toMatch(/│ -inf\s+│ g\s+│/);
    expect(table.out).toContain('3 of 3 region(s)');
    const show = await ctl(pd, 'region', 'show', String(regions[2]!.id));
    expect(show.out).toMatch(/│ start key\s+│ p\s+│/);
    expect(show.out).toMatch(/│ end key\s+│ \+inf\s+│/);
    const bad = await ctl(pd, 'region', 'key', '0xZZ');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('bad hex key');
    const check = await ctlJson<{ regions: RegionJson[] }>(pd, 'region', 'check', 'miss-peer');
    expect(check.regions).toHaveLength(0);
    expect((await ctl(pd, 'region', 'check', 'sideways')).code).toBe(2);
  });

  it('adds a transfer-leader operator that reaches the leader\'s heartbeat stream; lists and cancels it', async () => {
    const r = regions[0]!; // leader on store 1
    const added = await ctl(pd, 'operator', 'add', 'transfer-leader', String(r.id), '2');
    expect(added.code).toBe(0);
    expect(added.out).toContain(`transfer leader of region ${r.id} from store 1 to store 2`);
    await waitFor(() => sim.commands(1).some((c) => c.transferLeader != null), 10_000, 'transfer_leader on store 1\'s stream');
    const cmd = sim.commands(1).find((c) => c.transferLeader != null)!;
    expect(cmd.regionId).toBe(String(r.id));
    expect(cmd.transferLeader!.peer).toMatchObject({ storeId: '2', id: String(r.peers![1]!.id) });
    const list = await ctlJson<Array<{ regionId: number; status: string; kind: string }>>(pd, 'operator', 'list');
    expect(list).toEqual([expect.objectContaining({ regionId: r.id, status: 'running', kind: 'admin' })]);
    const cancelled = await ctl(pd, 'operator', 'cancel', String(r.id));
    expect(cancelled.code).toBe(0);
    expect(await ctlJson<unknown[]>(pd, 'operator', 'list')).toEqual([]);
    const hist = await ctlJson<Array<{ status: string }>>(pd, 'operator', 'list', '--history');
    expect(hist[0]!.status).toBe('cancelled');
    expect((await ctl(pd, 'operator', 'cancel', String(r.id))).code).toBe(1);
  });

  it('adds and removes peers through operators, step by step as heartbeats report progress', async () => {
    const r = regions[1]!; // leader on store 2
    const added = await ctlJson<{ steps: string[] }>(pd, 'operator', 'add', 'add-peer', String(r.id), '4');
    expect(added.steps).toHaveLength(2);
    await waitFor(() => sim.commands(2).some((c) => c.changePeer?.changeType === 'AddLearnerNode'), 10_000, 'add learner');
    const learner = sim.commands(2).find((c) => c.changePeer?.changeType === 'AddLearnerNode')!.changePeer!.peer!;
    expect(learner).toMatchObject({ storeId: '4', role: 'Learner' });
    // the store applied it: report the learner; PD moves on to promoting it
    const withLearner = { ...r, regionEpoch: { confVer: 4, version: 3 }, peers: [...r.peers!, learner] };
    sim.regionHeartbeat(withLearner, r.peers![1]!);
    await waitFor(() => sim.commands(2).some((c) => c.changePeer?.changeType === 'AddNode'), 10_000, 'promote learner');
    const promoted = { ...withLearner, regionEpoch: { confVer: 5, version: 3 }, peers: [...r.peers!, { ...learner, role: 'Voter' as const }] };
    sim.regionHeartbeat(promoted, r.peers![1]!);
    await eventually(() => ctlJson<Array<{ status: string }>>(pd, 'operator', 'list', '--history', '--region', String(r.id)), (l) => l[0]?.status === 'success', 10_000, 'operator success');
    const after = await ctlJson<RegionJson>(pd, 'region', 'show', String(r.id));
    expect(after.peers.map((p) => p.storeId).sort()).toEqual([1, 2, 3, 4]);
    expect((await ctlJson<{ regions: RegionJson[] }>(pd, 'region', 'check', 'extra-peer')).regions.map((x) => x.id)).toEqual([r.id]);

    // remove the leader's own peer: the leader moves first
    const rm = await ctlJson<{ steps: string[] }>(pd, 'operator', 'add', 'remove-peer', String(r.id), '2');
    expect(rm.steps[0]).toMatch(/^transfer leader from store 2 to store \d/);
    expect(rm.steps[1]).toMatch(/^remove peer \d+ on store 2$/);
    await waitFor(() => sim.commands(2).some((c) => c.transferLeader != null), 10_000, 'leader moved off store 2 first');
  });

  it('refuses impossible operators with exit code 1 and a reason', async () => {
    const r = regions[2]!;
    const noPeer = await ctl(pd, 'operator', 'add', 'transfer-leader', String(r.id), '4');
    expect(noPeer.code).toBe(1);
    expect(noPeer.err).toContain('has no peer on store 4');
    const badKey = await ctl(pd, 'operator', 'add', 'split', String(r.id), '--key', 'a');
    expect(badKey.code).toBe(1);
    expect(badKey.err).toContain('not strictly inside the region');
    const split = await ctlJson<{ desc: string }>(pd, 'operator', 'add', 'split', String(r.id), '--key', 'x');
    expect(split.desc).toContain('USEKEY');
    await waitFor(() => sim.commands(3).some((c) => c.splitRegion != null), 10_000, 'split on store 3\'s stream');
    expect(Buffer.from(sim.commands(3).find((c) => c.splitRegion != null)!.splitRegion!.keys[0]!).toString()).toBe('x');
    expect((await ctl(pd, 'operator', 'add', 'transfer-leader', 'one', '2')).code).toBe(2);
  });

  it('shows and sets config, switches schedulers, reports cluster status and TSO', async () => {
    const set = await ctl(pd, 'config', 'set', 'max-store-down-time', '45s');
    expect(set).toMatchObject({ code: 0, out: 'max-store-down-time = 45s\n' });
    const cfg = await ctlJson<Record<string, string>>(pd, 'config', 'show');
    expect(cfg['max-store-down-time']).toBe('45s');
    expect(cfg['max-replicas']).toBe('3');
    const bad = await ctl(pd, 'config', 'set', 'max-replicas', 'many');
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('invalid value "many" for max-replicas');
    expect((await ctl(pd, 'config', 'set', 'nope', '1')).err).toContain('unknown config key');

    expect((await ctl(pd, 'scheduler', 'add', 'balance-leader-scheduler')).out).toBe('balance-leader-scheduler is enabled\n');
    const list = await ctlJson<Array<{ name: string; enabled: boolean }>>(pd, 'scheduler', 'list');
    expect(list.find((s) => s.name === 'balance-leader-scheduler')?.enabled).toBe(true);
    expect(list.find((s) => s.name === 'replica-checker')?.enabled).toBe(false);
    await ctl(pd, 'scheduler', 'remove', 'balance-leader-scheduler');
    expect((await ctl(pd, 'scheduler', 'add', 'no-such')).code).toBe(1);

    const status = await ctlJson<{ bootstrapped: boolean; stores: Record<string, number>; regionCount: number }>(pd, 'cluster', 'status');
    expect(status.bootstrapped).toBe(true);
    expect(status.stores.Up).toBe(4);
    expect(status.regionCount).toBe(3);
    expect((await ctl(pd, 'cluster', 'status')).out).toMatch(/│ bootstrapped\s+│ yes/);

    const t1 = await ctlJson<{ timestamp: string; physical: number }>(pd, 'tso');
    const t2 = await ctlJson<{ timestamp: string }>(pd, 'tso');
    expect(BigInt(t2.timestamp) > BigInt(t1.timestamp)).toBe(true);
    expect(Math.abs(t1.physical - Date.now())).toBeLessThan(60_000);
    const decoded = await ctlJson<{ physical: number; logical: number }>(pd, 'tso', String((1_700_000_000_000n << 18n) | 5n));
    expect(decoded).toMatchObject({ physical: 1_700_000_000_000, logical: 5 });
  });

  it('exits 3 when PD cannot be reached, and works as its own process', async () => {
    const port = await freePort();
    let err = '';
    const code = await runCtl(['--pd', `127.0.0.1:${port}`, '--timeout', '1000', 'store', 'list'], { out: () => undefined, err: (s) => (err += s) });
    expect(code).toBe(3);
    expect(err).toContain(`cannot reach PD at 127.0.0.1:${port}`);
    const run = (args: string[]) => spawnSync(process.execPath, ['tools/run-ts.mjs', 'tools/ctl/src/main.ts', '--pd', pd.addr, ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 30_000 });
    const ok = run(['store', 'list']);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/│ 4\s+│ 127\.0\.0\.1:30004\s+│ Up/);
    const notFound = run(['region', 'show', '424242']);
    expect(notFound.status).toBe(1);
    expect(notFound.stderr).toContain('region 424242 not found');
  });
});
