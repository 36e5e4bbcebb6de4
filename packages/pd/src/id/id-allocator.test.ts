import { openMemoryKvEngine } from '@mrkv/engine';
import { describe, expect, it } from 'vitest';
import { MetaStorage } from '../storage/meta-storage.js';
import { ID_STEP, IdAllocator } from './id-allocator.js';

describe('IdAllocator', () => {
  it('returns the last id of each block, never reusing one', async () => {
    const a = await IdAllocator.open(new MetaStorage(openMemoryKvEngine()));
    expect(await a.alloc()).toBe(1);
    expect(await a.alloc(5)).toBe(6);
    expect(await a.alloc()).toBe(7);
    const many = await Promise.all(Array.from({ length: 50 }, () => a.alloc(40)));
    expect(new Set(many).size).toBe(50);
    expect(Math.max(...many)).toBe(7 + 50 * 40);
  });

  it('persists blocks ahead, so a restart continues above every id handed out', async () => {
    const engine = openMemoryKvEngine();
    const a = await IdAllocator.open(new MetaStorage(engine));
    let last = 0;
    for (let i = 0; i < 30; i++) last = await a.alloc(77);
    expect(await new MetaStorage(engine).loadAllocId()).toBeGreaterThanOrEqual(last);
    const b = await IdAllocator.open(new MetaStorage(engine));
    const next = await b.alloc();
    expect(next).toBeGreaterThan(last);
    expect(next - last).toBeLessThanOrEqual(ID_STEP + 77 + 1);
  });

  it('refuses bad counts', async () => {
    const a = await IdAllocator.open(new MetaStorage(openMemoryKvEngine()));
    await expect(a.alloc(0)).rejects.toMatchObject({ code: 'PD:core:ErrInvalidValue' });
    await expect(a.alloc(1.5)).rejects.toMatchObject({ code: 'PD:core:ErrInvalidValue' });
    expect(await a.alloc()).toBe(1);
  });
});
