/**
 * A local mrkv cluster in child processes: one PD and N stores on loopback (like `tiup
 * playground`).
 *
 * Start-up, in order:
 * 1. plan the layout (layout.ts), `--clean` wipes the directory, otherwise it is reused, so a
 *    playground started again on the same directory comes back with its data;
 * 2. check the ports are free, start PD and wait until it answers GetMembers;
 * 3. start the stores; wait until PD knows all of them and every region has a leader;
 * 4. `regions` > 1: split at `evenSplitKeys(regions)` through the leaders' SplitRegion and wait
 *    for leaders again;
 * 5. `regions` > 1 (unless `scatter: false`): ask PD to scatter the regions over the stores and
 *    wait, up to `scatterSettleMs`, for the moves to end (scatter.ts);
 * 6. smoke check: write a key and read it back through the region leader.
 * A child that exits meanwhile fails the start at once with its last log lines; so does the
 * deadline, naming the step it was waiting for. Either way every child is stopped first.
 *
 * Stop: SIGTERM to the stores, then PD, each followed by SIGKILL after a grace period.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { noopLogger, type Logger } from '@mrkv/common';
import { Child } from './child.js';
import { ClusterView, type RegionView } from './cluster-view.js';
import { PlaygroundCodes, PlaygroundError } from './errors.js';
import { evenSplitKeys, layoutPorts, planLayout, type Layout } from './layout.js';
import { assertPortsFree } from './ports.js';
import { scatterPresplit, type ScatterReport } from './scatter.js';

/** The repository root (this file is tools/playground/{src,dist}/playground.*). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const RUNNING_FROM_SOURCES = import.meta.url.endsWith('.ts');

/** Entry points of the services, from sources and compiled. */
export const ENTRIES = {
  pd: { source: 'services/pd/src/main.ts', compiled: 'services/pd/dist/main.js' },
  store: { source: 'services/store/src/main.ts', compiled: 'services/store/dist/main.js' },
} as const;

/** Options of {@link startPlayground}. */
export interface PlaygroundOptions {
  /** Stores to start (default 3). */
  readonly stores?: number;
  /** Playground directory (default `./.playground`, resolved against the working directory). */
  readonly dir?: string;
  /** PD's port; stores take the next ones (default 2379). 0: free ports anywhere. */
  readonly basePort?: number;
  /** Regions to pre-split the key space into (default 1: no split). */
  readonly regions?: number;
  /** Scatter the pre-split regions over the stores, peers and leaders (default true). */
  readonly scatter?: boolean;
  /** How long start-up waits for the scatter's moves to end (default 30 s, within the start deadline). */
  readonly scatterSettleMs?: number;
  /** Remove the directory's data first. */
  readonly clean?: boolean;
  /** Listen host (default 127.0.0.1). */
  readonly host?: string;
  /** How long start-up may take before NOT_READY (default 60 s). */
  readonly readyTimeoutMs?: number;
  /** How long a child gets after SIGTERM before SIGKILL (default 15 s). */
  readonly stopGraceMs?: number;
  /** Run the compiled `dist/` entries with plain node (default: when this module is compiled). */
  readonly compiled?: boolean;
  /** Extra flags for every store (e.g. `--raft-base-tick-ms 100`). */
  readonly storeArgs?: readonly string[];
  /** Start-up steps are logged here at info. */
  readonly logger?: Logger;
  /** Aborting cancels start-up (children are stopped; the start rejects with CANCELLED). */
  readonly signal?: AbortSignal;
}

/** A store's live state as the playground sees it. */
export interface StoreState {
  readonly name: string;
  readonly addr: string;
  readonly running: boolean;
  /** `/ready` answered 200. */
  readonly ready: boolean;
}

/** A snapshot of the cluster for the status line. */
export interface PlaygroundStatus {
  readonly pdUp: boolean;
  readonly stores: readonly StoreState[];
  /** Regions PD knows (undefined when PD did not answer). */
  readonly regions: number | undefined;
  /** Of those, how many have a leader. */
  readonly leaders: number | undefined;
}

/** A running playground. */
export interface Playground {
  readonly layout: Layout;
  /** PD's client address, `host:port`. */
  readonly pdAddress: string;
  /** What the scatter of the pre-split regions did (undefined when nothing was scattered). */
  readonly scatter: ScatterReport | undefined;
  /** Resolves with the first child that exits unexpectedly (never resolves otherwise). */
  readonly failure: Promise<PlaygroundError>;
  /** The cluster now (never throws; unanswered parts are marked). */
  status(): Promise<PlaygroundStatus>;
  /** Stops every child (idempotent). */
  stop(): Promise<void>;
}

