#!/usr/bin/env node
/**
 * `mrkv-playground` (`pnpm playground`): starts PD and N stores on loopback, prints the endpoints
 * and commands to try, shows a live one-line status, and stops everything on SIGINT or SIGTERM.
 * Exit codes: 0 after a clean stop · 1 start-up failure or a child that died · 2 bad flags ·
 * 130/143 a second signal while stopping.
 */
import type { Logger, LogFn } from '@mrkv/common';
import { parsePlaygroundArgs } from './args.js';
import { PlaygroundCodes, PlaygroundError } from './errors.js';
import { startPlayground, type Playground } from './playground.js';
import { formatScatterReport } from './scatter.js';
import { formatStatus } from './status-line.js';

/** Status refresh period. */
const STATUS_EVERY_MS = 2000;

/** A plain-text logger on stderr for the playground's own progress lines. */
function consoleLogger(): Logger {
  const at =
    (enabled: boolean): LogFn =>
    (a: Record<string, unknown> | string, msg?: string) => {
      if (!enabled) return;
      process.stderr.write(`playground: ${typeof a === 'string' ? a : (msg ?? '')}\n`);
    };
  const logger: Logger = {
    trace: at(false),
    debug: at(false),
    info: at(true),
    warn: at(true),
    error: at(true),
    fatal: at(true),
    child: () => logger,
    isLevelEnabled: (l) => l !== 'trace' && l !== 'debug',
  };
  return logger;
}

function printReady(pg: Playground): void {
  const { layout } = pg;
  const lines = [
    `PD: ${pg.pdAddress}`,
    `PD status: http://${layout.host}:${layout.pd.statusPort}`,
    ...layout.stores.map((s) => `${s.name}: ${s.addr} (status http://${s.statusAddr})`),
    `data and logs: ${layout.dir}`,
    ...(pg.scatter === undefined ? [] : [formatScatterReport(pg.scatter)]),
    '',
    'Try:',
    `  pnpm ctl --pd ${pg.pdAddress} store list`,
    `  pnpm ctl --pd ${pg.pdAddress} region list`,
    `  pnpm bench cluster --target mrkv --pd ${pg.pdAddress} --workload raw-put --value-size 256 --concurrency 64 --duration 10s`,
    '',
    'Ctrl-C stops the cluster.',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

async function main(): Promise<number> {
  const args = parsePlaygroundArgs(process.argv.slice(2));
  if (args.helpShown) return 0;
  const abort = new AbortController();
  let pg: Playground | undefined;
  let stopping: Promise<number> | undefined;
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      process.stderr.write(`\nplayground: second ${sig}, exiting without waiting for the children\n`);
      process.exit(sig === 'SIGINT' ? 130 : 143);
    }
    process.stderr.write(`\nplayground: ${sig}, stopping…\n`);
    abort.abort(new PlaygroundError(PlaygroundCodes.CANCELLED, `received ${sig}`));
    stopping ??= (pg ? pg.stop() : Promise.resolve()).then(() => 0);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const dir = args.dir;
  process.stderr.write(`playground: ${args.stores} stores, data in ${dir}${args.clean ? ' (cleaned)' : ''}\n`);
  try {
    pg = await startPlayground({
      stores: args.stores,
      dir,
      basePort: args.basePort,
      regions: args.regions,
      scatter: args.scatter,
      clean: args.clean,
      readyTimeoutMs: args.timeoutMs,
      storeArgs: args.storeArgs,
      logger: consoleLogger(),
      signal: abort.signal,
    });
  } catch (e) {
    if (e instanceof PlaygroundError && e.code === PlaygroundCodes.CANCELLED) return 0;
    throw e;
  }
  if (stopping) return stopping;
  printReady(pg);

  const tty = process.stdout.isTTY === true;
  let last = '';
  const timer = setInterval(() => {
    void pg!.status().then((s) => {
      if (stopping) return;
      const line = formatStatus(s);
      if (tty) process.stdout.write(`\r\x1b[K${line}`);
      else if (line !== last) process.stdout.write(`${line}\n`);
      last = line;
    });
  }, STATUS_EVERY_MS);

  const failed = pg.failure.then(async (err) => {
    process.stderr.write(`\nplayground: ${err.message}\n`);
    await pg!.stop();
    return 1;
  });
  const done = new Promise<number>((resolve) => {
    const check = setInterval(() => {
      if (stopping) {
        clearInterval(check);
        resolve(stopping);
      }
    }, 100);
  });
  const code = await Promise.race([failed, done]);
  clearInterval(timer);
  if (tty) process.stdout.write('\n');
  process.stderr.write('playground: stopped\n');
  return code;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    const code = e instanceof PlaygroundError && e.code === PlaygroundCodes.INVALID_ARGUMENT ? 2 : 1;
    process.stderr.write(`playground: ${e instanceof PlaygroundError ? `[${e.code}] ${e.message}` : e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(code);
  },
);
