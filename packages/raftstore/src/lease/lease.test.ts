import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { Lease, LeaseState } from './lease.js';
import { LeaseSlots, LeaseTable, type LeaseView } from './lease-table.js';

describe('Lease', () => {
  it('is valid until send_ts + max_lease, then expired', () => {
    const l = new Lease(900);
    expect(l.inspect(0)).toBe(LeaseState.Expired);
    l.renew(100);
    expect(l.inspect(999)).toBe(LeaseState.Valid);
    expect(l.inspect(1000)).toBe(LeaseState.Expired);
  });

  it('never shortens a valid lease on renewal with an older send time', () => {
    const l = new Lease(900);
    l.renew(500);
    l.renew(100);
    expect(l.validBound()).toBe(1400);
  });

  it('suspect blocks local reads until a renewal past the suspect bound', () => {
    const l = new Lease(900);
    l.renew(0);
    l.suspect(100);
    expect(l.inspect(50)).toBe(LeaseState.Suspect);
    l.renew(50); // bound 950 < suspect bound 1000: stays suspect
    expect(l.inspect(60)).toBe(LeaseState.Suspect);
    l.renew(200);
    expect(l.inspect(60)).toBe(LeaseState.Valid);
    l.expire();
    expect(l.inspect(60)).toBe(LeaseState.Expired);
  });

  it('publishes bound changes beyond max drift and every shrink', () => {
    const l = new Lease(900);
    l.renew(0);
    expect(l.publishable()).toBe(900);
    l.renew(100);
    expect(l.publishable()).toBeUndefined(); // moved 100 < 300
    l.renew(400);
    expect(l.publishable()).toBe(1300);
    l.suspect(500);
    expect(l.publishable()).toBe(0);
    expect(l.publishable()).toBeUndefined();
  });
});

describe('LeaseTable', () => {
  const view = (): LeaseView => ({ regionId: 0, term: 0, bound: 0, flags: 0, version: 0, confVer: 0, peerId: 0 });

  it('round-trips a slot and rejects bad slots', () => {
    const t = new LeaseTable(4);
    t.write(2, { regionId: 7, term: 3, bound: 12345.5, flags: 1, version: 4, confVer: 2, peerId: 9 });
    expect(t.read(2, view())).toEqual({ regionId: 7, term: 3, bound: 12345.5, flags: 1, version: 4, confVer: 2, peerId: 9 });
    expect(() => t.read(4, view())).toThrow(RangeError);
    t.clear(2);
    expect(t.read(2, view()).regionId).toBe(0);
  });

  it('gives consistent snapshots to a reader on another thread while a writer updates', async () => {
    const t = new LeaseTable(1);
    // The worker writes slots where every field equals the same counter; a torn read would mix values.
    const w = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       const f64 = new Float64Array(workerData); const i32 = new Int32Array(workerData);
       for (let n = 1; n <= 200000; n++) {
         Atomics.add(i32, 0, 1);
         for (let k = 1; k < 8; k++) f64[k] = n;
         Atomics.add(i32, 0, 1);
       }
       parentPort.postMessage('done');`,
      { eval: true, workerData: t.buffer },
    );
    let done = false;
    void once(w, 'message').then(() => (done = true));
    let reads = 0;
    const v = view();
    while (!done || reads < 1000) {
      t.read(0, v);
      const vals = [v.regionId, v.term, v.bound, v.flags, v.version, v.confVer, v.peerId];
      expect(new Set(vals).size).toBe(1);
      reads++;
      if (reads % 5000 === 0) await new Promise((r) => setImmediate(r));
    }
    await w.terminate();
  });
});

describe('LeaseSlots', () => {
  it('allocates, reuses freed slots, and reports a full table', () => {
    const s = new LeaseSlots(2);
    expect(s.acquire(10)).toBe(0);
    expect(s.acquire(10)).toBe(0);
    expect(s.acquire(11)).toBe(1);
    expect(s.acquire(12)).toBeUndefined();
    expect(s.release(10)).toBe(0);
    expect(s.acquire(12)).toBe(0);
    expect(s.get(11)).toBe(1);
  });
});
