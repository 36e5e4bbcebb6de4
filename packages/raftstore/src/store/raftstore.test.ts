import { afterEach, describe, expect, it } from 'vitest';
import { TestCluster, waitFor } from '../testing/index.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.shutdown();
  cluster = undefined;
});

describe('raftstore: replication', () => {
  it('elects a leader, replicates writes to every store and serves reads', async () => {
    cluster = new TestCluster({ stores: 3 });
    const region = await cluster.start();
    await cluster.waitLeader(region.id);
    await cluster.put('a', '1');
    await cluster.put('b', '2');
    expect(await cluster.get('a')).toBe('1');
    expect(await cluster.get('missing')).toBeUndefined();
    for (const id of [1, 2, 3]) await waitFor(async () => (await cluster!.peek(id, 'b')) === '2', 5000, `b on store ${id}`);
  });
});
