/**
 * A store process for process-level tests: the real `mrkv-store` command (flags, config, logger,
 * data directory, ident, bootstrap, servers, heartbeats, signals, exit codes) around an in-memory
 * raftstore and an in-process fake PD. It serves RawKV on the one region it bootstraps, but keeps
 * nothing across restarts. Run: `node --conditions=@mrkv/source --import tsx
 * services/store/src/testing/memory-store-main.ts --data-dir /tmp/s1 --addr 127.0.0.1:0 …`.
 *
 * `MRKV_TEST_CLUSTER_ID` sets the fake PD's cluster id (default 6000000001).
 */
import { storeMain } from '../process/main-flow.js';
import { FakePd } from './fake-pd.js';
import { memoryBackend } from './memory-backend.js';

const pd = new FakePd(Number(process.env.MRKV_TEST_CLUSTER_ID ?? 6_000_000_001));
await storeMain(process.argv.slice(2), { openBackend: memoryBackend(), connectPd: async () => pd });
