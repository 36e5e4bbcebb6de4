/**
 * PD's run-time configuration: replication and scheduling knobs that `mrkv-ctl config set`
 * changes while PD runs (PD's `ScheduleConfig` and `ReplicationConfig`, pkg/schedule/config).
 * Every key is kebab-case, typed (count, duration, size, ratio) and range-checked; durations
 * accept `500ms`, `20s`, `30m`, `1h` or plain milliseconds, sizes plain numbers in MiB or keys,
 * ratios decimals such as `0.8`.
 *
 * The whole object is persisted by the cluster on every change, so a restart keeps it.
 */
import { PdError, PdErrorCodes } from './errors.js';

/** The effective scheduling configuration. Durations in milliseconds. */
export interface ScheduleConfig {
  /** Voters every region should have (PD `max-replicas`). */
  maxReplicas: number;
  /** A store silent this long is Disconnected (PD: 20 s). */
  storeDisconnectMs: number;
  /** A store silent this long is Down and its replicas are rebuilt elsewhere (PD: 30 min). */
  maxStoreDownMs: number;
  /** Running leader operators at most (balance-leader, hot-region leader moves). */
  leaderScheduleLimit: number;
  /** Running region-move operators at most (balance-region). */
  regionScheduleLimit: number;
  /** Running replica-repair operators at most (replica checker). */
  replicaScheduleLimit: number;
  /** Running merge operators at most. */
  mergeScheduleLimit: number;
  /** Running hot-region operators at most. */
  hotRegionScheduleLimit: number;
  /** Regions at most this size (MiB) may merge. 0 disables merging. */
  maxMergeRegionSizeMib: number;
  /** Regions with at most this many keys may merge. */
  maxMergeRegionKeys: number;
  /** No merge within this long of a split of the region, or of PD start. */
  splitMergeIntervalMs: number;
  /** How often the schedulers run. */
  scheduleIntervalMs: number;
  /** How often every region goes through the checkers (a full patrol round). */
  patrolRegionIntervalMs: number;
  /** Deadline of a fast operator step (transfer leader, promote, remove, split). */
  fastStepTimeoutMs: number;
  /** Deadline of a slow operator step (add learner/peer, merge), which may need a snapshot. */
  slowStepTimeoutMs: number;
  /** Leader-count difference balance-leader tolerates between the busiest and idlest store. */
  leaderBalanceTolerance: number;
  /** Score gap balance-region tolerates, in average regions (score = region MiB, each region ≥ 1). */
  regionBalanceTolerance: number;
  /** A region writing at least this many bytes per second is a hot-write candidate. */
  hotRegionMinWriteRate: number;
  /** Consecutive hot reports before a region counts as hot. */
  hotRegionCacheHitsThreshold: number;
  /**
   * A store with more than this share of its capacity used is low on space and takes no new
   * replicas (PD `low-space-ratio`, 0.8); see `isLowSpace`.
   */
  lowSpaceRatio: number;
}

/** PD's defaults (pkg/schedule/config), scaled for mrkv's smaller regions where noted. */
export const DEFAULT_SCHEDULE_CONFIG: Readonly<ScheduleConfig> = Object.freeze({
  maxReplicas: 3,
  storeDisconnectMs: 20_000,
  maxStoreDownMs: 30 * 60_000,
  leaderScheduleLimit: 4,
  regionScheduleLimit: 2048,
  replicaScheduleLimit: 64,
  mergeScheduleLimit: 8,
  hotRegionScheduleLimit: 4,
  maxMergeRegionSizeMib: 54,
  maxMergeRegionKeys: 540_000,
  splitMergeIntervalMs: 60 * 60_000,
  scheduleIntervalMs: 1_000,
  patrolRegionIntervalMs: 1_000,
  fastStepTimeoutMs: 60_000,
  slowStepTimeoutMs: 10 * 60_000,
  leaderBalanceTolerance: 1,
  regionBalanceTolerance: 2,
  hotRegionMinWriteRate: 1 << 20,
  hotRegionCacheHitsThreshold: 3,
  lowSpaceRatio: 0.8,
});

