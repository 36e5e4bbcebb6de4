/**
 * @mrkv/common: the small shared basics every mrkv package stands on: the error model, a
 * pino-shaped Logger interface, Clock and seeded Rng interfaces, big-endian key codecs, config
 * loading, and worker-thread helpers that work from TypeScript sources and from compiled output.
 * The service processes' plumbing (status server, metrics registry, main flow) is the separate
 * entry point `@mrkv/common/service`, so that importing this one loads neither node:http nor
 * prom-client.
 */
export { CommonCodes, MrkvError, InvariantViolation, invariant, assertNever, isMrkvError } from './errors.js';
export type { CommonCode, WireError } from './errors.js';
export { noopLogger, redactKey } from './logger.js';
export type { Logger, LogFn, LogLevel } from './logger.js';
export { systemClock, ManualClock } from './clock.js';
export type { Clock } from './clock.js';
export { SeededRng } from './rng.js';
export type { Rng } from './rng.js';
export {
  writeU64BE,
  readU64BE,
  encodeU64BE,
  encodeU64BEBig,
  decodeU64BEBig,
  u64FromWire,
  compareBytes,
  concatBytes,
} from './codec.js';
export { loadConfig, kebabToCamel, camelToKebab } from './config.js';
export type { LoadConfigOptions } from './config.js';
export { RUNNING_TS, SOURCE_CONDITION, startWorker, piscinaWorkerOptions, workerEntry } from './worker.js';
