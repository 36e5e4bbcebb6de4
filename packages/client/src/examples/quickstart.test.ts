/** The README example runs end to end against a simulated cluster. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SimCluster } from '../__tests__/sim-cluster.js';
import { quickstart } from './quickstart.js';

let c: SimCluster;
beforeAll(async () => {
  c = await SimCluster.start({ stores: 3, splits: ['quickstart/fruit/b', 'quickstart/fruit/d'] });
});
afterAll(() => c.close());

it('prints what the README says it prints', async () => {
  const lines: string[] = [];
  await quickstart(c.pdEndpoints[0]!, (l) => lines.push(l));
  expect(lines).toEqual([
    'get greeting -> hello, mrkv',
    'batchGet -> quickstart/fruit/banana=2, quickstart/fruit/apple=1',
    'scan -> apple banana cherry damson',
    'reverse scan, limit 2 -> damson cherry',
    'cas create -> true; cas with a wrong expectation -> false (saw 1)',
    'cancelled call -> KV:Client:Cancelled',
    'after deleteRange -> 0 keys',
  ]);
  expect(c.data.size).toBe(0);
});
