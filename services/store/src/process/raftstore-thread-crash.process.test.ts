/**
 * A crash of the raftstore thread (failpoint `raftstore-thread-crash-on-put`) in the real
 * `mrkv-store` process: the process exits with code 1 and logs the failure at fatal; it never
 * hangs or keeps serving without its raftstore.
 */
import { describe, expect, it } from 'vitest';
import { StoreProcess } from '../../../../test/harness/store.js';
import { firstRegionCtx, put, putWhenLed, realStoreFixture } from './__tests__/real-store.js';

const fx = realStoreFixture();

describe('mrkv-store when its raftstore thread dies', () => {
  it('exits with code 1 and logs the failure at fatal', async () => {
    const crashKey = 'crash-me';
    const s = fx.track(
      await StoreProcess.start({
        pd: [fx.pd().address],
        args: ['--raftstore-thread', 'worker'],
        env: { MRKV_FAILPOINTS: `raftstore-thread-crash-on-put=${Buffer.from(crashKey).toString('hex')}` },
      }),
    );
    const ctx = await firstRegionCtx(s);
    await putWhenLed(s.addr, ctx, 'a', '1');
    // The crashing put is never answered: the connection drops as the process exits.
    const answer = await put(s.addr, ctx, crashKey, 'x').catch((err: unknown) => ({ error: String(err), regionError: null }));
    expect(answer.error).not.toBe('');
    const exit = await s.exited;
    expect(exit).toEqual({ code: 1, signal: null });
    const fatal = s.logs().find((r) => r.level === 'fatal');
    expect(fatal?.msg).toMatch(/raftstore thread failed/);
    expect(JSON.stringify(fatal?.err)).toMatch(/crashOnPutKey/);
  });
});
