/**
 * The `mrkv-store` command: flags and config, the root logger, signals and exit codes around
 * `runStore`. main.ts calls it with the production wiring (the raftstore's backend factory and
 * the PD client); process tests call it with in-memory wiring.
 *
 * Exit codes: 0 after a clean stop (SIGTERM or SIGINT: drain, stop, close); 1 when start-up
 * fails or an invariant is violated (fail fast); 2 for bad flags or config (the message names the
 * key); 128 + signal number when a second signal arrives during shutdown (exit at once).
 */
import { CommanderError } from 'commander';
import { InvariantViolation, isMrkvError, type Logger } from '@mrkv/common';
import { parseStoreArgs, type StoreArgs } from '../cli.js';
import { storeConfigToFileForm } from '../config.js';
import type { OpenRaftstoreBackend } from './backend.js';
import { createRootLogger } from './logger.js';
import type { ConnectPd } from './pd.js';
import { runStore, type RunningStore } from './run-store.js';

/** The pluggable parts of a store process. */
export interface StoreWiring {
  readonly openBackend: OpenRaftstoreBackend;
  readonly connectPd: ConnectPd;
}

const SIGNALS = { SIGINT: 2, SIGTERM: 15 } as const;

/** Runs the store command with `argv` (no node/script entries). Returns when the process should exit. */
export async function storeMain(argv: readonly string[], wiring: StoreWiring): Promise<never> {
  let args: StoreArgs;
  try {
    args = parseStoreArgs(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exit(e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? 0 : 2);
    }
    process.stderr.write(`mrkv-store: ${isMrkvError(e) ? e.message : String(e)}\n`);
    process.exit(2);
  }
  if (args.printConfig) {
    process.stdout.write(JSON.stringify(storeConfigToFileForm(args.config), null, 2) + '\n');
    process.exit(0);
  }

  const { logger, flush } = createRootLogger(args.config.log);
  const exit = async (code: number): Promise<never> => {
    await flush();
    process.exit(code);
  };
  failFastOnBugs(logger, exit);

  let running: RunningStore | undefined;
  let stopRequested = false;
  const stop = (): void => {
    if (running === undefined) return; // start-up finishes first, then stops
    void running.stop().then(
      ({ drained }) => {
        logger.info({ drained }, 'exiting');
        return exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'error while stopping');
        return exit(1);
      },
    );
  };
  for (const [sig, num] of Object.entries(SIGNALS)) {
    process.on(sig, () => {
      if (stopRequested) {
        logger.warn({ signal: sig }, 'second signal: exiting now');
        void exit(128 + num);
        return;
      }
      stopRequested = true;
      logger.info({ signal: sig }, 'signal received: shutting down gracefully');
      stop();
    });
  }

  logger.info({ configFile: args.configFile, dataDir: args.config.storage.dataDir, pd: args.config.pd.endpoints }, 'mrkv-store starting');
  try {
    running = await runStore(args.config, { ...wiring, logger });
  } catch (err) {
    logger.fatal({ err }, 'mrkv-store failed to start');
    return exit(1);
  }
  if (stopRequested) stop();
  // The servers keep the event loop alive; the signal handlers end the process.
  return new Promise<never>(() => {});
}

/** An uncaught exception or unhandled rejection is a bug: log it and exit 1 (fail fast). */
function failFastOnBugs(logger: Logger, exit: (code: number) => Promise<never>): void {
  const die = (err: unknown, what: string) => {
    logger.fatal({ err, invariant: err instanceof InvariantViolation }, what);
    void exit(1);
  };
  process.on('uncaughtException', (err) => die(err, 'uncaught exception'));
  process.on('unhandledRejection', (err) => die(err, 'unhandled rejection'));
}
