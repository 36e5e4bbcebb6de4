/**
 * Command-line flags of `mrkv-store` (commander). Each flag is a shortcut for one config key
 * (see config.ts), so a flag and a config-file key can never disagree about meaning; `--set
 * <key>=<value>` reaches any other key. Precedence: defaults < `--config` file < flags.
 */
import { Command, CommanderError, Option } from 'commander';
import { loadStoreConfig, type StoreConfig } from './config.js';

/** One flag: its commander spelling, the config key it sets, and its help text. */
interface FlagSpec {
  readonly flag: string;
  readonly key: string;
  readonly help: string;
}

/** The flags, in `--help` order. Keys are dotted kebab-case config paths. */
export const STORE_FLAGS: readonly FlagSpec[] = [
  { flag: '--addr <host:port>', key: 'server.addr', help: 'gRPC listen address for clients and peer stores (port 0 = any free port)' },
  { flag: '--advertise-addr <host:port>', key: 'server.advertise-addr', help: 'gRPC address registered with PD (default: --addr)' },
  { flag: '--status-addr <host:port>', key: 'server.status-addr', help: 'HTTP status listen address (/metrics, /status, /ready)' },
  {
    flag: '--advertise-status-addr <host:port>',
    key: 'server.advertise-status-addr',
    help: 'status address registered with PD (default: --status-addr)',
  },
  { flag: '--pd <endpoints>', key: 'pd.endpoints', help: 'PD endpoints, comma-separated host:port list' },
  { flag: '--data-dir <path>', key: 'storage.data-dir', help: 'data directory (store ident, engines, snapshots, lock)' },
  { flag: '--labels <k=v,...>', key: 'server.labels', help: 'store labels for placement, e.g. zone=z1,host=h1' },
  { flag: '--raft-pool-size <n>', key: 'raftstore.raft-pool-size', help: 'raft worker threads' },
  { flag: '--apply-pool-size <n>', key: 'raftstore.apply-pool-size', help: 'apply worker threads' },
  { flag: '--raftstore-thread <worker|main>', key: 'raftstore.thread', help: 'run the raftstore on its own worker thread, or on the main thread' },
  { flag: '--raft-base-tick-ms <ms>', key: 'raftstore.raft-base-tick-ms', help: 'length of one raft tick' },
  { flag: '--raft-election-timeout-ticks <n>', key: 'raftstore.raft-election-timeout-ticks', help: 'election timeout in ticks' },
  { flag: '--raft-heartbeat-ticks <n>', key: 'raftstore.raft-heartbeat-ticks', help: 'leader heartbeat interval in ticks' },
  { flag: '--max-leader-lease-ms <ms>', key: 'raftstore.max-leader-lease-ms', help: 'leader lease (≤ election timeout − 1 tick)' },
  { flag: '--max-key-size <size>', key: 'limits.max-key-size', help: 'largest key, e.g. 8KiB' },
  { flag: '--max-value-size <size>', key: 'limits.max-value-size', help: 'largest value, e.g. 8MiB' },
  { flag: '--max-batch-keys <n>', key: 'limits.max-batch-keys', help: 'keys or pairs in one batch request' },
  { flag: '--max-batch-bytes <size>', key: 'limits.max-batch-bytes', help: 'bytes of keys and values in one batch request' },
  { flag: '--max-scan-limit <n>', key: 'limits.max-scan-limit', help: 'largest RawScan limit' },
  { flag: '--raft-entry-max-size <size>', key: 'limits.raft-entry-max-size', help: 'largest raft entry (RaftEntryTooLarge beyond)' },
  { flag: '--max-inflight-requests <n>', key: 'server.max-inflight-requests', help: 'requests served at once before ServerIsBusy' },
  {
    flag: '--graceful-shutdown-timeout-ms <ms>',
    key: 'server.graceful-shutdown-timeout-ms',
    help: 'how long SIGTERM waits for in-flight requests',
  },
  { flag: '--log-level <level>', key: 'log.level', help: 'trace | debug | info | warn | error | fatal | silent' },
  { flag: '--log-file <path>', key: 'log.file', help: 'write JSON log lines to this file instead of stdout' },
];

/** What the command line asks for. */
export interface StoreArgs {
  config: StoreConfig;
  /** The config file given with --config, if any. */
  configFile: string | undefined;
  /** `--print-config`: print the effective config as JSON and exit. */
  printConfig: boolean;
}

/** Where commander writes help and errors (tests capture them). */
export interface CliOutput {
  writeOut(s: string): void;
  writeErr(s: string): void;
}

/** The commander program; `parseStoreArgs` is the way to use it. */
export function storeCommand(out?: CliOutput): Command {
  const cmd = new Command('mrkv-store')
    .description('mrkv store: RawKV over Multi-Raft, wire-compatible with TiKV clients')
    .option('--config <file>', 'config file (TOML or JSON; kebab-case keys, see README)')
    .addOption(
      new Option('--set <key=value>', 'set any config key, e.g. --set transport.queue-max-messages=4096 (repeatable)')
        .argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v])
        .default(undefined),
    )
    .option('--print-config', 'print the effective config as JSON and exit')
    .exitOverride()
    .allowExcessArguments(false);
  for (const f of STORE_FLAGS) cmd.option(f.flag, `${f.help} [${f.key}]`);
  if (out) cmd.configureOutput({ writeOut: out.writeOut, writeErr: out.writeErr });
  return cmd;
}

/**
 * Parses `argv` (without the node and script entries) into the effective config. Throws
 * `CommanderError` for bad flags and for --help (code `commander.helpDisplayed`), and
 * `MrkvError(KV:Common:InvalidConfig)` for bad values, naming the config key.
 */
export function parseStoreArgs(argv: readonly string[], out?: CliOutput): StoreArgs {
  const cmd = storeCommand(out);
  cmd.parse([...argv], { from: 'user' });
  const opts = cmd.opts<Record<string, unknown>>();
  const flags: Record<string, unknown> = {};
  for (const f of STORE_FLAGS) {
    const name = f.flag.slice(2).split(' ')[0]!;
    const value = opts[camel(name)];
    if (value !== undefined) flags[f.key] = value;
  }
  for (const kv of (opts.set as string[] | undefined) ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new CommanderError(2, 'mrkv.badSet', `--set expects key=value, got ${JSON.stringify(kv)}`);
    flags[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  const configFile = opts.config as string | undefined;
  return { config: loadStoreConfig({ file: configFile, flags }), configFile, printConfig: opts.printConfig === true };
}

function camel(s: string): string {
  return s.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}
