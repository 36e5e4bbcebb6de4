/** Opening a driver for a target spec (inside a worker thread). */
import { assertNever } from '@mrkv/common';
import type { KvDriver, TargetSpec } from './driver.js';
import { openEtcdDriver } from './etcd-driver.js';
import { openMrkvDriver } from './mrkv-driver.js';
import { openRocksDriver } from './rocksdb-driver.js';

export { TARGET_KINDS, targetLabel } from './driver.js';
export type { KvDriver, TargetKind, TargetSpec } from './driver.js';
export { loadCreateRawClient } from './mrkv-driver.js';
export type { CreateRawClient } from './mrkv-driver.js';

/** Opens the client (or database) `spec` describes. */
export async function openDriver(spec: TargetSpec): Promise<KvDriver> {
  switch (spec.kind) {
    case 'mrkv':
      return openMrkvDriver(spec.pdEndpoints, spec.clientModule);
    case 'etcd':
      return openEtcdDriver(spec.endpoints);
    case 'rocksdb':
      return openRocksDriver(spec.path, spec.sync);
    default:
      return assertNever(spec, 'target spec');
  }
}
