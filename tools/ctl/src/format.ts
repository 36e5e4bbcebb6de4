/**
 * Output of mrkv-ctl: human tables (cli-table3, no colours, so they read the same in a terminal,
 * a pipe and a test) or, with `--json`, one JSON document per command for scripts. The JSON
 * shapes are built here from the admin views: numbers as numbers (64-bit values that may not fit
 * stay strings), keys both as display text and as hex.
 */
import Table from 'cli-table3';
import type { pdadmin } from '@mrkv/proto';
import { formatKey, keyHex } from './keys.js';

/** A plain table with `head` columns. */
export function table(head: string[], rows: Array<Array<string | number>>): string {
  const t = new Table({ head, style: { head: [], border: [], compact: true } });
  for (const r of rows) t.push(r.map(String));
  return t.toString();
}

/** Two columns of field / value. */
export function fields(pairs: Array<[string, string | number | boolean]>): string {
  const t = new Table({ style: { head: [], border: [], compact: true } });
  for (const [k, v] of pairs) t.push({ [k]: String(v) });
  return t.toString();
}

const num = (v: string | number | null | undefined): number => Number(v ?? 0);

type Peer = { id?: string | number; storeId?: string | number; role?: string | number } | null | undefined;

export function peerJson(p: Peer): { id: number; storeId: number; role: string } | null {
  return p == null ? null : { id: num(p.id as string), storeId: num(p.storeId as string), role: String(p.role ?? 'Voter') };
}

// ---- Stores ----

/** A store in `--json` output. */
export interface StoreJson {
  id: number;
  address: string;
  status: string;
  state: string;
  version: string;
  statusAddress: string;
  labels: Record<string, string>;
  regionCount: number;
  leaderCount: number;
  regionSizeMib: number;
  pendingPeerCount: number;
  capacity: number;
  available: number;
  lastHeartbeatAgoMs: number;
}

export function storeJson(s: pdadmin.StoreView__Output): StoreJson {
  const m = s.store!;
  return {
    id: num(m.id),
    address: m.address,
    status: s.status,
    state: String(m.state),
    version: m.version,
    statusAddress: m.statusAddress,
    labels: Object.fromEntries(m.labels.map((l) => [l.key, l.value])),
    regionCount: num(s.regionCount),
    leaderCount: num(s.leaderCount),
    regionSizeMib: num(s.regionSize),
    pendingPeerCount: num(s.pendingPeerCount),
    capacity: num(s.capacity),
    available: num(s.available),
    lastHeartbeatAgoMs: num(s.lastHeartbeatAgoMs),
  };
}

