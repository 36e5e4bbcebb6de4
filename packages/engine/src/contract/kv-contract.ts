/**
 * The `KvEngine` conformance suite (STYLE.md §7: one contract over `memory` and `rocks`). Call
 * `kvEngineContract(name, open)` inside a test file; it registers a `describe` block whose tests
 * each get a fresh fixture. Every test checks behaviour the traits promise in their doc comments.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EngineErrorCodes } from '../errors.js';
import type { KvEngine, KvPair } from '../traits/index.js';
import type { EngineFixture, OpenFixture } from './fixture.js';

const b = (s: string): Buffer => Buffer.from(s);
const str = (u: Uint8Array | undefined): string | undefined => (u === undefined ? undefined : Buffer.from(u).toString());
const keysOf = (pairs: readonly KvPair[]): string[] => pairs.map((p) => Buffer.from(p.key).toString());
const pairsOf = (pairs: readonly KvPair[]): Array<[string, string]> => pairs.map((p) => [Buffer.from(p.key).toString(), Buffer.from(p.value).toString()]);
const pad = (n: number): string => String(n).padStart(5, '0');

/** Writes `z00000 … z<n-1>` with values `v<i>`, synced. */
async function fill(e: KvEngine, n: number, prefix = 'z'): Promise<void> {
  const wb = e.newWriteBatch();
  for (let i = 0; i < n; i++) wb.put(b(prefix + pad(i)), b('v' + i));
  await e.write(wb, { sync: true });
}

async function put(e: KvEngine, ...kvs: Array<[string, string]>): Promise<void> {
  const wb = e.newWriteBatch();
  for (const [k, v] of kvs) wb.put(b(k), b(v));
  await e.write(wb);
}

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