/** Starts PD and the stores and waits until the cluster serves (module comment). */
export async function startPlayground(options: PlaygroundOptions = {}): Promise<Playground> {
  const opts = resolveOptions(options);
  const log = opts.logger.child({ component: 'playground' });
  if (opts.clean) rmSync(opts.dir, { recursive: true, force: true });
  mkdirSync(resolve(opts.dir, 'logs'), { recursive: true });
  const layout = await planLayout(opts.dir, opts.stores, opts.basePort, opts.host);
  if (opts.basePort !== 0) await assertPortsFree(layoutPorts(layout), opts.host);
  writeFileSync(resolve(opts.dir, 'playground.json'), JSON.stringify(layout, null, 2) + '\n');

  const children: Child[] = [];
  const view = new ClusterView(layout.pd.addr);
  const stopAll = async () => {
    view.close();
    await Promise.all(children.filter((c) => c.name !== 'pd').map((c) => c.stop(opts.stopGraceMs)));
    await Promise.all(children.filter((c) => c.name === 'pd').map((c) => c.stop(opts.stopGraceMs)));
  };
  const deadline = Date.now() + opts.readyTimeoutMs;
  const waitFor = <T>(what: string, probe: () => Promise<T | undefined>) => waitUntil(what, probe, children, deadline, options.signal);
  let scatter: ScatterReport | undefined;

  try {
    log.info({ dir: opts.dir, pd: layout.pd.addr }, 'starting PD');
    children.push(spawnService('pd', layout, opts));
    await waitFor('PD to answer GetMembers', async () => ((await view.getClusterId()) !== '0' ? true : undefined));
    log.info({ stores: layout.stores.map((s) => s.addr) }, 'starting stores');
    for (const slot of layout.stores) children.push(spawnService(slot.name, layout, opts, slot.index));
    await waitFor(`PD to know ${opts.stores} stores`, async () => ((await view.storeCount()) >= opts.stores ? true : undefined));
    await waitFor('every region to have a leader', () => allLed(view));
    if (opts.regions > 1) await presplit(view, opts.regions, waitFor);
    if (opts.regions > 1 && opts.scatter) {
      const pause = async () => {
        await assertAlive(children, options.signal);
        await new Promise((r) => setTimeout(r, 200));
      };
      scatter = await scatterPresplit(view, { settleMs: Math.min(opts.scatterSettleMs, Math.max(0, deadline - Date.now() - 5000)), pause, logger: log });
    }
    await waitFor('the smoke write and read', () => smoke(view));
    log.info({ pd: layout.pd.addr }, 'playground is ready');
  } catch (e) {
    await stopAll();
    throw e;
  }

  let stopped: Promise<void> | undefined;
  const failure = new Promise<PlaygroundError>((resolveFailure) => {
    for (const c of children) void c.exited.then(() => c.failed && resolveFailure(c.exitError()));
  });
  return {
    layout,
    pdAddress: layout.pd.addr,
    scatter,
    failure,
    status: () => clusterStatus(view, layout, children),
    stop: () => (stopped ??= stopAll()),
  };
}

interface ResolvedOptions {
  readonly stores: number;
  readonly dir: string;
  readonly basePort: number;
  readonly regions: number;
  readonly scatter: boolean;
  readonly scatterSettleMs: number;
  readonly clean: boolean;
  readonly host: string;
  readonly readyTimeoutMs: number;
  readonly stopGraceMs: number;
  readonly compiled: boolean;
  readonly storeArgs: readonly string[];
  readonly logger: Logger;
}

function resolveOptions(o: PlaygroundOptions): ResolvedOptions {
  const r: ResolvedOptions = {
    stores: o.stores ?? 3,
    dir: resolve(o.dir ?? '.playground'),
    basePort: o.basePort ?? 2379,
    regions: o.regions ?? 1,
    scatter: o.scatter ?? true,
    scatterSettleMs: o.scatterSettleMs ?? 30_000,
    clean: o.clean ?? false,
    host: o.host ?? '127.0.0.1',
    readyTimeoutMs: o.readyTimeoutMs ?? 60_000,
    stopGraceMs: o.stopGraceMs ?? 15_000,
    compiled: o.compiled ?? !RUNNING_FROM_SOURCES,
    storeArgs: o.storeArgs ?? [],
    logger: o.logger ?? noopLogger,
  };
  const bad = (msg: string) => new PlaygroundError(PlaygroundCodes.INVALID_ARGUMENT, msg);
  if (!Number.isInteger(r.stores) || r.stores < 1 || r.stores > 64) throw bad(`stores must be an integer in 1..64, got ${r.stores}`);
  if (!Number.isInteger(r.regions) || r.regions < 1 || r.regions > 4096) throw bad(`regions must be an integer in 1..4096, got ${r.regions}`);
  const top = r.basePort + 100 + r.stores;
  if (!Number.isInteger(r.basePort) || r.basePort < 0 || (r.basePort > 0 && (r.basePort < 1024 || top > 65535))) {
    throw bad(`base port must be 0 or leave room for ${r.stores} stores and status ports (1024..${65535 - 100 - r.stores}), got ${r.basePort}`);
  }
  return r;
}