type Kind = 'count' | 'duration' | 'size' | 'ratio';

/** One settable key: its kebab-case name, field, kind, bounds and help. */
export interface ConfigItemSpec {
  readonly key: string;
  readonly field: keyof ScheduleConfig;
  readonly kind: Kind;
  readonly min: number;
  readonly max: number;
  readonly help: string;
}

const H = 3_600_000;
/** Every settable key, in `config show` order. */
export const CONFIG_ITEMS: readonly ConfigItemSpec[] = [
  { key: 'max-replicas', field: 'maxReplicas', kind: 'count', min: 1, max: 7, help: 'voters per region' },
  { key: 'store-disconnect-time', field: 'storeDisconnectMs', kind: 'duration', min: 100, max: 24 * H, help: 'silence before a store is Disconnected' },
  { key: 'max-store-down-time', field: 'maxStoreDownMs', kind: 'duration', min: 100, max: 30 * 24 * H, help: 'silence before a store is Down and its replicas are rebuilt' },
  { key: 'leader-schedule-limit', field: 'leaderScheduleLimit', kind: 'count', min: 0, max: 1 << 20, help: 'running leader operators at most' },
  { key: 'region-schedule-limit', field: 'regionScheduleLimit', kind: 'count', min: 0, max: 1 << 20, help: 'running region-move operators at most' },
  { key: 'replica-schedule-limit', field: 'replicaScheduleLimit', kind: 'count', min: 0, max: 1 << 20, help: 'running replica-repair operators at most' },
  { key: 'merge-schedule-limit', field: 'mergeScheduleLimit', kind: 'count', min: 0, max: 1 << 20, help: 'running merge operators at most (0 disables merging)' },
  { key: 'hot-region-schedule-limit', field: 'hotRegionScheduleLimit', kind: 'count', min: 0, max: 1 << 20, help: 'running hot-region operators at most' },
  { key: 'max-merge-region-size', field: 'maxMergeRegionSizeMib', kind: 'size', min: 0, max: 1 << 20, help: 'largest region (MiB) the merge checker merges' },
  { key: 'max-merge-region-keys', field: 'maxMergeRegionKeys', kind: 'count', min: 0, max: 2 ** 40, help: 'most keys of a region the merge checker merges' },
  { key: 'split-merge-interval', field: 'splitMergeIntervalMs', kind: 'duration', min: 0, max: 30 * 24 * H, help: 'no merge this soon after a split or PD start' },
  { key: 'schedule-interval', field: 'scheduleIntervalMs', kind: 'duration', min: 10, max: H, help: 'how often schedulers run' },
  { key: 'patrol-region-interval', field: 'patrolRegionIntervalMs', kind: 'duration', min: 10, max: H, help: 'how long one checker round over every region takes' },
  { key: 'fast-step-timeout', field: 'fastStepTimeoutMs', kind: 'duration', min: 100, max: 24 * H, help: 'deadline of a fast operator step' },
  { key: 'slow-step-timeout', field: 'slowStepTimeoutMs', kind: 'duration', min: 100, max: 24 * H, help: 'deadline of a slow operator step (add peer, merge)' },
  { key: 'leader-balance-tolerance', field: 'leaderBalanceTolerance', kind: 'count', min: 0, max: 1 << 20, help: 'leader-count gap balance-leader tolerates' },
  { key: 'region-balance-tolerance', field: 'regionBalanceTolerance', kind: 'count', min: 0, max: 1 << 20, help: 'score gap balance-region tolerates, in average region sizes' },
  { key: 'hot-region-min-write-rate', field: 'hotRegionMinWriteRate', kind: 'count', min: 0, max: 2 ** 40, help: 'bytes/s from which a region is a hot-write candidate' },
  { key: 'hot-region-cache-hits-threshold', field: 'hotRegionCacheHitsThreshold', kind: 'count', min: 1, max: 1000, help: 'consecutive hot reports before a region is hot' },
  { key: 'low-space-ratio', field: 'lowSpaceRatio', kind: 'ratio', min: 0, max: 1, help: 'used share of a store\'s capacity above which it takes no new replicas' },
];

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: H, d: 24 * H };

