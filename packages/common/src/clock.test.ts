import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { ManualClock, systemClock } from './clock.js';

describe('clocks', () => {
  it('systemClock.nowMs is monotonic', () => {
    let last = systemClock.nowMs();
    for (let i = 0; i < 10_000; i++) {
      const t = systemClock.nowMs();
      expect(t).toBeGreaterThanOrEqual(last);
      last = t;
    }
  });

  it('systemClock.nowMs agrees across worker threads (process-wide monotonic clock)', async () => {
    const w = new Worker(
      `const { parentPort } = require('node:worker_threads');
       const t = process.hrtime(); parentPort.postMessage(t[0] * 1e3 + t[1] / 1e6);`,
      { eval: true },
    );
    const before = systemClock.nowMs();
    const [inWorker] = (await once(w, 'message')) as [number];
    const after = systemClock.nowMs();
    await w.terminate();
    expect(inWorker).toBeGreaterThanOrEqual(before);
    expect(inWorker).toBeLessThanOrEqual(after);
  });

  it('ManualClock moves only when told, and wall jumps do not move the monotonic clock', () => {
    const c = new ManualClock(100, 5000);
    c.advance(50);
    expect(c.nowMs()).toBe(150);
    c.jumpWall(-3600_000);
    expect(c.nowMs()).toBe(150);
    expect(c.wallMs()).toBe(5050 - 3600_000);
    expect(() => c.advance(-1)).toThrow(RangeError);
  });
});
