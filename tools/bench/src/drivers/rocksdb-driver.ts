/**
 * The rocksdb target: a local RocksDB through the npm `rocksdb` binding, no replication, no
 * network: the single-node limit the cluster targets are compared with. Writes use
 * `sync: true` by default (each acknowledged write is on disk, as a replicated write is); the
 * binding runs calls on libuv's thread pool, so concurrent requests overlap.
 *
 * One database is opened and used by exactly one thread (architecture §3): the harness runs this
 * target with a single worker, and the load and run phases open and close it in turn.
 */
import { createRequire } from 'node:module';
import type { KvDriver } from './driver.js';

type Callback = (err?: Error | null) => void;

/** The few LevelDOWN calls of `rocksdb@5.2.1` used here (the package is CommonJS, callback-only). */
interface LevelDown {
  open(options: { createIfMissing: boolean }, cb: Callback): void;
  close(cb: Callback): void;
  put(key: Buffer, value: Buffer, options: { sync: boolean }, cb: Callback): void;
  get(key: Buffer, options: { asBuffer: boolean }, cb: (err: Error | null | undefined, value: Buffer) => void): void;
  batch(ops: ReadonlyArray<{ type: 'put'; key: Buffer; value: Buffer }>, options: { sync: boolean }, cb: Callback): void;
  iterator(options: { gte: Buffer; limit: number; keyAsBuffer: boolean; valueAsBuffer: boolean }): LevelIterator;
}

interface LevelIterator {
  next(cb: (err: Error | null | undefined, key?: Buffer, value?: Buffer) => void): void;
  end(cb: Callback): void;
}

const require = createRequire(import.meta.url);
const LevelDOWN = require('rocksdb') as (location: string) => LevelDown;

function call(fn: (cb: Callback) => void): Promise<void> {
  return new Promise((resolve, reject) => fn((err) => (err ? reject(err) : resolve())));
}

/** Opens (creating if needed) the database at `path`. */
export async function openRocksDriver(path: string, sync: boolean): Promise<KvDriver> {
  const db = LevelDOWN(path);
  await call((cb) => db.open({ createIfMissing: true }, cb));
  const opts = { sync };
  return {
    get: (key) =>
      new Promise((resolve, reject) =>
        db.get(key, { asBuffer: true }, (err, value) => {
          // NB: the binding reports a missing key only as an error whose message starts with
          // "NotFound" (leveldown convention); there is no code to test.
          if (err) return /^NotFound/.test(err.message) ? resolve(undefined) : reject(err);
          resolve(value);
        }),
      ),
    put: (key, value) => call((cb) => db.put(key, value, opts, cb)),
    batchPut: (keys, values) =>
      call((cb) =>
        db.batch(
          keys.map((key, i) => ({ type: 'put' as const, key, value: values[i]! })),
          opts,
          cb,
        ),
      ),
    scan: async (start, limit) => {
      const it = db.iterator({ gte: start, limit, keyAsBuffer: true, valueAsBuffer: true });
      let n = 0;
      try {
        for (;;) {
          const more = await new Promise<boolean>((resolve, reject) => it.next((err, key) => (err ? reject(err) : resolve(key !== undefined))));
          if (!more) break;
          n++;
        }
      } finally {
        await call((cb) => it.end(cb));
      }
      return n;
    },
    close: () => call((cb) => db.close(cb)),
  };
}
