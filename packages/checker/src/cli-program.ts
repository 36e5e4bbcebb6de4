/**
 * The `check-history` command: reads history files, checks them, prints a verdict per file with
 * the explanation of any violation, and exits 0 (all linearizable), 1 (some history is not
 * linearizable), 2 (usage or parse error) or 3 (undecided within the time budget).
 *
 * `runCli` takes its argv and output streams as arguments so tests can call it in-process.
 */
import { readFile } from 'node:fs/promises';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { isMrkvError } from '@mrkv/common';
import { checkOperations } from './check.js';
import { detectFormat, HISTORY_FORMATS, isHistoryFormat, parseHistory } from './formats/index.js';
import type { HistoryFormat } from './formats/index.js';
import { formatResult, resultToJson, verdictText } from './report.js';
import type { Verdict } from './result.js';

export const ExitCodes = {
  LINEARIZABLE: 0,
  NOT_LINEARIZABLE: 1,
  USAGE_OR_PARSE_ERROR: 2,
  UNKNOWN: 3,
} as const;

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

interface CliOptions {
  readonly format: 'auto' | HistoryFormat;
  readonly timeout: number;
  readonly explainTimeout: number;
  readonly explain: boolean;
  readonly json: boolean;
  readonly quiet: boolean;
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number of seconds.');
  return n;
}

function buildProgram(io: CliIo): Command {
  return new Command()
    .name('check-history')
    .description('Check recorded histories for linearizability.')
    .argument('<files...>', 'history files')
    .addOption(
      new Option('-f, --format <format>', 'history format (auto: guess from the first line)')
        .choices(['auto', ...HISTORY_FORMATS])
        .default('auto'),
    )
    .option('-t, --timeout <seconds>', 'search budget per file; exit 3 when it runs out', seconds, 60)
    .option('--explain-timeout <seconds>', 'budget for narrowing down a violation', seconds, 5)
    .option('--no-explain', 'do not explain violations')
    .option('--json', 'print one JSON result per file instead of the text report', false)
    .option('-q, --quiet', 'print only the verdict', false)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) })
    .showHelpAfterError('(run with --help for usage)');
}

type FileOutcome = Verdict | 'error';

async function checkFile(file: string, options: CliOptions, multi: boolean, io: CliIo): Promise<FileOutcome> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    io.stderr(`check-history: cannot read ${file}: ${(e as Error).message}\n`);
    return 'error';
  }
  try {
    const format = options.format === 'auto' ? detectFormat(text, file) : options.format;
    const parsed = parseHistory(format, text, file);
    if (parsed.operations.length === 0) {
      io.stderr(`check-history: ${file}: no operations found in ${format} format (is --format right?)\n`);
      return 'error';
    }
    const result = checkOperations(parsed.model, parsed.operations, {
      timeoutMs: options.timeout * 1000,
      explain: options.explain,
      explainTimeoutMs: options.explainTimeout * 1000,
    });
    if (options.json) {
      io.stdout(`${resultToJson({ file, format, ...result } as typeof result)}\n`);
    } else if (options.quiet) {
      io.stdout(`${multi ? `${file}: ` : ''}${verdictText(result.verdict)}\n`);
    } else {
      const report = formatResult(result, { times: format === 'mrkv-jsonl' ? 'clock' : 'lines' });
      io.stdout(`${multi ? `${file}: ` : ''}${report}\n`);
    }
    return result.verdict;
  } catch (e) {
    if (!isMrkvError(e)) throw e;
    io.stderr(`check-history: ${e.message}\n`);
    return 'error';
  }
}

/** Runs the command line `argv` (without node and script). Resolves to the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? 0 : ExitCodes.USAGE_OR_PARSE_ERROR;
    }
    throw e;
  }
  const files = program.processedArgs[0] as string[];
  const raw = program.opts<CliOptions>();
  if (raw.format !== 'auto' && !isHistoryFormat(raw.format)) return ExitCodes.USAGE_OR_PARSE_ERROR;
  const outcomes: FileOutcome[] = [];
  for (const file of files) outcomes.push(await checkFile(file, raw, files.length > 1, io));
  if (outcomes.includes('error')) return ExitCodes.USAGE_OR_PARSE_ERROR;
  if (outcomes.includes('not-linearizable')) return ExitCodes.NOT_LINEARIZABLE;
  if (outcomes.includes('unknown')) return ExitCodes.UNKNOWN;
  return ExitCodes.LINEARIZABLE;
}
