/**
 * The store's configuration: defaults < TOML/JSON file (`--config`) < flags, validated by one zod
 * schema (kebab-case keys in files and flags, camelCase here). Every section is strict, so a
 * misspelt key is an error that names it instead of a silently ignored setting.
 *
 * Sections:
 * - `server`: listen and advertised addresses, labels, gRPC limits, admission control, shutdown.
 * - `pd`: PD endpoints and retry timing.
 * - `storage`: the data directory (layout in data-dir.ts and the README) and the disk space kept
 *   in reserve (writes refused with DiskFull below it, @mrkv/raftstore operation/disk-usage.ts).
 * - `limits`: request limits checked at the gateway (and handed to the raftstore, which checks the
 *   raft entry size again on propose).
 * - `raftstore`: the raftstore's own settings (@mrkv/raftstore `raftstoreConfigSchema`, minus the
 *   limits above), validated with TiKV's cross-field rules.
 * - `transport`: store-to-store raft streams and snapshots.
 * - `log`: level and optional file.
 *
 * Sizes are bytes and may be written as strings with a unit ("8KiB", "10MiB"); durations are
 * milliseconds (keys end in `-ms`).
 */
import { camelToKebab, CommonCodes, isMrkvError, loadConfig, MrkvError } from '@mrkv/common';
import { raftstoreConfigSchema, validateRaftstoreConfig, type RaftstoreConfig } from '@mrkv/raftstore';
import { z } from 'zod';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

const UNITS: Record<string, number> = { '': 1, b: 1, kb: 1000, kib: KiB, mb: 1000 * 1000, mib: MiB, gb: 1e9, gib: GiB };

/** A byte size: a number, or a string such as "512", "8KiB", "10MiB", "1GB". */
const size = () => byteSize().pipe(z.number().int().positive());

/** A byte size that may be 0 (a switch-off value). */
const sizeOrZero = () => byteSize().pipe(z.number().int().nonnegative());

const byteSize = () =>
  z
    .unknown()
    .transform((v, ctx) => {
      if (typeof v === 'number') return v;
      const m = typeof v === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(v) : null;
      const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
      if (!m || unit === undefined) {
        ctx.addIssue({ code: 'custom', message: `expected a size like 8KiB or 10MiB, got ${JSON.stringify(v)}` });
        return z.NEVER;
      }
      return Math.round(Number(m[1]) * unit);
    });

const ms = () => z.number().int().nonnegative();

/** `host:port`; the port may be 0 (pick a free one) for listen addresses. */
const hostPort = () =>
  z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):\d{1,5}$/, 'expected host:port (e.g. 127.0.0.1:20160)');

/** Store labels: `zone=z1,host=h1`, or an array of `key=value` strings. */
const labels = () =>
  z
    .union([z.string(), z.array(z.string())])
    .transform((v, ctx) => {
      const items = (typeof v === 'string' ? v.split(',') : v).map((s) => s.trim()).filter((s) => s.length > 0);
      const out: Record<string, string> = {};
      for (const item of items) {
        const eq = item.indexOf('=');
        if (eq <= 0 || eq === item.length - 1) {
          ctx.addIssue({ code: 'custom', message: `expected key=value, got ${JSON.stringify(item)}` });
          return z.NEVER;
        }
        out[item.slice(0, eq).trim()] = item.slice(eq + 1).trim();
      }
      return out;
    });

const serverSchema = z
  .object({
    /** Listen address of the gRPC server (clients and peer stores). Port 0 picks a free port. */
    addr: hostPort().default('127.0.0.1:20160'),
    /** Address registered with PD for clients and peers; empty = `addr` (with the bound port). */
    advertiseAddr: z.union([z.literal(''), hostPort()]).default(''),
    /** Listen address of the HTTP status server (/metrics, /status). Port 0 picks a free port. */
    statusAddr: hostPort().default('127.0.0.1:20180'),
    /** Status address registered with PD; empty = `status-addr` (with the bound port). */
    advertiseStatusAddr: z.union([z.literal(''), hostPort()]).default(''),
    /** Placement labels registered with PD. */
    labels: labels().default({}),
    /** Largest gRPC message sent or received (must fit a raft batch or entry plus framing). */
    grpcMaxMessageSize: size().default(32 * MiB),
    /** Requests being served at once across all connections; beyond it, ServerIsBusy. */
    maxInflightRequests: z.number().int().positive().default(8192),
    /** Requests in flight on one BatchCommands stream; beyond it, ServerIsBusy for that stream. */
    maxInflightPerStream: z.number().int().positive().default(2048),
    /** How long a graceful shutdown waits for in-flight requests before cancelling them. */
    gracefulShutdownTimeoutMs: ms().default(10_000),
    /** gRPC keepalive pings on idle connections (client and server side). */
    grpcKeepaliveTimeMs: ms().default(10_000),
    grpcKeepaliveTimeoutMs: ms().default(3_000),
  })
  .strict();

