/**
 * The mrkv-ctl command tree (commander). Every action talks to PD's admin service through one
 * AdminClient and prints a table, or JSON with `--json`.
 *
 *   store list|show <id>|delete <id> [--force]
 *   region list [--start k] [--end k] [--limit n] [--store id] | show <id> | key <key>
 *   region check down-peer|pending-peer|miss-peer|extra-peer|learner-peer|offline-peer
 *   operator add transfer-leader <region> <store> | add-peer <region> <store>
 *                | remove-peer <region> <store> | split <region> [--policy p] [--key k...]
 *                | merge <source> <target>
 *                | scatter [--start k] [--end k] | [--region id...] [--group g]
 *   operator list [--history] [--region id] | cancel <region>
 *   scheduler list | add <name> | remove <name>
 *   config show | set <key> <value>
 *   cluster status
 *   tso [<timestamp>]
 */
import { Command, CommanderError } from 'commander';
import type { pdadmin } from '@mrkv/proto';
import { AdminClient } from './client.js';
import { CtlError, CtlErrorCodes } from './errors.js';
import {
  clusterFields,
  clusterJson,
  configTable,
  operatorJson,
  operatorsTable,
  regionFields,
  regionJson,
  regionsTable,
  scatterJson,
  scatterText,
  schedulersTable,
  storeFields,
  storeJson,
  storesTable,
} from './format.js';
import { parseKey } from './keys.js';

/** Where ctl writes (tests capture it). */
export interface CtlIo {
  out(s: string): void;
  err(s: string): void;
}

export const stdio: CtlIo = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };

interface Globals {
  pd: string;
  json: boolean;
  timeout: string;
}

const CHECKS = ['down-peer', 'pending-peer', 'miss-peer', 'extra-peer', 'learner-peer', 'offline-peer'];
const POLICIES = ['scan', 'approximate', 'usekey'];

/** A positive integer argument, or a usage error naming it. */
export function parseId(text: string, what: string): number {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text)) || Number(text) === 0) {
    throw new CtlError(CtlErrorCodes.USAGE, `${what} must be a positive integer, got ${JSON.stringify(text)}`);
  }
  return Number(text);
}

/** physical << 18 | logical, decoded. */
export function decodeTso(text: string): { physical: number; logical: number; time: string } {
  if (!/^\d+$/.test(text)) throw new CtlError(CtlErrorCodes.USAGE, `a timestamp is a decimal integer, got ${JSON.stringify(text)}`);
  const v = BigInt(text);
  const physical = Number(v >> 18n);
  return { physical, logical: Number(v & ((1n << 18n) - 1n)), time: new Date(physical).toISOString() };
}

