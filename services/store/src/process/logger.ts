/**
 * The process's root logger (pino; packages only ever see the `Logger` interface). JSON lines go
 * through a pino transport (a worker thread writes them, so file I/O stays off the main thread):
 * to stdout, or appended to `log.file`. Bindings: `service: 'store'`, then `storeId` once known
 * (run-store.ts adds it with a child logger), then `component` per subsystem.
 *
 * pino-pretty is not a dependency: pipe the output through any JSON log viewer.
 */
import { pino } from 'pino';
import type { Logger } from '@mrkv/common';
import type { StoreConfig } from '../config.js';

export interface RootLogger {
  readonly logger: Logger;
  /** Flushes buffered lines (best effort; also done automatically at process exit). */
  flush(): Promise<void>;
}

export function createRootLogger(cfg: StoreConfig['log']): RootLogger {
  const transport = pino.transport({
    target: 'pino/file',
    options: { destination: cfg.file === '' ? 1 : cfg.file, mkdir: true, append: true },
  });
  const p = pino(
    {
      level: cfg.level,
      base: { service: 'store', pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    transport,
  );
  return {
    logger: p as unknown as Logger,
    flush: () => new Promise<void>((resolve) => p.flush(() => resolve())),
  };
}