const pdSchema = z
  .object({
    /** PD client endpoints, `host:port`. */
    endpoints: z
      .union([z.string(), z.array(z.string())])
      .transform((v) => (typeof v === 'string' ? v.split(',') : v).map((s) => s.trim()).filter((s) => s.length > 0))
      .pipe(z.array(hostPort()).min(1, 'at least one PD endpoint is needed'))
      .default(['127.0.0.1:2379']),
    /** Pause between retries of a failed PD call during startup. */
    retryIntervalMs: ms().default(300),
    /** Attempts of a PD call during startup (bootstrap, PutStore) before giving up. */
    retryMaxCount: z.number().int().positive().default(100),
  })
  .strict();

const storageSchema = z
  .object({
    /** Root of the data directory (store ident, engines, snapshots, lock). */
    dataDir: z.string().min(1).default('./mrkv-data'),
    /**
     * Free space kept back for the raft log and admin work (TiKV `storage.reserve-space`): at or
     * below it the store is AlreadyFull and its leaders refuse client writes with DiskFull while
     * reads go on. Absent: min(5GiB, 5 % of the disk's capacity). 0 disables the protection.
     */
    reserveSpace: sizeOrZero().optional(),
    /** The AlmostFull band above the reserve (writes refused unless disk_full_opt allows). Absent: half the reserve. */
    almostFullSpace: sizeOrZero().optional(),
  })
  .strict();

const limitsSchema = z
  .object({
    maxKeySize: size().default(8 * KiB),
    maxValueSize: size().default(8 * MiB),
    /** Keys (or pairs) in one batch request. */
    maxBatchKeys: z.number().int().positive().default(10_000),
    /** Bytes of keys and values in one batch request. */
    maxBatchBytes: size().default(16 * MiB),
    /** Largest `limit` of RawScan (and `each_limit` of RawBatchScan). */
    maxScanLimit: z.number().int().positive().default(100_000),
    /** Largest raft entry; a write whose entry would be larger gets RaftEntryTooLarge. */
    raftEntryMaxSize: size().default(8 * MiB),
  })
  .strict();

/** Where the raftstore runs: its own worker thread, or the main thread next to gRPC. */
export const RAFTSTORE_THREAD_MODES = ['worker', 'main'] as const;
export type RaftstoreThreadMode = (typeof RAFTSTORE_THREAD_MODES)[number];

/** The raftstore settings that `limits` does not already carry, plus where the raftstore runs. */
const raftstoreSchema = raftstoreConfigSchema
  .omit({ maxKeySize: true, maxBatchKeys: true, maxScanLimit: true, raftEntryMaxSize: true, diskReserveSpace: true, diskAlmostFullSpace: true })
  .extend({
    /**
     * `worker`: both engines and the raft and apply pollers run on one worker thread, so gRPC
     * and the raftstore do not share an event loop (process/raftstore-thread.ts). `main`: all on
     * the main thread. Default `main`: on the shared 2-core box the thread hand-offs cost more
     * than the parallelism gives (README, "The raftstore thread"); use `worker` where the store
     * has cores to itself.
     */
    thread: z.enum(RAFTSTORE_THREAD_MODES).default('main'),
    /**
     * `worker` mode: when the raftstore thread has posted nothing (its stats come every second)
     * for this long it is taken as hung, like a crashed one: the store logs it at fatal and exits
     * non-zero instead of staying up and serving nothing. 0 turns the watchdog off.
     */
    threadHungMs: ms().default(60_000),
  })
  .strict();

const transportSchema = z
  .object({
    /** Messages per BatchRaftMessage frame (TiKV raft_msg_max_batch_size). */
    maxBatchMessages: z.number().int().positive().default(256),
    /** Bytes per BatchRaftMessage frame (TiKV max_grpc_send_msg_len). */
    maxBatchBytes: size().default(10 * MiB),
    /** Messages queued per target store; beyond it messages are dropped and raft is told. */
    queueMaxMessages: z.number().int().positive().default(8192),
    queueMaxBytes: size().default(64 * MiB),
    /** How long a connection attempt to a store may take. */
    connectTimeoutMs: ms().default(5_000),
    /** Reconnect backoff: exponential from base to max, with ±20% jitter. */
    backoffBaseMs: ms().default(100),
    backoffMaxMs: ms().default(5_000),
    /** How long a resolved store address is trusted before asking PD again. */
    addressTtlMs: ms().default(60_000),
    /** Snapshots sent / received at once (TiKV concurrent_send/recv_snap_limit). */
    snapMaxConcurrentSends: z.number().int().positive().default(32),
    snapMaxConcurrentRecvs: z.number().int().positive().default(32),
    /** Data bytes per SnapshotChunk. */
    snapChunkSize: size().default(1 * MiB),
    /** Deadline of one snapshot transfer. */
    snapTimeoutMs: ms().default(600_000),
  })
  .strict();

const logSchema = z
  .object({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    /** Log file (JSON lines, appended); empty = stdout. */
    file: z.string().default(''),
  })
  .strict();

