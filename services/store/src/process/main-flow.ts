/**
 * The `mrkv-store` command: flags and config, the root logger, signals and exit codes around
 * `runStore` (the shared flow: `runServiceMain` in `@mrkv/common/service`). main.ts calls it with
 * the production wiring (the raftstore's backend factory and the PD client); process tests call it
 * with in-memory wiring.
 *
 * Exit codes: 0 after a clean stop (SIGTERM or SIGINT: drain, stop, close; logged `exiting` with
 * `drained`); 1 when start-up fails or an invariant is violated (fail fast); 2 for bad flags or
 * config (the message names the key); 128 + signal number when a second signal arrives during
 * shutdown (exit at once).
 */
import { runServiceMain } from '@mrkv/common/service';
import { parseStoreArgs } from '../cli.js';
import { storeConfigToFileForm } from '../config.js';
import type { OpenRaftstoreBackend } from './backend.js';
import { createRootLogger } from './logger.js';
import type { ConnectPd } from './pd.js';
import { runStore } from './run-store.js';

/** The pluggable parts of a store process. */
export interface StoreWiring {
  readonly openBackend: OpenRaftstoreBackend;
  readonly connectPd: ConnectPd;
}

/** Runs the store command with `argv` (no node/script entries). Never resolves; signals end the process. */
export function storeMain(argv: readonly string[], wiring: StoreWiring): Promise<never> {
  return runServiceMain(argv, {
    command: 'mrkv-store',
    parse: parseStoreArgs,
    printedConfig: (args) => storeConfigToFileForm(args.config),
    rootLogger: (args) => createRootLogger(args.config.log),
    startingFields: (args) => ({ configFile: args.configFile, dataDir: args.config.storage.dataDir, pd: args.config.pd.endpoints }),
    start: (args, logger) => runStore(args.config, { ...wiring, logger }),
    stopped: ({ drained }, logger) => logger.info({ drained }, 'exiting'),
  });
}
