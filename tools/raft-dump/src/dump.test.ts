/**
 * mrkv-raft-dump on a data directory written by the engines: entries, raft states, apply and
 * region states, filters, damaged records, and the CLI's output and exit codes.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RocksKvEngine, STORE_IDENT_KEY, applyStateKey, dataKey, openRocksKvEngine, openRocksRaftLogEngine, raftLogKey, regionStateKey, type RaftEntry } from '@mrkv/engine';
import { encodeRaftApplyState, encodeRegionLocalState, encodeStoreIdent } from '@mrkv/proto';
import { dumpDataDir, findEngineDirs, type DumpRecord } from './dump.js';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function entries(from: number, to: number, term: number, entryType = 0): RaftEntry[] {
  return Array.from({ length: to - from + 1 }, (_, i) => ({ index: from + i, term, entryType, data: Buffer.alloc(10 + i, 0xab) }));
}

async function writeDataDir(root: string): Promise<void> {
  mkdirSync(join(root, 'raft'), { recursive: true });
  const r0 = await openRocksRaftLogEngine({ path: join(root, 'raft', '0') });
  await r0.write(
    r0.newBatch()
      .append(1, [...entries(1, 3, 1), ...entries(4, 5, 2, 1)])
      .setHardState(1, { term: 2, vote: 1, commit: 4 })
      .reset(2, 5, 5)
      .append(2, entries(6, 9, 6))
      .setHardState(2, { term: 6, vote: 2, commit: 8 }),
    { sync: true },
  );
  await r0.write(r0.newBatch().compact(2, 8), { sync: true });
  await r0.close();
  const r1 = await openRocksRaftLogEngine({ path: join(root, 'raft', '1') });
  await r1.write(r1.newBatch().append(3, entries(1, 1, 1)).setHardState(3, { term: 1, vote: 3, commit: 1 }), { sync: true });
  await r1.close();
  const kv = await openRocksKvEngine({ path: join(root, 'kv') });
  const region = { id: 1, startKey: Buffer.alloc(0), endKey: Buffer.from('m'), regionEpoch: { confVer: 1, version: 2 }, peers: [{ id: 11, storeId: 1 }] };
  await kv.write(
    kv.newWriteBatch()
      .put(STORE_IDENT_KEY, encodeStoreIdent({ clusterId: 42, storeId: 1 }))
      .put(applyStateKey(1), encodeRaftApplyState({ appliedIndex: 4, commitIndex: 4, commitTerm: 2, truncatedState: { index: 0, term: 0 } }))
      .put(regionStateKey(1), encodeRegionLocalState({ state: 'Normal', region }))
      .put(applyStateKey(2), Uint8Array.of(0xff, 0xff, 0xff, 0xff))
      .put(dataKey(Buffer.from('user-key')), Buffer.from('v')),
    { sync: true },
  );
  await kv.close();
}

function runCli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--conditions=@mrkv/source', '--import', 'tsx', MAIN, ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('mrkv-raft-dump', () => {
  let root: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'mrkv-raft-dump-'));
    await writeDataDir(root);
  });
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('finds the engines of a store data dir, raft workers first', () => {
    expect(findEngineDirs(root)).toEqual([join(root, 'raft', '0'), join(root, 'raft', '1'), join(root, 'kv')]);
    expect(findEngineDirs(join(root, 'kv'))).toEqual([join(root, 'kv')]);
    expect(() => findEngineDirs(join(root, 'nope'))).toThrow(/not a directory/);
    expect(() => findEngineDirs(join(root, 'raft'))).toThrow(/no mrkv engine directory/);
  });

  it('dumps entries, raft states, the store ident, apply and region states', async () => {
    const recs: DumpRecord[] = [];
    const summary = await dumpDataDir(root, {}, (r) => recs.push(r));
    expect(summary).toEqual({ entries: 5 + 2 + 1, regions: 3, badRecords: 1 });
    expect(recs.filter((r) => r.kind === 'engine').map((r) => r.kind === 'engine' && r.engine)).toEqual(['raft', 'raft', 'kv']);
    const e1 = recs.filter((r) => r.kind === 'entry' && r.regionId === 1);
    expect(e1.map((r) => r.kind === 'entry' && [r.index, r.term, r.type, r.size, r.crc])).toEqual([
      [1, 1, 'EntryNormal', 10, true],
      [2, 1, 'EntryNormal', 11, true],
      [3, 1, 'EntryNormal', 12, true],
      [4, 2, 'EntryConfChange', 10, true],
      [5, 2, 'EntryConfChange', 11, true],
    ]);
    expect(recs.find((r) => r.kind === 'raftState' && r.regionId === 2)).toEqual({
      kind: 'raftState',
      regionId: 2,
      hardState: { term: 6, vote: 2, commit: 8 },
      firstIndex: 8,
      lastIndex: 9,
      termRuns: [[6, 6]],
      crc: true,
    });
    expect(recs.find((r) => r.kind === 'storeIdent')).toMatchObject({ state: { clusterId: '42', storeId: '1' } });
    expect(recs.find((r) => r.kind === 'applyState' && r.regionId === 1)).toMatchObject({ state: { appliedIndex: '4', commitTerm: '2' } });
    expect(recs.find((r) => r.kind === 'regionState')).toMatchObject({ regionId: 1, state: { state: 'Normal', region: { id: '1', regionEpoch: { version: '2' } } } });
    expect(recs.find((r) => r.kind === 'applyState' && r.regionId === 2)).toMatchObject({ error: expect.stringContaining('cannot decode') as string, hex: 'ffffffff' });
  });

  it('filters by region and first index', async () => {
    const recs: DumpRecord[] = [];
    await dumpDataDir(root, { region: 1, from: 4 }, (r) => recs.push(r));
    const kinds = recs.map((r) => (r.kind === 'entry' ? `entry ${r.regionId}/${r.index}` : r.kind === 'engine' ? 'engine' : `${r.kind} ${String('regionId' in r ? r.regionId : '')}`));
    expect(kinds).toEqual(['engine', 'entry 1/4', 'entry 1/5', 'raftState 1', 'engine', 'engine', 'applyState 1', 'regionState 1']);
  });

  it('prints text and JSON lines from the command line, with exit codes', () => {
    const text = runCli([root, '--region', '2']);
    expect(text.stderr).toBe('');
    expect(text.status).toBe(3); // region 2's apply state does not decode
    expect(text.stdout).toMatch(/^2\s+8\s+6\s+EntryNormal\s+12\s+ok$/m);
    expect(text.stdout).toContain('region 2 raft state: term=6 vote=2 commit=8, log [8, 9], term runs 6@6');
    expect(text.stdout).toContain('region 2 apply state: cannot decode');
    const json = runCli([root, '--json', '--region', '1', '--from', '5', '--data']);
    expect(json.status).toBe(0);
    const lines = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l.kind === 'entry')).toEqual({ kind: 'entry', regionId: 1, index: 5, term: 2, type: 'EntryConfChange', size: 11, crc: true, data: 'ab'.repeat(11) });
    expect(lines.find((l) => l.kind === 'regionState')).toMatchObject({ state: { region: { endKey: '6d' } } });
    expect(lines[lines.length - 1]).toEqual({ kind: 'summary', entries: 1, regions: 1, badRecords: 0 });
    const bad = runCli([root, '--region', 'x']);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('--region must be a positive integer');
    const missing = runCli([join(root, 'missing')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('is not a directory');
  }, 60_000);

  it('prints damaged records as BAD and exits 3, instead of refusing the directory', async () => {
    const kv = await RocksKvEngine.openKind({ path: join(root, 'raft', '0') }, 'raft');
    const v = Buffer.from((await kv.get(raftLogKey(1, 2)))!);
    v[35] = v[35]! ^ 0x10;
    await kv.write(kv.newWriteBatch().put(raftLogKey(1, 2), v), { sync: true });
    await kv.close();
    const recs: DumpRecord[] = [];
    const summary = await dumpDataDir(join(root, 'raft', '0'), { region: 1 }, (r) => recs.push(r));
    expect(summary.badRecords).toBe(1);
    expect(recs.find((r) => r.kind === 'entry' && r.index === 2)).toMatchObject({ crc: false, error: expect.stringContaining('checksum mismatch') as string });
    const out = runCli([join(root, 'raft', '0'), '--region', '1']);
    expect(out.status).toBe(3);
    expect(out.stdout).toMatch(/^1\s+2\s+\?\s+\?\s+\d+\s+BAD: checksum mismatch/m);
  }, 30_000);

  it('refuses a directory held by a running engine', async () => {
    const kv = await openRocksKvEngine({ path: join(root, 'kv') });
    try {
      await expect(dumpDataDir(join(root, 'kv'), {}, () => undefined)).rejects.toMatchObject({ code: 'KV:Engine:DataDirLocked' });
    } finally {
      await kv.close();
    }
  });
});
