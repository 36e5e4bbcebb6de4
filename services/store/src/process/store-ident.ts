/**
 * The store ident (`raft_serverpb.StoreIdent`): which cluster this data directory belongs to and
 * which store id PD gave it (TiKV keeps it under STORE_IDENT_KEY in the kv engine; mrkv keeps it
 * in a file of its own so it can be checked before any engine is opened). Written once, when the
 * store first joins a cluster, atomically; a damaged file stops the store rather than letting it
 * join as a new store with old data.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { decodeStoreIdent, encodeStoreIdent, wireU64 } from '@mrkv/proto';
import { StoreError, StoreErrorCodes } from '../errors.js';

export interface StoreIdent {
  clusterId: number;
  storeId: number;
}

/** The ident in `file`, or undefined if there is none. Throws DataDirInconsistent if it is damaged. */
export function readStoreIdent(file: string): StoreIdent | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StoreError(StoreErrorCodes.DATA_DIR_INCONSISTENT, `cannot read store ident ${file}: ${(e as Error).message}`, { cause: e });
  }
  let ident: StoreIdent;
  try {
    const w = decodeStoreIdent(bytes);
    ident = { clusterId: wireU64(w.clusterId, 'StoreIdent.cluster_id'), storeId: wireU64(w.storeId, 'StoreIdent.store_id') };
  } catch (cause) {
    throw new StoreError(StoreErrorCodes.DATA_DIR_INCONSISTENT, `store ident ${file} is damaged: ${(cause as Error).message}`, { cause });
  }
  if (ident.storeId === 0 || ident.clusterId === 0) {
    throw new StoreError(StoreErrorCodes.DATA_DIR_INCONSISTENT, `store ident ${file} is damaged: a zero id`, { details: { ...ident } });
  }
  return ident;
}

/** Writes the ident durably: temp file, fsync, rename over `file`, fsync of the directory. */
export function writeStoreIdent(file: string, ident: StoreIdent): void {
  const tmp = `${file}.tmp`;
  const bytes = encodeStoreIdent({ clusterId: ident.clusterId, storeId: ident.storeId, apiVersion: 'V1' });
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  const dir = openSync(dirname(file), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
