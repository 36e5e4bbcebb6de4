import { ManualClock } from '@mrkv/common';
import { openMemoryKvEngine } from '@mrkv/engine';
import { describe, expect, it } from 'vitest';
import { MetaStorage } from '../storage/meta-storage.js';
import { composeTs, MAX_LOGICAL, parseTs, Tso, type Timestamp } from './tso.js';

const after = (a: Timestamp, b: Timestamp) => composeTs(a) > composeTs(b);

describe('Tso', () => {
  it('hands out strictly increasing timestamps and the largest of a batch', async () => {
    const clock = new ManualClock(0, 1_000_000);
    const tso = await Tso.open(new MetaStorage(openMemoryKvEngine()), { clock });
    const a = await tso.next();
    const b = await tso.next(10);
    expect(b.physical).toBe(a.physical);
    expect(b.logical).toBe(a.logical + 10);
    clock.advance(5);
    const c = await tso.next();
    expect(c).toEqual({ physical: a.physical + 5, logical: 1 });
    expect(after(c, b)).toBe(true);
  });

  it('never goes backwards when the wall clock jumps back', async () => {
    const clock = new ManualClock(0, 1_000_000);
    const tso = await Tso.open(new MetaStorage(openMemoryKvEngine()), { clock });
    const a = await tso.next();
    clock.jumpWall(-10_000);
    const b = await tso.next();
    expect(after(b, a)).toBe(true);
  });

  it('moves physical ahead when the logical counter runs out, below the saved bound', async () => {
    const clock = new ManualClock(0, 1_000_000);
    const tso = await Tso.open(new MetaStorage(openMemoryKvEngine()), { clock });
    const a = await tso.next(MAX_LOGICAL - 1);
    const b = await tso.next(5);
    expect(b.physical).toBe(a.physical + 1);
    expect(b.physical).toBeLessThan(tso.bound);
  });

  it('is monotonic across restarts, even with the clock set back', async () => {
    const engine = openMemoryKvEngine();
    const clock = new ManualClock(0, 5_000_000);
    let tso = await Tso.open(new MetaStorage(engine), { clock });
    let last = await tso.next();
    for (let i = 0; i < 5; i++) {
      clock.advance(1000);
      last = await tso.next(3);
      expect(last.physical).toBeLessThan(tso.bound);
    }
    clock.jumpWall(-60_000); // restart with the clock behind
    tso = await Tso.open(new MetaStorage(engine), { clock });
    const first = await tso.next();
    expect(after(first, last)).toBe(true);
  });

  it('refuses bad counts and round-trips composed values', async () => {
    const tso = await Tso.open(new MetaStorage(openMemoryKvEngine()), { clock: new ManualClock() });
    await expect(tso.next(0)).rejects.toMatchObject({ code: 'PD:core:ErrInvalidValue' });
    await expect(tso.next(MAX_LOGICAL)).rejects.toMatchObject({ code: 'PD:core:ErrInvalidValue' });
    expect(parseTs(composeTs({ physical: 1_700_000_000_123, logical: 77 }))).toEqual({ physical: 1_700_000_000_123, logical: 77 });
  });
});
