/**
 * The crash model of the memory engines: a simulated power loss drops exactly the writes that
 * were not synced (or keeps an ordered prefix of them), never a synced one, and never half of a
 * batch; injected write faults change nothing.
 */
import { describe, expect, it } from 'vitest';
import { makeEntries } from '../contract/raft-log-contract.js';
import { EngineErrorCodes } from '../errors.js';
import { MAX_UNSYNCED_VERSIONS, MemoryDisk } from './memory-disk.js';
import { openMemoryKvEngine, openMemoryRaftLogEngine } from './open.js';

const b = (s: string): Buffer => Buffer.from(s);

describe('MemoryDisk crashes', () => {
  it('keep synced writes and drop unsynced ones', async () => {
    const disk = new MemoryDisk();
    const kv = openMemoryKvEngine(disk);
    await kv.write(kv.newWriteBatch().put(b('za'), b('1')), { sync: true });
    await kv.write(kv.newWriteBatch().put(b('zb'), b('2')).delete(b('za')));
    expect(disk.pendingUnsynced).toBe(1);
    expect(await kv.get(b('zb'))).toBeDefined(); // visible before the crash
    disk.crash();
    await expect(kv.get(b('za'))).rejects.toMatchObject({ code: EngineErrorCodes.CLOSED });
    await expect(kv.write(kv.newWriteBatch().put(b('zc'), b('3')))).rejects.toMatchObject({ code: EngineErrorCodes.CLOSED });
    const again = openMemoryKvEngine(disk);
    expect(Buffer.from((await again.get(b('za')))!).toString()).toBe('1');
    expect(await again.get(b('zb'))).toBeUndefined();
    expect(disk.crashes).toBe(1);
  });

  it('make earlier unsynced writes durable with a later sync', async () => {
    const disk = new MemoryDisk();
    const kv = openMemoryKvEngine(disk);
    await kv.write(kv.newWriteBatch().put(b('za'), b('1')));
    await kv.write(kv.newWriteBatch().put(b('zb'), b('2')), { sync: true });
    await kv.write(kv.newWriteBatch().put(b('zc'), b('3')));
    await kv.sync();
    disk.crash();
    const again = openMemoryKvEngine(disk);
    expect((await again.scan({})).length).toBe(3);
  });

  it('can keep an ordered prefix of the unsynced writes, each batch whole', async () => {
    for (let keep = 0; keep <= 5; keep++) {
      const disk = new MemoryDisk();
      const kv = openMemoryKvEngine(disk);
      for (let i = 1; i <= 5; i++) await kv.write(kv.newWriteBatch().put(b(`za${i}`), b('x')).put(b(`zb${i}`), b('y')));
      disk.crash({ keepUnsynced: keep });
      const again = openMemoryKvEngine(disk);
      const keys = (await again.scan({})).map((p) => Buffer.from(p.key).toString());
      expect(keys.length).toBe(2 * keep);
      for (let i = 1; i <= keep; i++) expect(keys).toContain(`zb${i}`);
    }
  });

  it('keeps the durable state when asked for an unsynced state older than it retains', async () => {
    const disk = new MemoryDisk();
    const kv = openMemoryKvEngine(disk);
    await kv.write(kv.newWriteBatch().put(b('z0'), b('synced')), { sync: true });
    for (let i = 0; i < MAX_UNSYNCED_VERSIONS + 10; i++) await kv.write(kv.newWriteBatch().put(b(`zk${String(i).padStart(3, '0')}`), b('x')));
    disk.crash({ keepUnsynced: 3 });
    const again = openMemoryKvEngine(disk);
    expect((await again.scan({})).map((p) => Buffer.from(p.key).toString())).toEqual(['z0']);
  });

  it('refuses a second engine on a disk, and a disk of another kind', async () => {
    const disk = new MemoryDisk();
    const kv = openMemoryKvEngine(disk);
    expect(() => openMemoryKvEngine(disk)).toThrow(expect.objectContaining({ code: EngineErrorCodes.LOCKED }) as Error);
    await kv.close();
    await expect(openMemoryRaftLogEngine(disk)).rejects.toMatchObject({ code: EngineErrorCodes.KIND_MISMATCH });
    openMemoryKvEngine(disk);
  });

  it('fails writes with injected faults without applying any of them', async () => {
    const disk = new MemoryDisk();
    const kv = openMemoryKvEngine(disk);
    disk.failNextWrites(2);
    await expect(kv.write(kv.newWriteBatch().put(b('za'), b('1')))).rejects.toMatchObject({ code: EngineErrorCodes.NO_SPACE });
    await expect(kv.write(kv.newWriteBatch().put(b('zb'), b('1')), { sync: true })).rejects.toMatchObject({ code: EngineErrorCodes.NO_SPACE });
    await kv.write(kv.newWriteBatch().put(b('zc'), b('1')));
    expect((await kv.scan({})).map((p) => Buffer.from(p.key).toString())).toEqual(['zc']);
    const seen: boolean[] = [];
    disk.setWriteFault((info) => {
      seen.push(info.sync);
      return undefined;
    });
    await kv.write(kv.newWriteBatch().put(b('zd'), b('1')), { sync: true });
    expect(seen).toEqual([true]);
  });
});

