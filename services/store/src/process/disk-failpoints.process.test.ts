/**
 * Disk failpoints in the real `mrkv-store` process, in both raftstore thread modes, switched at
 * runtime through `<data-dir>/failpoints` (`MRKV_FAILPOINTS_WATCH=1`):
 *
 * - `slow-fsync=<ms>` slows every acknowledged write by at least that much, and switching it off
 *   makes writes fast again, without a restart;
 * - `disk-full` makes the store stop (exit 1, fatal `raftstore I/O failed` with
 *   `KV:Engine:NoSpace`) at its next write, which is never acknowledged; after the file is
 *   removed the store restarts on the same data, with everything acknowledged before.
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StoreProcess } from '../../../../test/harness/store.js';
import { firstRegionCtx, get, put, putWhenLed, realStoreFixture } from './__tests__/real-store.js';

const fx = realStoreFixture();

function setFailpoints(s: StoreProcess, spec: string | undefined): void {
  const file = join(s.dataDir, 'failpoints');
  if (spec === undefined) return rmSync(file, { force: true });
  writeFileSync(`${file}.tmp`, spec);
  renameSync(`${file}.tmp`, file);
}

/** Waits for the store to log that its disk failpoints are now `settings` (JSON). */
function switched(s: StoreProcess, settings: string): Promise<unknown> {
  return s.waitForLog((r) => r.msg === 'disk failpoints changed' && JSON.stringify(r.failpoints) === settings, 5_000);
}

/** Time of one acknowledged put (ms). */
async function timedPut(s: StoreProcess, ctx: Awaited<ReturnType<typeof firstRegionCtx>>, key: string): Promise<number> {
  const t = performance.now();
  const r = await put(s.addr, ctx, key, 'v');
  expect(r).toEqual({ error: '', regionError: null });
  return performance.now() - t;
}

async function scenario(thread: 'main' | 'worker'): Promise<void> {
  const s = fx.track(await StoreProcess.start({ pd: [fx.pd().address], args: ['--raftstore-thread', thread], env: { MRKV_FAILPOINTS_WATCH: '1' } }));
  const ctx = await firstRegionCtx(s);
  await putWhenLed(s.addr, ctx, 'a', '1');

  setFailpoints(s, 'slow-fsync=400');
  await switched(s, '{"slowFsyncMs":400}');
  expect(await timedPut(s, ctx, 'slow')).toBeGreaterThanOrEqual(400);
  setFailpoints(s, undefined);
  await switched(s, '{}');
  // Fast again (generous bound: the machine is shared; a slow fsync would add 400 ms per write).
  const fast = Math.min(await timedPut(s, ctx, 'f1'), await timedPut(s, ctx, 'f2'), await timedPut(s, ctx, 'f3'));
  expect(fast).toBeLessThan(400);

  setFailpoints(s, 'disk-full');
  await switched(s, '{"diskFull":true}');
  const answer = await put(s.addr, ctx, 'lost', 'x').catch((err: unknown) => ({ error: String(err), regionError: null }));
  expect(answer.error, `a write on a full disk was acknowledged (${thread}): ${JSON.stringify(answer)}\n${s.tail(30)}`).not.toBe('');
  expect(await s.exited).toEqual({ code: 1, signal: null });
  const fatal = s.logs().find((r) => r.level === 'fatal');
  expect(JSON.stringify(fatal)).toMatch(/KV:Engine:NoSpace/);

  setFailpoints(s, undefined);
  const again = fx.track(await s.restart());
  await putWhenLed(again.addr, ctx, 'b', '2');
  expect(await get(again.addr, ctx, 'a')).toBe('1');
  expect(await get(again.addr, ctx, 'slow')).toBe('v');
}

describe('mrkv-store disk failpoints', () => {
  it.each(['main', 'worker'] as const)('raftstore on the %s thread: slow-fsync on and off at runtime; disk-full stops the store; it restarts with everything acknowledged', async (thread) => {
    await scenario(thread);
  }, 90_000);
});
