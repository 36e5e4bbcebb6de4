/**
 * The `mrkv-pd` command: flags and config, the root logger, signals and exit codes around
 * `runPd` (the shared flow: `runServiceMain` in `@mrkv/common/service`).
 *
 * Exit codes: 0 after a clean stop (SIGTERM or SIGINT); 1 when start-up fails (data dir locked,
 * address in use) or on a bug (fail fast); 2 for bad flags or config (the message names the key);
 * 128 + signal number when a second signal arrives during shutdown.
 */
import { runServiceMain } from '@mrkv/common/service';
import { parsePdArgs } from './cli.js';
import { createRootLogger } from './logger.js';
import { runPd } from './run-pd.js';

/** Runs the PD command with `argv` (no node/script entries). Never resolves; signals end the process. */
export function pdMain(argv: readonly string[]): Promise<never> {
  return runServiceMain(argv, {
    command: 'mrkv-pd',
    parse: parsePdArgs,
    printedConfig: (args) => args.config,
    rootLogger: (args) => createRootLogger(args.config.log, args.config.name),
    startingFields: (args) => ({ configFile: args.configFile, dataDir: args.config.dataDir, clientUrls: args.config.clientUrls }),
    start: (args, logger) => runPd(args.config, { logger, processMetrics: true }),
  });
}
