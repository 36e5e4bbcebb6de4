/**
 * The README's quick-start example: connect to a cluster through PD, write, read, batch, scan
 * both ways, compare-and-swap, delete a range, close. Run it against `pnpm playground`:
 *
 *   node tools/run-ts.mjs packages/client/src/examples/quickstart.ts 127.0.0.1:2379
 *
 * (the address is the one the playground prints as `PD: 127.0.0.1:<port>`).
 */
import { fileURLToPath } from 'node:url';
import { bytesToString, createRawClient, isClientError, ClientErrorCodes } from '../index.js';

/** Runs the example against the cluster whose PD listens on `pd`; `print` receives each line. */
export async function quickstart(pd: string, print: (line: string) => void = console.log): Promise<void> {
  const client = createRawClient({ pdEndpoints: [pd], timeoutMs: 5000 });
  try {
    // Single keys: strings are UTF-8; results are bytes.
    await client.put('quickstart/greeting', 'hello, mrkv');
    const v = await client.get('quickstart/greeting');
    print(`get greeting -> ${v === undefined ? '(none)' : bytesToString(v)}`);

    // Batches are grouped per region and sent concurrently.
    await client.batchPut(['apple', 'banana', 'cherry', 'damson'].map((fruit, i) => ({ key: `quickstart/fruit/${fruit}`, value: String(i + 1) })));
    const some = await client.batchGet(['quickstart/fruit/banana', 'quickstart/fruit/kiwi', 'quickstart/fruit/apple']);
    print(`batchGet -> ${some.map((p) => `${bytesToString(p.key)}=${bytesToString(p.value)}`).join(', ')}`);

    // Scans walk regions in order; `reverse` walks down; `limit` caps the total.
    const forward: string[] = [];
    for await (const { key } of client.scan('quickstart/fruit/', 'quickstart/fruit0')) forward.push(bytesToString(key).slice(17));
    print(`scan -> ${forward.join(' ')}`);
    const lastTwo = await client.scanAll('quickstart/fruit/', 'quickstart/fruit0', { reverse: true, limit: 2, keyOnly: true });
    print(`reverse scan, limit 2 -> ${lastTwo.map((p) => bytesToString(p.key).slice(17)).join(' ')}`);

    // Compare-and-swap: `null` as expected means "must not exist"; as new value, "delete".
    await client.delete('quickstart/counter');
    const first = await client.compareAndSwap('quickstart/counter', null, '1');
    const second = await client.compareAndSwap('quickstart/counter', '0', '2');
    print(`cas create -> ${first.succeeded}; cas with a wrong expectation -> ${second.succeeded} (saw ${bytesToString(second.previousValue!)})`);

    // Deadlines and cancellation are per call.
    const ac = new AbortController();
    ac.abort();
    try {
      await client.get('quickstart/greeting', { signal: ac.signal });
    } catch (e) {
      if (isClientError(e, ClientErrorCodes.CANCELLED)) print('cancelled call -> KV:Client:Cancelled');
      else throw e;
    }

    // Clean up: one DeleteRange per region the range touches.
    await client.deleteRange('quickstart/', 'quickstart0');
    print(`after deleteRange -> ${(await client.scanAll('quickstart/', 'quickstart0')).length} keys`);
  } finally {
    await client.close();
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  quickstart(process.argv[2] ?? '127.0.0.1:2379').catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