function bytes(n: number): string {
  if (n === 0) return '0';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  const i = Math.min(units.length - 1, Math.floor(Math.log2(n) / 10));
  return `${(n / 1024 ** i).toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

function ago(ms: number): string {
  return ms < 1000 ? `${ms}ms ago` : ms < 120_000 ? `${(ms / 1000).toFixed(1)}s ago` : `${Math.round(ms / 60_000)}m ago`;
}

export function storesTable(stores: pdadmin.StoreView__Output[]): string {
  return table(
    ['ID', 'ADDRESS', 'STATUS', 'REGIONS', 'LEADERS', 'SIZE(MiB)', 'AVAILABLE', 'LAST HEARTBEAT'],
    stores.map(storeJson).map((s) => [s.id, s.address, s.status, s.regionCount, s.leaderCount, s.regionSizeMib, bytes(s.available), ago(s.lastHeartbeatAgoMs)]),
  );
}

export function storeFields(v: pdadmin.StoreView__Output): string {
  const s = storeJson(v);
  return fields([
    ['id', s.id],
    ['address', s.address],
    ['status', s.status],
    ['state', s.state],
    ['version', s.version],
    ['status address', s.statusAddress],
    ['labels', Object.entries(s.labels).map(([k, x]) => `${k}=${x}`).join(',')],
    ['regions', s.regionCount],
    ['leaders', s.leaderCount],
    ['region size (MiB)', s.regionSizeMib],
    ['pending peers', s.pendingPeerCount],
    ['capacity', bytes(s.capacity)],
    ['available', bytes(s.available)],
    ['last heartbeat', ago(s.lastHeartbeatAgoMs)],
  ]);
}

// ---- Regions ----

type PeerJson = ReturnType<typeof peerJson>;

/** A region in `--json` output. */
export interface RegionJson {
  id: number;
  startKey: string;
  endKey: string;
  startKeyHex: string;
  endKeyHex: string;
  epoch: { version: number; confVer: number };
  peers: PeerJson[];
  leader: PeerJson;
  downPeers: Array<{ peer: PeerJson; downSeconds: number }>;
  pendingPeers: PeerJson[];
  approximateSize: number;
  approximateKeys: number;
  bytesWritten: number;
  bytesRead: number;
  keysWritten: number;
  keysRead: number;
  term: number;
  operator: string;
}

export function regionJson(v: pdadmin.RegionView__Output): RegionJson {
  const r = v.region!;
  return {
    id: num(r.id),
    startKey: formatKey(r.startKey),
    endKey: formatKey(r.endKey),
    startKeyHex: keyHex(r.startKey),
    endKeyHex: keyHex(r.endKey),
    epoch: { version: num(r.regionEpoch?.version), confVer: num(r.regionEpoch?.confVer) },
    peers: r.peers.map(peerJson),
    leader: peerJson(v.leader),
    downPeers: v.downPeers.map((d) => ({ peer: peerJson(d.peer), downSeconds: num(d.downSeconds) })),
    pendingPeers: v.pendingPeers.map(peerJson),
    approximateSize: num(v.approximateSize),
    approximateKeys: num(v.approximateKeys),
    bytesWritten: num(v.bytesWritten),
    bytesRead: num(v.bytesRead),
    keysWritten: num(v.keysWritten),
    keysRead: num(v.keysRead),
    term: num(v.term),
    operator: v.operator,
  };
}

function peersText(r: RegionJson): string {
  return r.peers
    .map((p) => `${p!.id}@s${p!.storeId}${p!.role === 'Learner' ? '(learner)' : ''}${r.leader?.id === p!.id ? '*' : ''}${r.pendingPeers.some((x) => x?.id === p!.id) ? '(pending)' : ''}${r.downPeers.some((x) => x.peer?.id === p!.id) ? '(down)' : ''}`)
    .join(' ');
}

export function regionsTable(views: pdadmin.RegionView__Output[]): string {
  return table(
    ['ID', 'START', 'END', 'VERSION', 'CONF_VER', 'LEADER STORE', 'PEERS (*=leader)', 'SIZE', 'OPERATOR'],
    views.map(regionJson).map((r) => [r.id, r.startKey === '' ? '-inf' : r.startKey, r.endKey === '' ? '+inf' : r.endKey, r.epoch.version, r.epoch.confVer, r.leader?.storeId ?? '-', peersText(r), bytes(r.approximateSize), r.operator]),
  );
}

export function regionFields(v: pdadmin.RegionView__Output): string {
  const r = regionJson(v);
  return fields([
    ['id', r.id],
    ['start key', r.startKey === '' ? '-inf' : r.startKey],
    ['end key', r.endKey === '' ? '+inf' : r.endKey],
    ['epoch', `version ${r.epoch.version}, conf_ver ${r.epoch.confVer}`],
    ['peers (*=leader)', peersText(r)],
    ['leader', r.leader === null ? 'unknown' : `peer ${r.leader.id} on store ${r.leader.storeId}`],
    ['term', r.term],
    ['approximate size', bytes(r.approximateSize)],
    ['approximate keys', r.approximateKeys],
    ['written (last interval)', `${bytes(r.bytesWritten)}, ${r.keysWritten} keys`],
    ['read (last interval)', `${bytes(r.bytesRead)}, ${r.keysRead} keys`],
    ['operator', r.operator === '' ? 'none' : r.operator],
  ]);
}

// ---- Operators ----

/** An operator in `--json` output. */
export interface OperatorJson {
  id: number;
  regionId: number;
  desc: string;
  kind: string;
  source: string;
  status: string;
  steps: string[];
  currentStep: number;
  ageMs: number;
  reason: string;
}

export function operatorJson(o: pdadmin.OperatorView__Output): OperatorJson {
  return {
    id: num(o.id),
    regionId: num(o.regionId),
    desc: o.desc,
    kind: o.kind,
    source: o.source,
    status: o.status,
    steps: o.steps,
    currentStep: o.currentStep,
    ageMs: num(o.ageMs),
    reason: o.reason,
  };
}

export function operatorsTable(ops: pdadmin.OperatorView__Output[]): string {
  return table(
    ['ID', 'REGION', 'KIND', 'SOURCE', 'STATUS', 'STEP', 'DESCRIPTION', 'AGE'],
    ops.map(operatorJson).map((o) => [
      o.id,
      o.regionId,
      o.kind,
      o.source,
      o.status + (o.reason ? ` (${o.reason})` : ''),
      o.currentStep < o.steps.length ? `${o.currentStep + 1}/${o.steps.length}: ${o.steps[o.currentStep]}` : `${o.steps.length}/${o.steps.length} done`,
      o.desc,
      ago(o.ageMs),
    ]),
  );
}

/** A `operator add scatter` result in `--json` output. */
export interface ScatterJson {
  group: string;
  operators: OperatorJson[];
  skipped: Array<{ regionId: number; code: string; reason: string }>;
}

export function scatterJson(r: pdadmin.ScatterRegionsResponse__Output): ScatterJson {
  return {
    group: r.group,
    operators: r.operators.map(operatorJson),
    skipped: r.skipped.map((s) => ({ regionId: num(s.regionId), code: s.code, reason: s.reason })),
  };
}

/** The operators a scatter added, then the regions it skipped with why. */
export function scatterText(r: pdadmin.ScatterRegionsResponse__Output): string {
  const j = scatterJson(r);
  const group = j.group === '' ? 'the default group' : `group ${JSON.stringify(j.group)}`;
  const lines = [`scatter in ${group}: ${j.operators.length} operator(s) added, ${j.skipped.length} region(s) skipped`];
  if (j.operators.length > 0) lines.push(operatorsTable(r.operators));
  if (j.skipped.length > 0) lines.push(table(['REGION', 'SKIPPED', 'REASON'], j.skipped.map((s) => [s.regionId, s.code, s.reason])));
  return lines.join('\n');
}

// ---- Schedulers, config, cluster ----

export function schedulersTable(list: pdadmin.SchedulerView__Output[]): string {
  return table(['NAME', 'TYPE', 'ENABLED', 'DESCRIPTION'], list.map((s) => [s.name, s.type, s.enabled ? 'yes' : 'no', s.description]));
}

export function configTable(items: pdadmin.ConfigItem__Output[]): string {
  return table(['KEY', 'VALUE', 'DESCRIPTION'], items.map((i) => [i.key, i.value, i.help]));
}

/** `cluster status` in `--json` output. */
export interface ClusterJson {
  clusterId: string;
  name: string;
  clientUrl: string;
  bootstrapped: boolean;
  healthy: boolean;
  problems: string[];
  stores: Record<string, number>;
  regionCount: number;
  downPeerRegions: number;
  pendingPeerRegions: number;
  missPeerRegions: number;
  runningOperators: number;
}

export function clusterJson(c: pdadmin.ClusterStatusResponse__Output): ClusterJson {
  return {
    clusterId: c.clusterId,
    name: c.name,
    clientUrl: c.clientUrl,
    bootstrapped: c.bootstrapped,
    healthy: c.healthy,
    problems: c.problems,
    stores: Object.fromEntries(Object.entries(c.storeStates).map(([k, v]) => [k, num(v)])),
    regionCount: num(c.regionCount),
    downPeerRegions: num(c.downPeerRegions),
    pendingPeerRegions: num(c.pendingPeerRegions),
    missPeerRegions: num(c.missPeerRegions),
    runningOperators: num(c.runningOperators),
  };
}

export function clusterFields(c: pdadmin.ClusterStatusResponse__Output): string {
  const j = clusterJson(c);
  return fields([
    ['cluster id', j.clusterId],
    ['pd', `${j.name} (${j.clientUrl})`],
    ['bootstrapped', j.bootstrapped ? 'yes' : 'no'],
    ['health', j.healthy ? 'healthy' : `UNHEALTHY: ${j.problems.join('; ')}`],
    ['stores', Object.entries(j.stores).map(([k, v]) => `${k} ${v}`).join(', ')],
    ['regions', j.regionCount],
    ['regions with down peers', j.downPeerRegions],
    ['regions with pending peers', j.pendingPeerRegions],
    ['regions missing replicas', j.missPeerRegions],
    ['running operators', j.runningOperators],
  ]);
}