/** Registers the kv-engine conformance tests for the engine `open` creates. */
export function kvEngineContract(name: string, open: OpenFixture<KvEngine>): void {
  describe(`KvEngine contract: ${name}`, () => {
    let fx: EngineFixture<KvEngine>;
    let e: KvEngine;
    beforeEach(async () => {
      fx = await open();
      e = fx.engine;
    });
    afterEach(async () => {
      await fx.destroy();
    });

    describe('point reads', () => {
      it('gets what was put, undefined for absent keys, and sees deletes', async () => {
        await put(e, ['za', '1'], ['zb', '2']);
        expect(str(await e.get(b('za')))).toBe('1');
        expect(await e.get(b('zc'))).toBeUndefined();
        await e.write(e.newWriteBatch().delete(b('za')).put(b('zb'), b('22')));
        expect(await e.get(b('za'))).toBeUndefined();
        expect(str(await e.get(b('zb')))).toBe('22');
      });

      it('stores empty values and binary keys', async () => {
        const k = Uint8Array.of(0x01, 0x00, 0xfe, 0x00);
        await e.write(e.newWriteBatch().put(k, new Uint8Array(0)));
        const v = await e.get(k);
        expect(v).toBeDefined();
        expect(v!.length).toBe(0);
      });

      it('multiGet answers positionally at one point in time', async () => {
        await put(e, ['za', '1'], ['zc', '3']);
        const vs = await e.multiGet([b('zc'), b('zb'), b('za'), b('zc')]);
        expect(vs.map(str)).toEqual(['3', undefined, '1', '3']);
        expect(await e.multiGet([])).toEqual([]);
      });

      it('refuses empty keys and non-byte keys with InvalidArgument', async () => {
        await expect(e.get(new Uint8Array(0))).rejects.toMatchObject({ code: EngineErrorCodes.INVALID_ARGUMENT });
        await expect(e.get('za' as unknown as Uint8Array)).rejects.toMatchObject({ code: EngineErrorCodes.INVALID_ARGUMENT });
        await expect(e.multiGet([b('za'), new Uint8Array(0)])).rejects.toMatchObject({ code: EngineErrorCodes.INVALID_ARGUMENT });
      });
    });

    describe('scans', () => {
      beforeEach(async () => {
        await put(e, ['a', 'x'], ['za', '1'], ['zb', '2'], ['zc', '3'], ['zd', '4'], ['{', 'y']);
      });

      it('scans forward within [start, end)', async () => {
        expect(pairsOf(await e.scan({ start: b('zb'), end: b('zd') }))).toEqual([
          ['zb', '2'],
          ['zc', '3'],
        ]);
        expect(keysOf(await e.scan({ start: b('z'), end: b('z\xff') }))).toEqual(['za', 'zb', 'zc', 'zd']);
      });

      it('scans backward from the largest key below end', async () => {
        expect(keysOf(await e.scan({ start: b('zb'), end: b('zd'), reverse: true }))).toEqual(['zc', 'zb']);
        expect(keysOf(await e.scan({ start: b('za'), end: b('zc'), reverse: true, limit: 1 }))).toEqual(['zb']);
      });

      it('treats absent and empty bounds as open', async () => {
        expect(keysOf(await e.scan({}))).toEqual(['a', 'za', 'zb', 'zc', 'zd', '{']);
        expect(keysOf(await e.scan({ start: new Uint8Array(0), end: new Uint8Array(0), reverse: true }))).toEqual(['{', 'zd', 'zc', 'zb', 'za', 'a']);
        expect(keysOf(await e.scan({ start: b('zc') }))).toEqual(['zc', 'zd', '{']);
        expect(keysOf(await e.scan({ end: b('zb'), reverse: true }))).toEqual(['za', 'a']);
      });

      it('honours limits, including 0, in both directions', async () => {
        expect(keysOf(await e.scan({ start: b('z'), limit: 2 }))).toEqual(['za', 'zb']);
        expect(keysOf(await e.scan({ end: b('{'), limit: 3, reverse: true }))).toEqual(['zd', 'zc', 'zb']);
        expect(await e.scan({ limit: 0 })).toEqual([]);
      });

      it('returns keys with empty values when keysOnly', async () => {
        const r = await e.scan({ start: b('za'), end: b('zc'), keysOnly: true });
        expect(keysOf(r)).toEqual(['za', 'zb']);
        expect(r.every((p) => p.value.length === 0)).toBe(true);
      });

      it('returns nothing for an empty range and refuses an inverted one', async () => {
        expect(await e.scan({ start: b('zb'), end: b('zb') })).toEqual([]);
        expect(await e.scan({ start: b('zz'), end: b('zzz') })).toEqual([]);
        await expect(e.scan({ start: b('zc'), end: b('zb') })).rejects.toMatchObject({ code: EngineErrorCodes.INVALID_ARGUMENT });
        await expect(e.scan({ limit: -1 })).rejects.toMatchObject({ code: EngineErrorCodes.INVALID_ARGUMENT });
        await expect(e.scan({ limit: 1.5 })).rejects.toMatchObject({ code: EngineErrorCodes.INVALID_ARGUMENT });
      });
    });

    describe('iterators', () => {
      it('walks a long range in chunks, in order, both ways', async () => {
        await fill(e, 2500);
        const fwd: string[] = [];
        for await (const p of e.iterator({ start: b('z'), end: b('z\xff') })) fwd.push(Buffer.from(p.key).toString());
        expect(fwd.length).toBe(2500);
        expect(fwd[0]).toBe('z00000');
        expect(fwd[2499]).toBe('z02499');
        expect([...fwd].sort()).toEqual(fwd);
        const rev = e.iterator({ start: b('z00100'), end: b('z02000'), reverse: true });
        const got: string[] = [];
        let chunks = 0;
        for (let c = await rev.nextChunk(); c.length > 0; c = await rev.nextChunk()) {
          chunks++;
          for (const p of c) got.push(Buffer.from(p.key).toString());
        }
        expect(chunks).toBeGreaterThan(1);
        expect(got.length).toBe(1900);
        expect(got[0]).toBe('z01999');
        expect(got[1899]).toBe('z00100');
        expect(await rev.next()).toBeUndefined();
      });

      it('mixes next and nextChunk, honours limit and keysOnly', async () => {
        await fill(e, 1200);
        const it1 = e.iterator({ start: b('z'), limit: 1100, keysOnly: true });
        const first = await it1.next();
        expect(str(first!.key)).toBe('z00000');
        expect(first!.value.length).toBe(0);
        let n = 1;
        for (let c = await it1.nextChunk(); c.length > 0; c = await it1.nextChunk()) n += c.length;
        expect(n).toBe(1100);
        expect(await it1.nextChunk()).toEqual([]);
      });

      it('reads at the moment it was created', async () => {
        await fill(e, 10);
        const it1 = e.iterator({ start: b('z') });
        await e.write(e.newWriteBatch().delete(b('z00003')).put(b('z00004'), b('new')).put(b('z00005x'), b('added')));
        const seen = new Map<string, string>();
        for await (const p of it1) seen.set(Buffer.from(p.key).toString(), Buffer.from(p.value).toString());
        expect(seen.size).toBe(10);
        expect(seen.get('z00003')).toBe('v3');
        expect(seen.get('z00004')).toBe('v4');
      });

      it('can be closed early, idempotently', async () => {
        await fill(e, 100);
        const it1 = e.iterator({});
        expect(await it1.next()).toBeDefined();
        await it1.close();
        await it1.close();
        expect(await it1.next()).toBeUndefined();
        const it2 = e.iterator({});
        for await (const p of it2) {
          expect(str(p.key)).toBe('z00000');
          break;
        }
        expect(await it2.next()).toBeUndefined();
      });
    });

    describe('snapshots', () => {
      it('keep the view of the moment they were taken', async () => {
        await fill(e, 50);
        const snap = await e.snapshot();
        const wb = e.newWriteBatch().deleteRange(b('z00010'), b('z00020')).put(b('z00001'), b('changed')).put(b('z00100'), b('late'));
        await e.write(wb, { sync: true });
        expect(str(await snap.get(b('z00001')))).toBe('v1');
        expect(str(await snap.get(b('z00015')))).toBe('v15');
        expect(await snap.get(b('z00100'))).toBeUndefined();
        expect((await snap.multiGet([b('z00012'), b('z00100'), b('z00001')])).map(str)).toEqual(['v12', undefined, 'v1']);
        expect(keysOf(await snap.scan({ start: b('z00009'), end: b('z00012') }))).toEqual(['z00009', 'z00010', 'z00011']);
        expect(keysOf(await snap.scan({ start: b('z00009'), end: b('z00012'), reverse: true }))).toEqual(['z00011', 'z00010', 'z00009']);
        expect((await snap.scan({})).length).toBe(50);
        let n = 0;
        for await (const p of snap.iterator({ start: b('z00040') })) {
          expect(str(p.key)!.startsWith('z000')).toBe(true);
          n++;
        }
        expect(n).toBe(10);
        expect(keysOf(await snap.scan({ end: b('z00003'), reverse: true, limit: 2, keysOnly: true }))).toEqual(['z00002', 'z00001']);
        // The engine itself moved on.
        expect(await e.get(b('z00015'))).toBeUndefined();
        expect(str(await e.get(b('z00001')))).toBe('changed');
        await snap.release();
      });

      it('iterate long ranges in both directions and interleave reads', async () => {
        await fill(e, 3000);
        const snap = await e.snapshot();
        await e.write(e.newWriteBatch().deleteRange(b('z'), b('z\xff')));
        const fwd = snap.iterator({ start: b('z00500'), end: b('z02600') });
        const rev = snap.iterator({ start: b('z00500'), end: b('z02600'), reverse: true });
        const f: string[] = [];
        const r: string[] = [];
        for (;;) {
          const [a, c] = await Promise.all([fwd.nextChunk(), rev.nextChunk()]);
          for (const p of a) f.push(str(p.key)!);
          for (const p of c) r.push(str(p.key)!);
          expect(str(await snap.get(b('z00007')))).toBe('v7');
          if (a.length === 0 && c.length === 0) break;
        }
        expect(f.length).toBe(2100);
        expect(r).toEqual([...f].reverse());
        expect((await snap.scan({ reverse: true, limit: 1500 })).length).toBe(1500);
        await snap.release();
      });

      it('fail with Closed after release, and release is idempotent', async () => {
        await fill(e, 3);
        const snap = await e.snapshot();
        await snap.release();
        await snap.release();
        await expect(snap.get(b('z00000'))).rejects.toMatchObject({ code: EngineErrorCodes.CLOSED });
        await expect(snap.scan({})).rejects.toMatchObject({ code: EngineErrorCodes.CLOSED });
      });

      it('refuse bad arguments with InvalidArgument', async () => {
        const snap = await e.snapshot();
        await expect(snap.get(new Uint8Array(0))).rejects.toMatchObject({ code: EngineErrorCodes.INVALID_ARGUMENT });
        await expect(snap.multiGet([new Uint8Array(0)])).rejects.toMatchObject({ code: EngineErrorCodes.INVALID_ARGUMENT });
        await expect(snap.scan({ start: b('zb'), end: b('za') })).rejects.toMatchObject({ code: EngineErrorCodes.INVALID_ARGUMENT });
        expect(codeOf(() => snap.iterator({ limit: -2 }))).toBe(EngineErrorCodes.INVALID_ARGUMENT);
        await snap.release();
      });
    });

    describe('write batches', () => {
      it('counts operations and bytes, and clears', () => {
        const wb = e.newWriteBatch();
        expect(wb.isEmpty()).toBe(true);
        wb.put(b('zab'), b('123')).delete(b('zc')).deleteRange(b('za'), b('zb'));
        expect(wb.count).toBe(3);
        expect(wb.dataSize).toBe(3 + 3 + 2 + 2 + 2);
        wb.clear();
        expect(wb.isEmpty()).toBe(true);
        expect(wb.dataSize).toBe(0);
      });

      it('refuses bad keys when they are added', () => {
        const wb = e.newWriteBatch();
        expect(codeOf(() => wb.put(new Uint8Array(0), b('v')))).toBe(EngineErrorCodes.INVALID_ARGUMENT);
        expect(codeOf(() => wb.put(Uint8Array.of(0xff, 1), b('v')))).toBe(EngineErrorCodes.INVALID_ARGUMENT);
        expect(codeOf(() => wb.put(b('k'), 'v' as unknown as Uint8Array))).toBe(EngineErrorCodes.INVALID_ARGUMENT);
        expect(codeOf(() => wb.delete(new Uint8Array(0)))).toBe(EngineErrorCodes.INVALID_ARGUMENT);
        expect(codeOf(() => wb.deleteRange(b('zb'), b('za')))).toBe(EngineErrorCodes.INVALID_ARGUMENT);
        expect(wb.count).toBe(0);
        wb.deleteRange(b('za'), b('za'));
        expect(wb.count).toBe(0);
      });

      it('refuses batches it did not create', async () => {
        const foreign = { ...e.newWriteBatch() } as unknown as ReturnType<KvEngine['newWriteBatch']>;
        await expect(e.write(foreign)).rejects.toMatchObject({ code: EngineErrorCodes.INVALID_ARGUMENT });
      });

      it('deletes ranges, with later operations winning over earlier ones', async () => {
        await fill(e, 20);
        const wb = e.newWriteBatch()
          .put(b('z00100'), b('in-batch'))
          .deleteRange(b('z00005'), b('z00200'))
          .put(b('z00007'), b('after'))
          .put(b('z00300'), b('x'))
          .delete(b('z00300'))
          .put(b('z00000'), b('first'));
        await e.write(wb, { sync: true });
        expect(pairsOf(await e.scan({}))).toEqual([
          ['z00000', 'first'],
          ['z00001', 'v1'],
          ['z00002', 'v2'],
          ['z00003', 'v3'],
          ['z00004', 'v4'],
          ['z00007', 'after'],
        ]);
      });

      it('deletes ranges against writes still queued in the same group', async () => {
        const writes: Array<Promise<void>> = [];
        for (let i = 0; i < 20; i++) writes.push(e.write(e.newWriteBatch().put(b('z' + pad(i)), b('v'))));
        writes.push(e.write(e.newWriteBatch().deleteRange(b('z00000'), b('z00010'))));
        writes.push(e.write(e.newWriteBatch().put(b('z00003'), b('back')), { sync: true }));
        await Promise.all(writes);
        expect(keysOf(await e.scan({}))).toEqual(['z00003', ...Array.from({ length: 10 }, (_, i) => 'z' + pad(10 + i))]);
      });

      it('rolls back to save points, nested, and pops them', async () => {
        const wb = e.newWriteBatch().put(b('za'), b('1'));
        wb.setSavePoint();
        wb.put(b('zb'), b('2'));
        wb.setSavePoint();
        wb.deleteRange(b('za'), b('zz')).put(b('zc'), b('3'));
        wb.rollbackToSavePoint();
        expect(wb.count).toBe(2);
        wb.setSavePoint();
        wb.put(b('zd'), b('4'));
        wb.popSavePoint();
        wb.rollbackToSavePoint();
        expect(wb.count).toBe(1);
        expect(wb.dataSize).toBe(3);
        expect(codeOf(() => wb.rollbackToSavePoint())).toBe(EngineErrorCodes.INVALID_ARGUMENT);
        expect(codeOf(() => wb.popSavePoint())).toBe(EngineErrorCodes.INVALID_ARGUMENT);
        wb.put(b('ze'), b('5'));
        await e.write(wb);
        expect(keysOf(await e.scan({}))).toEqual(['za', 'ze']);
      });

      it('applies overlapping writes in call order (last writer wins)', async () => {
        const writes: Array<Promise<void>> = [];
        for (let i = 0; i < 200; i++) writes.push(e.write(e.newWriteBatch().put(b('zk'), b(String(i))).put(b('z' + pad(i)), b('x')), { sync: i % 50 === 0 }));
        await Promise.all(writes);
        expect(str(await e.get(b('zk')))).toBe('199');
        expect((await e.scan({ start: b('z0'), end: b('z1') })).length).toBe(200);
      });

      it('accepts empty writes and syncs', async () => {
        await e.write(e.newWriteBatch());
        await e.write(e.newWriteBatch(), { sync: true });
        await e.sync();
        expect(await e.scan({})).toEqual([]);
      });
    });

    describe('approximate stats', () => {
      it('counts small ranges exactly', async () => {
        await fill(e, 100);
        await put(e, ['a', 'outside']);
        const s = await e.approximateStats({ start: b('z00010'), end: b('z00020') });
        expect(s).toEqual({ keys: 10, bytes: 10 * 6 + 10 * 3, exact: true });
        expect(await e.approximateStats({ start: b('zz'), end: b('zzz') })).toEqual({ keys: 0, bytes: 0, exact: true });
        const all = await e.approximateStats({});
        expect(all.keys).toBe(101);
      });

      it('estimates large ranges within bounds', async () => {
        await fill(e, 3000);
        const s = await e.approximateStats({ start: b('z'), end: b('z\xff') }, { exactUpTo: 500 });
        // The memory engine counts exactly at any size; RocksDB estimates past exactUpTo.
        if (!s.exact) {
          expect(s.keys).toBeGreaterThanOrEqual(501);
          expect(s.bytes).toBeGreaterThan(0);
        } else {
          expect(s.keys).toBe(3000);
        }
        await expect(e.approximateStats({ start: b('zb'), end: b('za') })).rejects.toMatchObject({ code: EngineErrorCodes.INVALID_ARGUMENT });
      });
    });

    describe('lifecycle', () => {
      it('keeps what was written across a reopen', async () => {
        await fill(e, 500);
        await e.write(e.newWriteBatch().deleteRange(b('z00100'), b('z00400')).put(b('za'), b('last')), { sync: true });
        e = await fx.reopen();
        expect((await e.scan({ start: b('z0'), end: b('z1') })).length).toBe(200);
        expect(str(await e.get(b('z00099')))).toBe('v99');
        expect(await e.get(b('z00100'))).toBeUndefined();
        expect(str(await e.get(b('za')))).toBe('last');
      });

      it('refuses calls after close with Closed; close is idempotent', async () => {
        await put(e, ['za', '1']);
        const pending = e.write(e.newWriteBatch().put(b('zb'), b('2')), { sync: true });
        await e.close();
        await pending;
        await e.close();
        await expect(e.get(b('za'))).rejects.toMatchObject({ code: EngineErrorCodes.CLOSED });
        await expect(e.write(e.newWriteBatch().put(b('zc'), b('3')))).rejects.toMatchObject({ code: EngineErrorCodes.CLOSED });
        e = await fx.reopen();
        expect(str(await e.get(b('zb')))).toBe('2');
      });
    });
  });
}
