/**
 * The main flow of an mrkv service command (`mrkv-pd`, `mrkv-store`): flags and config, the root
 * logger, signals, graceful shutdown and exit codes around the service's `run…` function.
 *
 * Exit codes:
 * - 0: `--help`, `--version`, `--print-config`, or a clean stop after SIGTERM or SIGINT;
 * - 1: start-up failed (data dir locked, address in use), stopping failed, or a bug: an uncaught
 *   exception or unhandled rejection is logged fatal and ends the process (fail fast);
 * - 2: bad flags or config (commander has printed the usage error; a config error is written to
 *   stderr as `<command>: <message>`, which names the key);
 * - 128 + signal number: a second SIGINT/SIGTERM arrived during shutdown (exit at once).
 *
 * Log lines (the root logger's): `<command> starting` with the service's fields, `<command> failed
 * to start` (fatal, `err`), `signal received: shutting down gracefully` / `second signal: exiting
 * now` (`signal`), `error while stopping` (`err`), `uncaught exception` / `unhandled rejection`
 * (fatal, `err`, `invariant`). Buffered log lines are flushed before every exit after the logger
 * exists.
 *
 * Commander is the services' flag parser, but this module does not depend on it: its errors are
 * recognised by their documented `commander.*` codes.
 */
import { InvariantViolation, isMrkvError } from '../errors.js';
import type { Logger } from '../logger.js';

/** The signals that stop a service, with their numbers (for 128 + n). */
const SIGNALS = { SIGINT: 2, SIGTERM: 15 } as const;

/** A service's root logger (pino behind the `Logger` interface). */
export interface RootLogger {
  readonly logger: Logger;
  /** Flushes buffered lines (best effort). */
  flush(): Promise<void>;
}

/** What a service's flag parser returns, at least. */
export interface ServiceArgs {
  /** `--print-config`: print the effective config as JSON and exit 0. */
  readonly printConfig: boolean;
}

/** A started service. */
export interface RunningService {
  /** Stops gracefully; what it resolves with goes to {@link ServiceMainSpec.stopped}. */
  stop(): Promise<unknown>;
}

/** The parts of the main flow that differ between services. */
export interface ServiceMainSpec<A extends ServiceArgs, R extends RunningService> {
  /** The command name: the stderr prefix of config errors and the start of the start-up lines. */
  readonly command: string;
  /** Parses flags and config. Throws commander's errors (usage, help, version) or a typed config error. */
  parse(argv: readonly string[]): A;
  /** The document `--print-config` prints (the effective config, in the service's file form). */
  printedConfig(args: A): unknown;
  /** Creates the root logger from the parsed config. */
  rootLogger(args: A): RootLogger;
  /** The fields of the `<command> starting` line (config file, data dir, addresses). */
  startingFields(args: A): Record<string, unknown>;
  /** Starts the service; a rejection is a failed start (exit 1). */
  start(args: A, logger: Logger): Promise<R>;
  /** Runs after a clean stop, before exit 0, with what `stop()` resolved with. */
  stopped?(result: Awaited<ReturnType<R['stop']>>, logger: Logger): void;
}

/** The process the flow runs in: Node's `process`, or a fake in tests. */
export interface ProcessHost {
  readonly stdout: { write(s: string): unknown };
  readonly stderr: { write(s: string): unknown };
  /** Subscribes to signals, `uncaughtException` and `unhandledRejection`. */
  on(event: string, listener: (arg: unknown) => void): unknown;
  /** Ends the process (`process.exit` never returns; a fake may). */
  exit(code: number): void;
}

/**
 * Runs the service command with `argv` (no node/script entries). Never resolves: the servers keep
 * the event loop alive, and the signal handlers end the process with the exit codes above.
 */
export async function runServiceMain<A extends ServiceArgs, R extends RunningService>(
  argv: readonly string[],
  spec: ServiceMainSpec<A, R>,
  host: ProcessHost = process,
): Promise<never> {
  let args: A;
  try {
    args = spec.parse(argv);
  } catch (e) {
    if (isCommanderError(e)) return exitNow(host, e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? 0 : 2);
    host.stderr.write(`${spec.command}: ${isMrkvError(e) ? e.message : String(e)}\n`);
    return exitNow(host, 2);
  }
  if (args.printConfig) {
    host.stdout.write(JSON.stringify(spec.printedConfig(args), null, 2) + '\n');
    return exitNow(host, 0);
  }

  const { logger, flush } = spec.rootLogger(args);
  const exit = async (code: number): Promise<never> => {
    await flush();
    return exitNow(host, code);
  };
  failFastOnBugs(host, logger, exit);

  let running: R | undefined;
  let stopRequested = false;
  const stop = (): void => {
    if (running === undefined) return; // start-up finishes first, then stops
    void running.stop().then(
      (result) => {
        spec.stopped?.(result as Awaited<ReturnType<R['stop']>>, logger);
        return exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'error while stopping');
        return exit(1);
      },
    );
  };
  for (const [sig, num] of Object.entries(SIGNALS)) {
    host.on(sig, () => {
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

  logger.info(spec.startingFields(args), `${spec.command} starting`);
  try {
    running = await spec.start(args, logger);
  } catch (err) {
    logger.fatal({ err }, `${spec.command} failed to start`);
    return exit(1);
  }
  if (stopRequested) stop();
  return forever();
}

/** An uncaught exception or unhandled rejection is a bug: log it and exit 1 (fail fast). */
function failFastOnBugs(host: ProcessHost, logger: Logger, exit: (code: number) => Promise<never>): void {
  const die = (err: unknown, what: string) => {
    logger.fatal({ err, invariant: err instanceof InvariantViolation }, what);
    void exit(1);
  };
  host.on('uncaughtException', (err) => die(err, 'uncaught exception'));
  host.on('unhandledRejection', (err) => die(err, 'unhandled rejection'));
}

/** Commander's `CommanderError` (and `InvalidArgumentError`), by its documented `commander.*` code. */
function isCommanderError(e: unknown): e is Error & { code: string } {
  if (!(e instanceof Error)) return false;
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('commander.');
}

function exitNow(host: ProcessHost, code: number): Promise<never> {
  host.exit(code);
  return forever();
}

function forever(): Promise<never> {
  return new Promise<never>(() => {});
}
