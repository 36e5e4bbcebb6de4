/**
 * Wire shapes between the main thread and batch-system worker threads. Messages are batched:
 * one `postMessage` carries every message queued for a worker during one macrotask, as a flat
 * array `[id, msg, id, msg, …]`, because the per-postMessage cost dominates small messages.
 */

/** Main → worker. */
export type ToWorker =
  | { readonly t: 'batch'; readonly normals: unknown[]; readonly controls: unknown[] }
  | { readonly t: 'stop' };

/** Worker → main. */
export type FromWorker =
  | { readonly t: 'ready' }
  | { readonly t: 'up'; readonly msgs: unknown[] }
  | { readonly t: 'placed'; readonly ids: number[] }
  | { readonly t: 'unplaced'; readonly ids: number[] }
  | { readonly t: 'stopped' }
  | { readonly t: 'fatal'; readonly message: string; readonly stack?: string };

/** What every worker receives as `workerData`. */
export interface BatchWorkerData {
  readonly system: string;
  readonly index: number;
  readonly data: unknown;
}
