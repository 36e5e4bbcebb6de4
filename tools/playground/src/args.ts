/**
 * `mrkv-playground` flags: `[--stores N] [--dir D] [--base-port P] [--regions K] [--clean]`
 * (issue 8's command contract), plus `--no-scatter`, `--timeout` and `--store-arg`.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { PlaygroundCodes, PlaygroundError } from './errors.js';

/** Parsed flags. */
export interface PlaygroundArgs {
  readonly stores: number;
  readonly dir: string;
  readonly basePort: number;
  readonly regions: number;
  /** Scatter the pre-split regions over the stores (`--no-scatter` turns it off). */
  readonly scatter: boolean;
  readonly clean: boolean;
  /** Start-up deadline, ms. */
  readonly timeoutMs: number;
  /** Extra flags passed to every store. */
  readonly storeArgs: readonly string[];
  /** Set when the command only printed help or its version. */
  readonly helpShown?: boolean;
}

function int(min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < min || n > max) throw new InvalidArgumentError(`expected an integer in ${min}..${max}`);
    return n;
  };
}

/** Parses `argv` (without node and the script). Throws INVALID_ARGUMENT with commander's message. */
export function parsePlaygroundArgs(argv: readonly string[], write: (s: string) => void = (s) => process.stdout.write(s)): PlaygroundArgs {
  const cmd = new Command('mrkv-playground')
    .description('Start PD and N mrkv stores on loopback; Ctrl-C stops them.')
    .option('--stores <n>', 'stores to start', int(1, 64), 3)
    .option('--dir <path>', 'data and logs directory (reused unless --clean)', './.playground')
    .option('--base-port <port>', 'PD port; stores on the next ports, status ports from +100 (0: any free ports)', int(0, 65535), 2379)
    .option('--regions <k>', 'pre-split the key space into k regions', int(1, 4096), 1)
    .option('--no-scatter', 'leave the pre-split regions where the split put them (default: PD scatters them)')
    .option('--clean', 'remove the directory first', false)
    .option('--timeout <seconds>', 'start-up deadline', int(1, 3600), 60)
    .option('--store-arg <flag>', 'extra flag for every store (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .exitOverride()
    .configureOutput({ writeOut: write, writeErr: write });
  try {
    cmd.parse([...argv], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError && (e.code === 'commander.helpDisplayed' || e.code === 'commander.version')) {
      return { stores: 0, dir: '', basePort: 0, regions: 0, scatter: false, clean: false, timeoutMs: 0, storeArgs: [], helpShown: true };
    }
    throw new PlaygroundError(PlaygroundCodes.INVALID_ARGUMENT, e instanceof Error ? e.message : String(e), { cause: e });
  }
  const o = cmd.opts<{ stores: number; dir: string; basePort: number; regions: number; scatter: boolean; clean: boolean; timeout: number; storeArg: string[] }>();
  return { stores: o.stores, dir: o.dir, basePort: o.basePort, regions: o.regions, scatter: o.scatter, clean: o.clean, timeoutMs: o.timeout * 1000, storeArgs: o.storeArg.flatMap((a) => a.split(' ')) };
}
