#!/usr/bin/env node
/**
 * `mrkv-store`: one mrkv store process. Flags and config: `mrkv-store --help` and the README.
 * Start-up and shutdown order: process/run-store.ts; exit codes: process/main-flow.ts.
 *
 * From sources: `pnpm dev:store --pd 127.0.0.1:2379 --data-dir ./data/s1`; compiled:
 * `pnpm start:store …` (or the `mrkv-store` bin).
 */
import { CommonCodes, MrkvError } from '@mrkv/common';
import type { OpenRaftstoreBackend } from './process/backend.js';
import { storeMain } from './process/main-flow.js';
import { connectGrpcPd } from './process/pd-grpc.js';

// TODO(lead): wire the raftstore here: replace this function with the @mrkv/raftstore factory of
// type `OpenRaftstoreBackend` (open the kv engine in `layout.kvDir` and one raft-log engine per raft
// worker in `raftEngineDir(layout, n)`, return the bootstrap helpers and `start`). Until then the
// store stops at this step with a clear error, after connecting to PD and taking its store id.
const openBackend: OpenRaftstoreBackend = async () => {
  throw new MrkvError(CommonCodes.UNIMPLEMENTED, 'this build has no raftstore wired in (see TODO(lead) in services/store/src/main.ts)');
};

await storeMain(process.argv.slice(2), { openBackend, connectPd: connectGrpcPd });
