/**
 * The `mrkv-pd` process configuration: defaults < TOML/JSON file (`--config`) < flags, validated
 * by one zod schema (kebab-case keys in files and flags, camelCase here). Sections are strict, so
 * a misspelt key is an error naming it.
 *
 * - top level: `name`, `data-dir`, `client-urls` (gRPC listen address), `advertise-client-urls`,
 *   `status-addr` (HTTP /metrics, /status, /ready), `tick-interval-ms`, `graceful-shutdown-timeout-ms`;
 * - `schedule`: scheduling keys forced at start, in `mrkv-ctl config set` form
 *   (`max-store-down-time = "5s"`); without them the persisted (or default) values apply;
 * - `log`: level and optional file.
 */
import { CommonCodes, isMrkvError, loadConfig, MrkvError } from '@mrkv/common';
import { DEFAULT_SCHEDULE_CONFIG, withConfigValue, type ScheduleConfig } from '@mrkv/pd';
import { z } from 'zod';

/** `host:port`, optionally written as a URL (`http://127.0.0.1:2379`); the port may be 0. */
const hostPort = () =>
  z
    .string()
    .transform((s) => s.replace(/^[a-z]+:\/\//, '').replace(/\/$/, ''))
    .pipe(z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):\d{1,5}$/, 'expected host:port (e.g. 127.0.0.1:2379)'));

const pdSchema = z
  .object({
    /** Member name, shown by GetMembers and /status. */
    name: z.string().min(1).default('pd'),
    /** Data directory: the metadata engine lives in `<data-dir>/meta`. */
    dataDir: z.string().min(1).default('./data/pd'),
    /** gRPC listen address (pdpb.PD and mrkv.pdadmin.PdAdmin). Port 0 picks a free one. */
    clientUrls: hostPort().default('127.0.0.1:2379'),
    /** Address GetMembers advertises; empty = `client-urls` with the bound port. */
    advertiseClientUrls: z.union([z.literal(''), hostPort()]).default(''),
    /** HTTP status listen address. Port 0 picks a free one. */
    statusAddr: hostPort().default('127.0.0.1:2380'),
    /** How often the coordinator runs (operator timeouts, patrol, schedulers when due). */
    tickIntervalMs: z.number().int().min(10).max(60_000).default(100),
    /** How long SIGTERM waits for in-flight calls before closing. */
    gracefulShutdownTimeoutMs: z.number().int().min(0).default(5_000),
    /** Scheduling keys forced at start (`mrkv-ctl config` names and value syntax). */
    schedule: z.record(z.string(), z.union([z.string(), z.number()])).default({}),
    log: z
      .object({
        level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
        file: z.string().default(''),
      })
      .strict()
      .default({ level: 'info', file: '' }),
  })
  .strict();

export type PdConfig = z.output<typeof pdSchema>;

/**
 * Loads and validates the config. Throws `KV:Common:InvalidConfig` naming the bad key, also for
 * `schedule.*` keys that are unknown or out of range.
 */
export function loadPdConfig(opts: { file?: string | undefined; flags?: Record<string, unknown> } = {}): PdConfig {
  const cfg = loadConfig(pdSchema, opts);
  scheduleOverrides(cfg);
  return cfg;
}

/** The `schedule` section as config fields (validated with the same rules as `config set`). */
export function scheduleOverrides(cfg: PdConfig): Partial<ScheduleConfig> {
  let c: ScheduleConfig = { ...DEFAULT_SCHEDULE_CONFIG };
  const out: Partial<ScheduleConfig> = {};
  for (const [key, value] of Object.entries(cfg.schedule)) {
    const kebab = key.replace(/[A-Z]/g, (x) => `-${x.toLowerCase()}`);
    try {
      const next = withConfigValue(c, kebab, String(value));
      for (const f of Object.keys(next) as Array<keyof ScheduleConfig>) if (next[f] !== c[f]) out[f] = next[f];
      c = next;
    } catch (e) {
      throw new MrkvError(CommonCodes.INVALID_CONFIG, `invalid config: schedule.${kebab}: ${isMrkvError(e) ? e.message : String(e)}`, { cause: e });
    }
  }
  return out;
}
