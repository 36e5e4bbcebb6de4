/**
 * Command-line flags of `mrkv-pd` (commander). Each flag sets one config key (config.ts);
 * `--set <key>=<value>` reaches any other key, `--schedule <key>=<value>` any scheduling key.
 * Precedence: defaults < `--config` file < flags.
 */
import { Command, CommanderError, Option } from 'commander';
import { loadPdConfig, scheduleOverrides, type PdConfig } from './config.js';

interface FlagSpec {
  readonly flag: string;
  readonly key: string;
  readonly help: string;
}

/** The flags, in `--help` order. */
export const PD_FLAGS: readonly FlagSpec[] = [
  { flag: '--name <name>', key: 'name', help: 'member name' },
  { flag: '--data-dir <path>', key: 'data-dir', help: 'data directory (metadata engine in <data-dir>/meta)' },
  { flag: '--client-urls <host:port>', key: 'client-urls', help: 'gRPC listen address for stores, clients and mrkv-ctl (port 0 = any)' },
  { flag: '--advertise-client-urls <host:port>', key: 'advertise-client-urls', help: 'address GetMembers advertises (default: --client-urls)' },
  { flag: '--status-addr <host:port>', key: 'status-addr', help: 'HTTP status listen address (/metrics, /status, /ready)' },
  { flag: '--tick-interval-ms <ms>', key: 'tick-interval-ms', help: 'how often scheduling work runs' },
  { flag: '--log-level <level>', key: 'log.level', help: 'trace | debug | info | warn | error | fatal | silent' },
  { flag: '--log-file <path>', key: 'log.file', help: 'write JSON log lines to this file instead of stdout' },
];

export interface PdArgs {
  config: PdConfig;
  configFile: string | undefined;
  printConfig: boolean;
}

/** Where commander writes help and errors. */
export interface CliOutput {
  writeOut(s: string): void;
  writeErr(s: string): void;
}

const repeatable = (v: string, prev: string[] | undefined) => [...(prev ?? []), v];

/** The commander program; `parsePdArgs` is the way to use it. */
export function pdCommand(out?: CliOutput): Command {
  const cmd = new Command('mrkv-pd')
    .description('mrkv placement driver: cluster metadata, ids, timestamps and scheduling (kvproto pdpb.PD)')
    .option('--config <file>', 'config file (TOML or JSON; kebab-case keys, see README)')
    .option('--status-port <port>', 'HTTP status port on 127.0.0.1 (shortcut for --status-addr 127.0.0.1:<port>)')
    .addOption(new Option('--set <key=value>', 'set any config key (repeatable)').argParser(repeatable).default(undefined))
    .addOption(new Option('--schedule <key=value>', 'force a scheduling key at start, e.g. max-store-down-time=5s (repeatable)').argParser(repeatable).default(undefined))
    .option('--print-config', 'print the effective config as JSON and exit')
    .exitOverride()
    .allowExcessArguments(false);
  for (const f of PD_FLAGS) cmd.option(f.flag, `${f.help} [${f.key}]`);
  if (out) cmd.configureOutput({ writeOut: out.writeOut, writeErr: out.writeErr });
  return cmd;
}

function pairs(list: string[] | undefined, flag: string): Array<[string, string]> {
  return (list ?? []).map((kv) => {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new CommanderError(2, 'mrkv.badSet', `${flag} expects key=value, got ${JSON.stringify(kv)}`);
    return [kv.slice(0, eq), kv.slice(eq + 1)];
  });
}

/**
 * Parses `argv` (no node/script entries) into the effective config. Throws CommanderError for bad
 * flags and --help, MrkvError(KV:Common:InvalidConfig) for bad values.
 */
export function parsePdArgs(argv: readonly string[], out?: CliOutput): PdArgs {
  const cmd = pdCommand(out);
  cmd.parse([...argv], { from: 'user' });
  const opts = cmd.opts<Record<string, unknown>>();
  const flags: Record<string, unknown> = {};
  for (const f of PD_FLAGS) {
    const name = f.flag.slice(2).split(' ')[0]!.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
    if (opts[name] !== undefined) flags[f.key] = opts[name];
  }
  if (opts.statusPort !== undefined) {
    const port = String(opts.statusPort);
    if (!/^\d{1,5}$/.test(port)) throw new CommanderError(2, 'mrkv.badPort', `--status-port expects a port number, got ${JSON.stringify(port)}`);
    flags['status-addr'] = `127.0.0.1:${port}`;
  }
  for (const [k, v] of pairs(opts.set as string[] | undefined, '--set')) flags[k] = v;
  const config = loadPdConfig({ file: opts.config as string | undefined, flags });
  for (const [k, v] of pairs(opts.schedule as string[] | undefined, '--schedule')) config.schedule[k] = v;
  scheduleOverrides(config); // validates the --schedule keys with the file's
  return { config, configFile: opts.config as string | undefined, printConfig: opts.printConfig === true };
}
