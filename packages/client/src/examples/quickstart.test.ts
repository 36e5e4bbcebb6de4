/**
 * The README example runs end to end against a simulated cluster: in this process, and as its
 * own process (`node tools/run-ts.mjs …/quickstart.ts <pd>`, the command the README gives).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SimCluster } from '../__tests__/sim-cluster.js';
import { quickstart } from './quickstart.js';

let c: SimCluster;
beforeAll(async () => {
  c = await SimCluster.start({ stores: 3, splits: ['quickstart/fruit/b', 'quickstart/fruit/d'] });
});
afterAll(() => c.close());

const EXPECTED = [
  'get greeting -> hello, mrkv',
  'batchGet -> quickstart/fruit/banana=2, quickstart/fruit/apple=1',
  'scan -> apple banana cherry damson',
  'reverse scan, limit 2 -> damson cherry',
  'cas create -> true; cas with a wrong expectation -> false (saw 1)',
  'cancelled call -> KV:Client:Cancelled',
  'after deleteRange -> 0 keys',
];

it('prints what the README says it prints', async () => {
  const lines: string[] = [];
  await quickstart(c.pdEndpoints[0]!, (l) => lines.push(l));
  expect(lines).toEqual(EXPECTED);
  expect(c.data.size).toBe(0);
});

it('runs as its own process with the README command', async () => {
  const root = fileURLToPath(new URL('../../../../', import.meta.url));
  const out = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, ['tools/run-ts.mjs', 'packages/client/src/examples/quickstart.ts', c.pdEndpoints[0]!], { cwd: root, timeout: 20_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
    ),
  );
  expect(out.trim().split('\n')).toEqual(EXPECTED);
});