/** Spawns PD (`index` undefined) or store `index` as a direct node child. */
function spawnService(name: string, layout: Layout, opts: ResolvedOptions, index?: number): Child {
  const kind = index === undefined ? 'pd' : 'store';
  const entry = opts.compiled ? ENTRIES[kind].compiled : ENTRIES[kind].source;
  if (opts.compiled && !existsSync(resolve(REPO_ROOT, entry))) {
    throw new PlaygroundError(PlaygroundCodes.CHILD_EXITED, `${name}: ${entry} does not exist (run \`pnpm build\` first)`, { details: { name } });
  }
  // From sources: tsx as node's loader, resolved from the repo root (the children's cwd).
  const node = opts.compiled ? [] : ['--conditions=@mrkv/source', '--import', 'tsx'];
  let flags: string[];
  if (index === undefined) {
    mkdirSync(layout.pd.dataDir, { recursive: true });
    flags = ['--data-dir', layout.pd.dataDir, '--client-urls', layout.pd.addr, '--status-port', String(layout.pd.statusPort)];
  } else {
    const s = layout.stores[index - 1]!;
    flags = ['--pd', layout.pd.addr, '--data-dir', s.dataDir, '--addr', s.addr, '--status-addr', s.statusAddr, ...opts.storeArgs];
  }
  const logFile = index === undefined ? layout.pd.logFile : layout.stores[index - 1]!.logFile;
  mkdirSync(dirname(logFile), { recursive: true });
  return new Child({ name, args: [...node, entry, ...flags], cwd: REPO_ROOT, logFile });
}

/**
 * Polls `probe` (errors count as "not yet") every 200 ms until it yields a value. Throws the exit
 * error of a child that died, or NOT_READY at the deadline with the last reason seen.
 */
async function waitUntil<T>(what: string, probe: () => Promise<T | undefined>, children: readonly Child[], deadline: number, signal?: AbortSignal): Promise<T> {
  for (;;) {
    await assertAlive(children, signal, what);
    let last = '';
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      if (e instanceof PlaygroundError) throw e;
      last = e instanceof Error ? e.message : String(e);
    }
    if (Date.now() > deadline) {
      throw new PlaygroundError(PlaygroundCodes.NOT_READY, `timed out waiting for ${what}${last ? ` (last: ${last})` : ''}`, { details: { waitingFor: what } });
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Throws CANCELLED if `signal` aborted, or the exit error of a child that died. */
async function assertAlive(children: readonly Child[], signal: AbortSignal | undefined, what = 'the scatter'): Promise<void> {
  if (signal?.aborted) throw new PlaygroundError(PlaygroundCodes.CANCELLED, `start-up cancelled while waiting for ${what}`, { cause: signal.reason });
  const dead = children.find((c) => !c.running);
  if (dead) {
    await dead.exited;
    throw dead.exitError();
  }
}

async function allLed(view: ClusterView): Promise<RegionView[] | undefined> {
  const regions = await view.regions();
  return regions.length > 0 && regions.every((r) => r.leader !== undefined) ? regions : undefined;
}

type WaitFor = <T>(what: string, probe: () => Promise<T | undefined>) => Promise<T>;

async function presplit(view: ClusterView, regions: number, waitFor: WaitFor): Promise<void> {
  const keys = evenSplitKeys(regions);
  let reason = '';
  await waitFor(`the pre-split into ${regions} regions`, async () => {
    const current = await view.regions();
    const starts = new Set(current.map((r) => Buffer.from(r.region.startKey).toString('hex')));
    const pending = keys.filter((k) => !starts.has(k.toString('hex')));
    if (pending.length === 0 && current.every((r) => r.leader)) return true;
    if (pending.length > 0) {
      const res = await view.splitAt(pending);
      reason = 'retry' in res ? res.retry : '';
    }
    if (reason) throw new Error(reason);
    return undefined;
  });
}

async function smoke(view: ClusterView): Promise<true | undefined> {
  const key = Buffer.from('playground/smoke');
  const value = Buffer.from(`ok ${new Date().toISOString()}`);
  const res = await view.putGet(key, value);
  if ('retry' in res) throw new Error(res.retry);
  if (Buffer.compare(Buffer.from(res.value), value) !== 0) {
    throw new PlaygroundError(PlaygroundCodes.SMOKE_FAILED, `smoke check: wrote ${JSON.stringify(value.toString())}, read back ${JSON.stringify(Buffer.from(res.value).toString())}`);
  }
  return true;
}

async function clusterStatus(view: ClusterView, layout: Layout, children: readonly Child[]): Promise<PlaygroundStatus> {
  const pd = children.find((c) => c.name === 'pd');
  const stores = await Promise.all(
    layout.stores.map(async (s) => {
      const child = children.find((c) => c.name === s.name);
      const ready = await fetch(`http://${s.statusAddr}/ready`, { signal: AbortSignal.timeout(1000) })
        .then((r) => r.status === 200)
        .catch(() => false);
      return { name: s.name, addr: s.addr, running: child?.running ?? false, ready };
    }),
  );
  const regions = await view.regions().catch(() => undefined);
  return {
    pdUp: pd?.running ?? false,
    stores,
    regions: regions?.length,
    leaders: regions?.filter((r) => r.leader).length,
  };
}
