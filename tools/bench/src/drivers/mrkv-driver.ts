/**
 * The mrkv target, through `@mrkv/client`'s `RawClient` (or any module exporting
 * `createRawClient({ pdEndpoints })` that returns one: tests pass a double). Each worker opens
 * its own client, so each has its own connections and BatchCommands streams.
 */
import type { RawClient } from '@mrkv/client';
import { BenchCodes, BenchError } from '../errors.js';
import type { KvDriver } from './driver.js';

/** The factory the client module must export. */
export type CreateRawClient = (options: { pdEndpoints: readonly string[] }) => RawClient | Promise<RawClient>;

/** Loads `createRawClient` from `clientModule` (a package name or a file URL). */
export async function loadCreateRawClient(clientModule: string): Promise<CreateRawClient> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(clientModule)) as Record<string, unknown>;
  } catch (e) {
    throw new BenchError(BenchCodes.TARGET_UNAVAILABLE, `mrkv target: cannot load the client module ${clientModule}`, { cause: e });
  }
  const create = mod.createRawClient;
  if (typeof create !== 'function') {
    throw new BenchError(
      BenchCodes.TARGET_UNAVAILABLE,
      `mrkv target: ${clientModule} does not export createRawClient (the SDK implementation has not landed in this build)`,
    );
  }
  return create as CreateRawClient;
}

/** Opens a RawClient on `pdEndpoints`. */
export async function openMrkvDriver(pdEndpoints: readonly string[], clientModule: string): Promise<KvDriver> {
  const create = await loadCreateRawClient(clientModule);
  const client = await create({ pdEndpoints: [...pdEndpoints] });
  return {
    get: (key) => client.get(key),
    put: (key, value) => client.put(key, value),
    batchPut: (keys, values) => client.batchPut(keys.map((key, i) => ({ key, value: values[i]! }))),
    scan: async (start, limit) => (await client.scanAll(start, '', { limit })).length,
    close: () => client.close(),
  };
}
