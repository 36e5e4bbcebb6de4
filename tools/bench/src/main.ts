#!/usr/bin/env node
/**
 * `mrkv-bench` (`pnpm bench cluster …`): runs one workload against each `--target` in turn and
 * prints a table side by side, then one JSON line (report.ts). Progress goes to stderr.
 * Exit codes: 0 every target ran · 1 a target failed (the others are still reported) · 2 bad flags.
 */
import type { Logger, LogFn } from '@mrkv/common';
import { parseBenchArgs } from './args.js';
import { BenchCodes, BenchError } from './errors.js';
import { reportJson, reportText } from './report.js';
import { runBench } from './runner.js';

/** A plain-text logger on stderr for set-up and tear-down steps. */
function stderrLogger(): Logger {
  const at =
    (enabled: boolean): LogFn =>
    (a: Record<string, unknown> | string, msg?: string) => {
      if (enabled) process.stderr.write(`bench: ${typeof a === 'string' ? a : (msg ?? '')}\n`);
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

async function main(argv: readonly string[]): Promise<number> {
  const opts = parseBenchArgs(argv);
  if (opts.helpShown) return 0;
  const report = await runBench(opts, { logger: stderrLogger() });
  process.stdout.write(reportText(report) + '\n');
  process.stdout.write(JSON.stringify(reportJson(report)) + '\n');
  return report.results.every((r) => r.ok) ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    const code = e instanceof BenchError && e.code === BenchCodes.INVALID_ARGUMENT ? 2 : 1;
    process.stderr.write(`bench: ${e instanceof BenchError ? `[${e.code}] ${e.message}` : e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(code);
  },
);