/** Parses `500ms`, `20s`, `1.5m`, `1h` or plain milliseconds. Returns NaN for anything else. */
export function parseDurationMs(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (m === null) return Number.NaN;
  return Math.round(Number(m[1]) * UNITS[m[2] ?? 'ms']!);
}

/** The shortest exact spelling of a duration (`1800000` → `30m`). */
export function formatDurationMs(ms: number): string {
  for (const [unit, f] of [['d', UNITS.d!], ['h', H], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= f && ms % f === 0) return `${ms / f}${unit}`;
  }
  return `${ms}ms`;
}

/** The spec of `key`; throws `PD:config:ErrUnknownKey` naming the known keys. */
export function configItem(key: string): ConfigItemSpec {
  const item = CONFIG_ITEMS.find((i) => i.key === key);
  if (item === undefined) {
    throw new PdError(PdErrorCodes.CONFIG_KEY, `unknown config key ${JSON.stringify(key)}; known keys: ${CONFIG_ITEMS.map((i) => i.key).join(', ')}`, {
      details: { key },
    });
  }
  return item;
}

/** `value` of `key` as the config shows it (durations with a unit). */
export function formatConfigValue(config: ScheduleConfig, key: string): string {
  const item = configItem(key);
  const v = config[item.field];
  return item.kind === 'duration' ? formatDurationMs(v) : String(v);
}

/**
 * A copy of `config` with `key` set from its text form. Throws `PD:config:ErrUnknownKey` for an
 * unknown key and `PD:core:ErrInvalidValue` for a value that does not parse or is out of range.
 */
export function withConfigValue(config: ScheduleConfig, key: string, text: string): ScheduleConfig {
  const item = configItem(key);
  const v = parseValue(item.kind, text);
  if (!validValue(item, v)) {
    const unit =
      item.kind === 'duration' ? ` (a duration such as 500ms, 20s, 30m; ${formatDurationMs(item.min)}..${formatDurationMs(item.max)})`
      : item.kind === 'ratio' ? ` (a decimal in ${item.min}..${item.max}, such as 0.8)`
      : ` (an integer in ${item.min}..${item.max})`;
    throw new PdError(PdErrorCodes.INVALID_VALUE, `invalid value ${JSON.stringify(text)} for ${key}: expected${unit}`, { details: { key, value: text } });
  }
  return { ...config, [item.field]: v };
}

/** The number `text` spells for a key of `kind` (NaN if it does not parse). */
function parseValue(kind: Kind, text: string): number {
  if (kind === 'duration') return parseDurationMs(text);
  if (kind === 'ratio') return /^\s*\d+(?:\.\d+)?\s*$/.test(text) ? Number(text) : Number.NaN;
  return /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN;
}

/** True if `v` is a value `item` takes: in range, and an integer unless a ratio. */
function validValue(item: ConfigItemSpec, v: unknown): v is number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < item.min || v > item.max) return false;
  return item.kind === 'ratio' || Number.isSafeInteger(v);
}

/**
 * A config from a persisted or user-given partial object: unknown fields are dropped, missing or
 * invalid ones take the default (a persisted config from an older version still loads).
 */
export function normalizeConfig(partial: Partial<Record<keyof ScheduleConfig, unknown>>): ScheduleConfig {
  const out: ScheduleConfig = { ...DEFAULT_SCHEDULE_CONFIG };
  for (const item of CONFIG_ITEMS) {
    const v = partial[item.field];
    if (validValue(item, v)) out[item.field] = v;
  }
  return out;
}