export function buildProgram(io: CtlIo, run: (fn: (c: AdminClient, g: Globals) => Promise<void>) => Promise<void>): Command {
  const program = new Command('mrkv-ctl')
    .description('mrkv admin CLI: stores, regions, operators, schedulers and config of an mrkv cluster, through PD')
    .option('--pd <addr>', 'PD address (host:port or http://host:port)', '127.0.0.1:2379')
    .option('--json', 'print JSON instead of tables (for scripts)', false)
    .option('--timeout <ms>', 'deadline of each call to PD', '5000')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError();

  const print = (g: Globals, json: unknown, text: string) => io.out(g.json ? JSON.stringify(json, null, 2) + '\n' : text + '\n');

  const store = program.command('store').description('stores: list, show, delete');
  store
    .command('list')
    .description('every store with its status and load')
    .option('--exclude-tombstone', 'leave tombstone stores out')
    .action((o: { excludeTombstone?: boolean }) =>
      run(async (c, g) => {
        const r = await c.call<pdadmin.ListStoresResponse__Output>('ListStores', { excludeTombstone: o.excludeTombstone === true });
        print(g, r.stores.map(storeJson), storesTable(r.stores));
      }),
    );
  store
    .command('show <store-id>')
    .description('one store in detail')
    .action((id: string) =>
      run(async (c, g) => {
        const v = await c.call<pdadmin.StoreView__Output>('GetStore', { storeId: parseId(id, 'store id') });
        print(g, storeJson(v), storeFields(v));
      }),
    );
  store
    .command('delete <store-id>')
    .description('drain a store (Offline until its replicas moved, then Tombstone); --force buries it at once')
    .option('--force', 'make it Tombstone now (a store that will never come back)')
    .action((id: string, o: { force?: boolean }) =>
      run(async (c, g) => {
        const v = await c.call<pdadmin.StoreView__Output>('DeleteStore', { storeId: parseId(id, 'store id'), force: o.force === true });
        print(g, storeJson(v), `store ${storeJson(v).id} is now ${v.status}`);
      }),
    );

  const region = program.command('region').description('regions: list, show, key, check');
  region
    .command('list')
    .description('regions in key order')
    .option('--start <key>', 'first key (text, 0x hex or b64:base64)')
    .option('--end <key>', 'end key, exclusive')
    .option('--limit <n>', 'at most n regions')
    .option('--store <id>', 'only regions with a peer on this store')
    .action((o: { start?: string; end?: string; limit?: string; store?: string }) =>
      run(async (c, g) => {
        const r = await c.call<pdadmin.ListRegionsResponse__Output>('ListRegions', {
          startKey: o.start === undefined ? Buffer.alloc(0) : parseKey(o.start),
          endKey: o.end === undefined ? Buffer.alloc(0) : parseKey(o.end),
          limit: o.limit === undefined ? 0 : parseId(o.limit, '--limit'),
          storeId: o.store === undefined ? 0 : parseId(o.store, '--store'),
        });
        print(g, { total: Number(r.total), regions: r.regions.map(regionJson) }, `${regionsTable(r.regions)}\n${r.regions.length} of ${Number(r.total)} region(s)`);
      }),
    );
  region
    .command('show <region-id>')
    .description('one region in detail')
    .action((id: string) =>
      run(async (c, g) => {
        const v = await c.call<pdadmin.RegionView__Output>('GetRegion', { regionId: parseId(id, 'region id') });
        print(g, regionJson(v), regionFields(v));
      }),
    );
  region
    .command('key <key>')
    .description('the region holding a key (text, 0x hex or b64:base64)')
    .action((key: string) =>
      run(async (c, g) => {
        const v = await c.call<pdadmin.RegionView__Output>('GetRegionByKey', { key: parseKey(key) });
        print(g, regionJson(v), regionFields(v));
      }),
    );
  region
    .command('check <kind>')
    .description(`regions with problems: ${CHECKS.join(' | ')}`)
    .action((kind: string) =>
      run(async (c, g) => {
        if (!CHECKS.includes(kind)) throw new CtlError(CtlErrorCodes.USAGE, `unknown check ${JSON.stringify(kind)}; use one of ${CHECKS.join(', ')}`);
        const r = await c.call<pdadmin.ListRegionsResponse__Output>('CheckRegions', { check: kind });
        print(g, { check: kind, regions: r.regions.map(regionJson) }, `${regionsTable(r.regions)}\n${r.regions.length} region(s) with ${kind}`);
      }),
    );

  const operator = program.command('operator').description('operators: add, list, cancel');
  const add = operator.command('add').description('add an operator by hand (replaces a scheduler\'s operator on the region)');
  const addOp = (req: (args: string[], o: Record<string, unknown>) => object) => (...a: unknown[]) =>
    run(async (c, g) => {
      const cmd = a[a.length - 1] as Command;
      const v = await c.call<pdadmin.OperatorView__Output>('AddOperator', req(cmd.args, cmd.opts()));
      const j = operatorJson(v);
      print(g, j, `operator ${j.id} added: ${j.desc}\n${operatorsTable([v])}`);
    });
  add
    .command('transfer-leader <region-id> <to-store-id>')
    .description('move the leader to the voter on a store')
    .action(addOp(([r, s]) => ({ transferLeader: { regionId: parseId(r!, 'region id'), toStoreId: parseId(s!, 'store id') } })));
  add
    .command('add-peer <region-id> <store-id>')
    .description('add a voter on a store (learner first, then promoted)')
    .action(addOp(([r, s]) => ({ addPeer: { regionId: parseId(r!, 'region id'), storeId: parseId(s!, 'store id') } })));
  add
    .command('remove-peer <region-id> <store-id>')
    .description('remove the peer on a store (moving the leader away first if needed)')
    .action(addOp(([r, s]) => ({ removePeer: { regionId: parseId(r!, 'region id'), storeId: parseId(s!, 'store id') } })));
  add
    .command('split <region-id>')
    .description('split a region: at --key (repeatable), or by policy')
    .option('--policy <policy>', `${POLICIES.join(' | ')} (default: usekey with --key, else scan)`)
    .option('--key <key>', 'split key (repeatable; text, 0x hex or b64:base64)', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    .action(
      addOp(([r], o) => {
        const keys = ((o.key as string[] | undefined) ?? []).map(parseKey);
        const policy = String(o.policy ?? (keys.length > 0 ? 'usekey' : 'scan')).toLowerCase();
        if (!POLICIES.includes(policy)) throw new CtlError(CtlErrorCodes.USAGE, `unknown split policy ${JSON.stringify(policy)}; use ${POLICIES.join(', ')}`);
        return { split: { regionId: parseId(r!, 'region id'), policy: policy.toUpperCase(), keys } };
      }),
    );
  add
    .command('merge <source-region-id> <target-region-id>')
    .description('merge a region into its adjacent neighbour')
    .action(addOp(([s, t]) => ({ merge: { sourceRegionId: parseId(s!, 'source region id'), targetRegionId: parseId(t!, 'target region id') } })));
  add
    .command('scatter')
    .description('spread regions evenly over the Up stores, peers and leaders: a key range\'s (default: all), or --region ids')
    .option('--start <key>', 'first key of the range (text, 0x hex or b64:base64)')
    .option('--end <key>', 'end key, exclusive (default: the end of the key space)')
    .option('--region <id>', 'a region to scatter (repeatable; instead of a range)', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    .option('--group <name>', 'scatter group: its counts carry over between calls (default: the default group)', '')
    .action((o: { start?: string; end?: string; region?: string[]; group: string }) =>
      run(async (c, g) => {
        const regionIds = (o.region ?? []).map((r) => parseId(r, '--region'));
        if (regionIds.length > 0 && (o.start !== undefined || o.end !== undefined)) {
          throw new CtlError(CtlErrorCodes.USAGE, 'scatter takes --start/--end or --region, not both');
        }
        const r = await c.call<pdadmin.ScatterRegionsResponse__Output>('ScatterRegions', {
          startKey: o.start === undefined ? Buffer.alloc(0) : parseKey(o.start),
          endKey: o.end === undefined ? Buffer.alloc(0) : parseKey(o.end),
          regionIds,
          group: o.group,
        });
        print(g, scatterJson(r), scatterText(r));
      }),
    );
  operator
    .command('list')
    .description('running operators (with --history, recently finished ones too)')
    .option('--history', 'include finished operators')
    .option('--region <id>', 'only this region\'s')
    .action((o: { history?: boolean; region?: string }) =>
      run(async (c, g) => {
        const r = await c.call<pdadmin.ListOperatorsResponse__Output>('ListOperators', { includeHistory: o.history === true, regionId: o.region === undefined ? 0 : parseId(o.region, '--region') });
        print(g, r.operators.map(operatorJson), `${operatorsTable(r.operators)}\n${r.operators.length} operator(s)`);
      }),
    );
  operator
    .command('cancel <region-id>')
    .description('cancel the running operator of a region')
    .action((id: string) =>
      run(async (c, g) => {
        const v = await c.call<pdadmin.OperatorView__Output>('CancelOperator', { regionId: parseId(id, 'region id') });
        print(g, operatorJson(v), `operator ${Number(v.id)} on region ${Number(v.regionId)} cancelled`);
      }),
    );

  const scheduler = program.command('scheduler').description('schedulers and checkers: list, add, remove');
  scheduler
    .command('list')
    .description('every scheduler and checker, and whether it runs')
    .action(() =>
      run(async (c, g) => {
        const r = await c.call<pdadmin.ListSchedulersResponse__Output>('ListSchedulers', {});
        print(g, r.schedulers, schedulersTable(r.schedulers));
      }),
    );
  for (const [name, enabled] of [['add', true], ['remove', false]] as const) {
    scheduler
      .command(`${name} <name>`)
      .description(enabled ? 'turn a scheduler or checker on' : 'turn a scheduler or checker off')
      .action((n: string) =>
        run(async (c, g) => {
          const v = await c.call<pdadmin.SchedulerView__Output>('SetScheduler', { name: n, enabled });
          print(g, v, `${v.name} is ${v.enabled ? 'enabled' : 'disabled'}`);
        }),
      );
  }

  const config = program.command('config').description('scheduling config: show, set');
  config
    .command('show')
    .description('every config key with its value')
    .action(() =>
      run(async (c, g) => {
        const r = await c.call<pdadmin.ConfigResponse__Output>('GetConfig', {});
        print(g, Object.fromEntries(r.items.map((i) => [i.key, i.value])), configTable(r.items));
      }),
    );
  config
    .command('set <key> <value>')
    .description('change a key at run time (durations like 500ms, 20s, 30m)')
    .action((key: string, value: string) =>
      run(async (c, g) => {
        const r = await c.call<pdadmin.ConfigResponse__Output>('SetConfig', { key, value });
        const now = r.items.find((i) => i.key === key)!;
        print(g, { [now.key]: now.value }, `${now.key} = ${now.value}`);
      }),
    );

  program
    .command('cluster')
    .description('cluster: status')
    .command('status')
    .description('cluster id, store states, region health, running operators')
    .action(() =>
      run(async (c, g) => {
        const r = await c.call<pdadmin.ClusterStatusResponse__Output>('ClusterStatus', {});
        print(g, clusterJson(r), clusterFields(r));
      }),
    );

  program
    .command('tso [timestamp]')
    .description('a fresh timestamp from PD, or decode the given one')
    .action((ts: string | undefined) =>
      run(async (c, g) => {
        let composed: string;
        if (ts === undefined) composed = (await c.call<pdadmin.GetTsoResponse__Output>('GetTso', {})).composed;
        else composed = ts;
        const d = decodeTso(composed);
        print(g, { timestamp: composed, ...d }, `${composed}\nphysical: ${d.physical} (${d.time})\nlogical: ${d.logical}`);
      }),
    );
  return program;
}

/**
 * Runs mrkv-ctl with `argv` (no node/script entries); resolves with the exit code (0 ok, 1 PD
 * refused, 2 usage, 3 PD unreachable). Never throws.
 */
export async function runCtl(argv: readonly string[], io: CtlIo = stdio): Promise<number> {
  let client: AdminClient | undefined;
  let code = 0;
  const program = buildProgram(io, async (fn) => {
    const g = program.opts<Globals>();
    const timeout = Number(g.timeout);
    if (!Number.isSafeInteger(timeout) || timeout <= 0) throw new CtlError(CtlErrorCodes.USAGE, `--timeout must be a positive number of ms, got ${JSON.stringify(g.timeout)}`);
    client = new AdminClient(g.pd.replace(/^[a-z]+:\/\//, '').replace(/\/$/, '').split(',')[0]!, timeout);
    await fn(client, g);
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      code = e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help' ? 0 : 2;
    } else if (e instanceof CtlError) {
      code = e.exitCode;
      const pdCode = typeof e.details.pdCode === 'string' && e.details.pdCode !== '' ? ` [${e.details.pdCode}]` : '';
      io.err(`mrkv-ctl: error: ${e.message}${pdCode}\n`);
    } else {
      code = 1;
      io.err(`mrkv-ctl: unexpected error: ${(e as Error)?.stack ?? String(e)}\n`);
    }
  } finally {
    client?.close();
  }
  return code;
}