export const storeConfigSchema = z
  .object({
    server: serverSchema.prefault({}),
    pd: pdSchema.prefault({}),
    storage: storageSchema.prefault({}),
    limits: limitsSchema.prefault({}),
    raftstore: raftstoreSchema.prefault({}),
    transport: transportSchema.prefault({}),
    log: logSchema.prefault({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    const framing = 1 * MiB;
    if (c.server.grpcMaxMessageSize < c.limits.raftEntryMaxSize + framing) {
      ctx.addIssue({
        code: 'custom',
        path: ['server', 'grpcMaxMessageSize'],
        message: `must be ≥ limits.raft-entry-max-size + 1MiB (${c.limits.raftEntryMaxSize + framing})`,
      });
    }
    if (c.server.grpcMaxMessageSize < c.transport.maxBatchBytes + framing) {
      ctx.addIssue({
        code: 'custom',
        path: ['server', 'grpcMaxMessageSize'],
        message: `must be ≥ transport.max-batch-bytes + 1MiB (${c.transport.maxBatchBytes + framing})`,
      });
    }
    if (c.transport.snapChunkSize + framing > c.server.grpcMaxMessageSize) {
      ctx.addIssue({ code: 'custom', path: ['transport', 'snapChunkSize'], message: 'must be ≤ server.grpc-max-message-size − 1MiB' });
    }
    const wildcard = (addr: string) => /^(0\.0\.0\.0|\[::\]|::):/.test(addr);
    if (wildcard(c.server.addr) && c.server.advertiseAddr === '') {
      ctx.addIssue({ code: 'custom', path: ['server', 'advertiseAddr'], message: 'must be set when server.addr listens on all interfaces' });
    }
    if (wildcard(c.server.statusAddr) && c.server.advertiseStatusAddr === '') {
      ctx.addIssue({
        code: 'custom',
        path: ['server', 'advertiseStatusAddr'],
        message: 'must be set when server.status-addr listens on all interfaces',
      });
    }
    if (c.transport.backoffBaseMs > c.transport.backoffMaxMs) {
      ctx.addIssue({ code: 'custom', path: ['transport', 'backoffBaseMs'], message: 'must be ≤ transport.backoff-max-ms' });
    }
    if (c.limits.maxValueSize > c.limits.raftEntryMaxSize) {
      ctx.addIssue({ code: 'custom', path: ['limits', 'maxValueSize'], message: 'must be ≤ limits.raft-entry-max-size' });
    }
  });

export type StoreConfig = z.output<typeof storeConfigSchema>;
export type LimitsConfig = StoreConfig['limits'];
export type TransportConfig = StoreConfig['transport'];
export type ServerConfig = StoreConfig['server'];

/**
 * Loads and validates the store config. `flags` are dotted kebab-case paths
 * (`{ 'server.addr': '0.0.0.0:20160' }`). Throws `MrkvError(KV:Common:InvalidConfig)` naming
 * every bad field.
 */
export function loadStoreConfig(opts: { file?: string | undefined; flags?: Record<string, unknown> } = {}): StoreConfig {
  const config = loadConfig(storeConfigSchema, opts);
  try {
    validateRaftstoreConfig(raftstoreConfigOf(config));
  } catch (e) {
    if (!isMrkvError(e)) throw e;
    throw new MrkvError(CommonCodes.INVALID_CONFIG, e.message.replace(/^invalid raftstore config: /, 'invalid config: raftstore.'), {
      cause: e,
      details: e.details,
    });
  }
  return config;
}

/** The full raftstore config: the `raftstore` section plus the limits it shares with the gateway. */
export function raftstoreConfigOf(c: StoreConfig): RaftstoreConfig {
  const { thread: _thread, threadHungMs: _threadHungMs, ...raftstore } = c.raftstore;
  return {
    ...raftstore,
    maxKeySize: c.limits.maxKeySize,
    maxBatchKeys: c.limits.maxBatchKeys,
    maxScanLimit: c.limits.maxScanLimit,
    raftEntryMaxSize: c.limits.raftEntryMaxSize,
    ...(c.storage.reserveSpace === undefined ? {} : { diskReserveSpace: c.storage.reserveSpace }),
    ...(c.storage.almostFullSpace === undefined ? {} : { diskAlmostFullSpace: c.storage.almostFullSpace }),
  };
}

/** The config with every default (what `--help` and the README show). */
export function defaultStoreConfig(): StoreConfig {
  return loadStoreConfig();
}

/**
 * The config in file form: kebab-case keys, labels as `k=v,…` (what `--print-config` prints; a
 * `.json` config file with this content loads back to the same config).
 */
export function storeConfigToFileForm(c: StoreConfig): Record<string, unknown> {
  const kebab = (v: unknown): unknown => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [camelToKebab(k), kebab(x)]));
  };
  const labels = Object.entries(c.server.labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return kebab({ ...c, server: { ...c.server, labels } }) as Record<string, unknown>;
}
