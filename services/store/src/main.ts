#!/usr/bin/env node
/**
 * `mrkv-store`: one mrkv store process. Flags and config: `mrkv-store --help` and the README.
 * Start-up and shutdown order: process/run-store.ts; exit codes: process/main-flow.ts. The
 * raftstore (RocksDB engines, raft and apply pollers) runs where `raftstore.thread` says: on this
 * thread, or on its own worker thread (process/raftstore-backend.ts, process/raftstore-thread.ts),
 * whose death ends the process with exit code 1.
 *
 * From sources: `pnpm dev:store --pd 127.0.0.1:2379 --data-dir ./data/s1`; compiled:
 * `pnpm start:store …` (or the `mrkv-store` bin).
 */
import { storeMain } from './process/main-flow.js';
import { connectGrpcPd } from './process/pd-grpc.js';
import { openRaftstoreBackend } from './process/raftstore-backend.js';

await storeMain(process.argv.slice(2), { openBackend: openRaftstoreBackend, connectPd: connectGrpcPd });
