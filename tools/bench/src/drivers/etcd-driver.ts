/**
 * The etcd target, through the `etcd3` npm client's raw KV RPCs (etcd API v3). Gets are
 * linearizable (`serializable: false`, etcd's ReadIndex path), puts are single `Put`s, batch puts
 * are `Txn`s of puts (etcd's `--max-txn-ops`, 128 by default, caps one txn, so larger batches are
 * sent as several txns at once), scans are `Range` with `range_end` "\0" and a limit.
 */
import { Etcd3 } from 'etcd3';
import type { KvDriver } from './driver.js';

/** etcd's default `--max-txn-ops`. */
export const ETCD_MAX_TXN_OPS = 128;

const RANGE_TO_END = Buffer.from([0]);

/** Opens an etcd client on `endpoints` (requests are spread over them by etcd3's pool). */
export function openEtcdDriver(endpoints: readonly string[]): KvDriver {
  const hosts = endpoints.map((e) => (e.includes('://') ? e : `http://${e}`));
  const client = new Etcd3({ hosts, dialTimeout: 5000 });
  const kv = client.kv;
  return {
    async get(key) {
      const res = await kv.range({ key, serializable: false });
      return res.kvs[0]?.value;
    },
    async put(key, value) {
      await kv.put({ key, value });
    },
    async batchPut(keys, values) {
      const txns: Promise<unknown>[] = [];
      for (let i = 0; i < keys.length; i += ETCD_MAX_TXN_OPS) {
        const success = [];
        for (let j = i; j < Math.min(keys.length, i + ETCD_MAX_TXN_OPS); j++) success.push({ request_put: { key: keys[j]!, value: values[j]! } });
        txns.push(kv.txn({ success }));
      }
      await Promise.all(txns);
    },
    async scan(start, limit) {
      const res = await kv.range({ key: start, range_end: RANGE_TO_END, limit, serializable: false });
      return res.kvs.length;
    },
    async close() {
      client.close();
    },
  };
}