describe('memory raft-log engine across crashes', () => {
  it('recovers exactly the synced appends', async () => {
    const disk = new MemoryDisk();
    let engine = await openMemoryRaftLogEngine(disk);
    await engine.write(engine.newBatch().append(1, makeEntries(1, 5, 1)).setHardState(1, { term: 1, vote: 1, commit: 5 }), { sync: true });
    await engine.write(engine.newBatch().append(1, makeEntries(6, 8, 2)).append(2, makeEntries(1, 1, 1)));
    expect(engine.state(1)).toMatchObject({ lastIndex: 8 });
    disk.crash();
    engine = await openMemoryRaftLogEngine(disk);
    expect(engine.regionIds()).toEqual([1]);
    expect(engine.state(1)).toEqual({ regionId: 1, hardState: { term: 1, vote: 1, commit: 5 }, firstIndex: 1, lastIndex: 5, lastTerm: 1 });
    expect(engine.recovery.torn).toEqual([]);
    expect((await engine.entries(1, 1, 6)).length).toBe(5);
  });

  it('recovers each unsynced batch whole or not at all', async () => {
    for (let keep = 0; keep <= 4; keep++) {
      const disk = new MemoryDisk();
      let engine = await openMemoryRaftLogEngine(disk);
      for (let i = 1; i <= 4; i++) {
        const batch = engine.newBatch();
        for (let r = 1; r <= 3; r++) batch.append(r, makeEntries(i, i, 1)).setHardState(r, { term: 1, vote: 0, commit: i });
        await engine.write(batch);
      }
      disk.crash({ keepUnsynced: keep });
      engine = await openMemoryRaftLogEngine(disk);
      for (let r = 1; r <= 3; r++) {
        if (keep === 0) expect(engine.state(r)).toBeUndefined();
        else expect(engine.state(r)).toMatchObject({ lastIndex: keep, hardState: { commit: keep } });
      }
      await engine.close();
    }
  });

  it('does not install the state of a failed write', async () => {
    const disk = new MemoryDisk();
    const engine = await openMemoryRaftLogEngine(disk);
    await engine.write(engine.newBatch().append(1, makeEntries(1, 3, 1)), { sync: true });
    disk.failNextWrites(1);
    await expect(engine.write(engine.newBatch().append(1, makeEntries(4, 6, 1)), { sync: true })).rejects.toMatchObject({ code: EngineErrorCodes.NO_SPACE });
    expect(engine.state(1)).toMatchObject({ lastIndex: 3 });
    expect(() => engine.term(1, 4)).toThrow(expect.objectContaining({ code: EngineErrorCodes.ENTRIES_UNAVAILABLE }) as Error);
    await engine.write(engine.newBatch().append(1, makeEntries(4, 4, 2)), { sync: true });
    expect(engine.state(1)).toMatchObject({ lastIndex: 4, lastTerm: 2 });
  });
});
