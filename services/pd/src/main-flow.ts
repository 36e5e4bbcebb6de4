/**
 * The `mrkv-pd` command: flags and config, the root logger, signals and exit codes around
 * `runPd`.
 *
 * Exit codes: 0 after a clean stop (SIGTERM or SIGINT); 1 when start-up fails (data dir locked,
 * address in use) or on a bug (fail fast); 2 for bad flags or config (the message names the key);
 * 128 + signal number when a second signal arrives during shutdown.
 */
import { CommanderError } from 'commander';
import { InvariantViolation, isMrkvError, type Logger } from '@mrkv/common';
import { parsePdArgs, type PdArgs } from './cli.js';
import { createRootLogger } from './logger.js';
import { runPd, type RunningPd } from './run-pd.js';

const SIGNALS = { SIGINT: 2, SIGTERM: 15 } as const;

export async function pdMain(argv: readonly string[]): Promise<never> {
  let args: PdArgs;
  try {
    args = parsePdArgs(argv);
  } catch (e) {
    if (e instanceof CommanderError) process.exit(e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? 0 : 2);
    process.stderr.write(`mrkv-pd: ${isMrkvError(e) ? e.message : String(e)}\n`);
    process.exit(2);
  }
  if (args.printConfig) {
    process.stdout.write(JSON.stringify(args.config, null, 2) + '\n');
    process.exit(0);
  }
  const { logger, flush } = createRootLogger(args.config.log, args.config.name);
  const exit = async (code: number): Promise<never> => {
    await flush();
    process.exit(code);
  };
  failFastOnBugs(logger, exit);

  let running: RunningPd | undefined;
  let stopRequested = false;
  const stop = (): void => {
    if (running === undefined) return;
    void running.stop().then(
      () => exit(0),
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

  logger.info({ configFile: args.configFile, dataDir: args.config.dataDir, clientUrls: args.config.clientUrls }, 'mrkv-pd starting');
  try {
    running = await runPd(args.config, { logger, processMetrics: true });
  } catch (err) {
    logger.fatal({ err }, 'mrkv-pd failed to start');
    return exit(1);
  }
  if (stopRequested) stop();
  return new Promise<never>(() => {});
}

function failFastOnBugs(logger: Logger, exit: (code: number) => Promise<never>): void {
  const die = (err: unknown, what: string) => {
    logger.fatal({ err, invariant: err instanceof InvariantViolation }, what);
    void exit(1);
  };
  process.on('uncaughtException', (err) => die(err, 'uncaught exception'));
  process.on('unhandledRejection', (err) => die(err, 'unhandled rejection'));
}
