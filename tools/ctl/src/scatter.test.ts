/**
 * `mrkv-ctl operator add scatter` against an in-process mrkv-pd (memory engine) holding four
 * regions on three of five stores: the table and JSON output, the range and id forms, usage
 * errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noopLogger } from '@mrkv/common';
import { openMemoryKvEngine } from '@mrkv/engine';
import { regionInfoFromMeta } from '@mrkv/pd';
import { newStore } from '@mrkv/proto';
import { loadPdConfig, runPd, type RunningPd } from '@mrkv/pd-server';
import { runCtl } from './commands.js';
import type { ScatterJson } from './format.js';

const engine = openMemoryKvEngine();
let pd: RunningPd;

async function ctl(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCtl(['--pd', pd.address, ...args], { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

const store = (id: number) => newStore(id, `127.0.0.1:${21000 + id}`, { version: '0.1.0' });

beforeAll(async () => {
  pd = await runPd(loadPdConfig({ flags: { 'client-urls': '127.0.0.1:0', 'status-addr': '127.0.0.1:0', 'tick-interval-ms': 50 } }), { logger: noopLogger, engine });
  const p = pd.pd;
  for (const n of p.coordinator.list()) await p.coordinator.setEnabled(n.name, false);
  const enc = (s: string) => new TextEncoder().encode(s);
  await p.ids.alloc(100);
  await p.cluster.bootstrap(store(1), { id: 2, startKey: enc(''), endKey: enc(''), regionEpoch: { version: 1, confVer: 1 }, peers: [{ id: 3, storeId: 1, role: 'Voter' }] });
  for (const id of [2, 3, 4, 5]) await p.cluster.putStore(store(id));
  const keys = ['', 'b', 'c', 'd', ''];
  for (let i = 0; i < 4; i++) {
    const peers = [1, 2, 3].map((storeId) => ({ id: 50 + i * 3 + storeId, storeId, role: 'Voter' as const }));
    await p.regionHeartbeat({ ...regionInfoFromMeta({ id: 10 + i, startKey: enc(keys[i]!), endKey: enc(keys[i + 1]!), regionEpoch: { version: 5, confVer: 1 }, peers }, peers[0]), term: 1 });
  }
}, 30_000);
afterAll(async () => {
  await pd?.stop();
  await engine.close();
});

describe('mrkv-ctl operator add scatter', () => {
  it('scatters listed regions and prints the operators and the skipped regions as tables', async () => {
    const r = await ctl('operator', 'add', 'scatter', '--region', '10', '--region', '11', '--region', '99', '--group', 'g1');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    // the group's first region stays where it is; the second moves
    expect(r.out).toMatch(/^scatter in group "g1": 1 operator\(s\) added, 2 region\(s\) skipped$/m);
    expect(r.out).toMatch(/│ 11 +│ scatter +│ scatter-region +│ running/);
    expect(r.out).toMatch(/│ REGION │ SKIPPED +│ REASON/);
    expect(r.out).toMatch(/│ 10 +│ in-place +│ already in place: stores \[1,2,3\], leader on store 1/);
    expect(r.out).toMatch(/│ 99 +│ not-found +│ region not found/);
  });

  it('scatters a key range, with --json for scripts', async () => {
    const r = await ctl('--json', 'operator', 'add', 'scatter', '--start', 'c');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as ScatterJson;
    expect(j.group).toBe('');
    expect([...j.operators.map((o) => o.regionId), ...j.skipped.map((s) => s.regionId)].sort()).toEqual([12, 13]);
    for (const o of j.operators) expect(o).toMatchObject({ kind: 'scatter', status: 'running' });
    // a region with an operator is skipped, not replaced
    const again = JSON.parse((await ctl('--json', 'operator', 'add', 'scatter', '--region', '11')).out) as ScatterJson;
    expect(again.operators).toEqual([]);
    expect(again.skipped).toEqual([{ regionId: 11, code: 'has-operator', reason: expect.stringMatching(/^already has an operator: scatter region 11/) }]);
  });

  it('refuses a range with ids and malformed flags (exit 2), and a reversed range at PD (exit 1)', async () => {
    const both = await ctl('operator', 'add', 'scatter', '--start', 'a', '--region', '10');
    expect(both.code).toBe(2);
    expect(both.err).toBe('mrkv-ctl: error: scatter takes --start/--end or --region, not both\n');
    expect((await ctl('operator', 'add', 'scatter', '--region', 'x')).code).toBe(2);
    const reversed = await ctl('operator', 'add', 'scatter', '--start', 'z', '--end', 'a');
    expect(reversed.code).toBe(1);
    expect(reversed.err).toBe('mrkv-ctl: error: scatter range: start key must be below end key [PD:core:ErrInvalidValue]\n');
  });
});
