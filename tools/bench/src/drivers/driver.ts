/**
 * What a load generator talks to: one small interface over each target's client, and the plain,
 * cloneable description of a target that crosses into worker threads (each worker opens its own
 * client from it).
 */

/** The targets the harness measures. */
export const TARGET_KINDS = ['mrkv', 'etcd', 'rocksdb'] as const;
/** One of {@link TARGET_KINDS}. */
export type TargetKind = (typeof TARGET_KINDS)[number];

/** How a worker reaches a target. Plain data: it is structured-cloned into workers. */
export type TargetSpec =
  | {
      readonly kind: 'mrkv';
      /** PD endpoints, `host:port`. */
      readonly pdEndpoints: readonly string[];
      /**
       * Module exporting `createRawClient({ pdEndpoints })` (default `@mrkv/client`). Tests point it
       * at a test double; it is imported inside each worker.
       */
      readonly clientModule: string;
    }
  | {
      readonly kind: 'etcd';
      /** Client endpoints, `host:port` (or `http://host:port`). */
      readonly endpoints: readonly string[];
    }
  | {
      readonly kind: 'rocksdb';
      /** Database directory (created if missing). */
      readonly path: string;
      /** Whether every write waits for fsync (`sync: true`), as a replicated write does. */
      readonly sync: boolean;
    };

/**
 * The operations a workload needs, in bytes. Implementations map them onto the target's own API;
 * a rejected promise is one failed operation (counted, not fatal).
 */
export interface KvDriver {
  /** The value of `key`, or undefined when absent. */
  get(key: Buffer): Promise<Uint8Array | undefined>;
  /** Writes `key` = `value`. */
  put(key: Buffer, value: Buffer): Promise<void>;
  /** Writes `keys[i]` = `values[i]` for every i in one request where the target allows. */
  batchPut(keys: readonly Buffer[], values: readonly Buffer[]): Promise<void>;
  /** Reads up to `limit` pairs from `start` upward; resolves to how many came back. */
  scan(start: Buffer, limit: number): Promise<number>;
  /** Closes connections or the database. */
  close(): Promise<void>;
}

/** A short human name of a target for tables and progress lines. */
export function targetLabel(spec: TargetSpec): string {
  return spec.kind;
}
