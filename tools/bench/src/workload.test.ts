import { describe, expect, it } from 'vitest';
import { SeededRng } from '@mrkv/common';
import { WORKLOAD_NAMES, pickOp, resolveWorkload } from './workload.js';

const params = { readPercent: 30, batchSize: 8, scanLength: 50 };

describe('workloads', () => {
  it.each(WORKLOAD_NAMES)('%s: weights sum to 1', (name) => {
    const w = resolveWorkload(name, params);
    expect(w.mix.reduce((s, [, p]) => s + p, 0)).toBeCloseTo(1, 12);
  });

  it('maps YCSB onto RawKV with its distributions, and only reading workloads need a load', () => {
    expect(resolveWorkload('ycsb-a', params)).toMatchObject({ mix: [['read', 0.5], ['update', 0.5]], distribution: 'zipfian', needsLoad: true });
    expect(resolveWorkload('ycsb-d', params)).toMatchObject({ mix: [['read', 0.95], ['insert', 0.05]], distribution: 'latest' });
    expect(resolveWorkload('ycsb-e', params)).toMatchObject({ mix: [['scan', 0.95], ['insert', 0.05]], scanLength: 50 });
    expect(resolveWorkload('ycsb-f', params).mix).toEqual([['read', 0.5], ['rmw', 0.5]]);
    expect(resolveWorkload('raw-put', params)).toMatchObject({ mix: [['update', 1]], needsLoad: false, distribution: 'uniform' });
    expect(resolveWorkload('raw-batch-put', params)).toMatchObject({ mix: [['batch-put', 1]], batchSize: 8, needsLoad: false });
    expect(resolveWorkload('mixed', params).mix).toEqual([['read', 0.3], ['update', 0.7]]);
    expect(resolveWorkload('mixed', { ...params, readPercent: 100 }).mix).toEqual([['read', 1]]);
    expect(resolveWorkload('ycsb-c', { ...params, distribution: 'uniform' }).distribution).toBe('uniform');
  });

  it('pickOp follows the weights', () => {
    const mix = resolveWorkload('ycsb-b', params).mix;
    const rng = new SeededRng(1);
    let reads = 0;
    for (let i = 0; i < 100_000; i++) if (pickOp(mix, rng.next()) === 'read') reads++;
    expect(reads / 100_000).toBeCloseTo(0.95, 2);
    expect(pickOp(mix, 0.999999)).toBe('update');
  });
});
