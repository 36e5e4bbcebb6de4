/**
 * The process's root logger (pino; packages only see the `Logger` interface). JSON lines go
 * through a pino transport (a worker thread writes them): to stdout, or appended to `log.file`.
 * Bindings: `service: 'pd'`, `pid`, then `component` per subsystem.
 */
import { pino } from 'pino';
import type { Logger } from '@mrkv/common';
import type { PdConfig } from './config.js';

export interface RootLogger {
  readonly logger: Logger;
  /** Flushes buffered lines (best effort). */
  flush(): Promise<void>;
}

export function createRootLogger(cfg: PdConfig['log'], name: string): RootLogger {
  const transport = pino.transport({ target: 'pino/file', options: { destination: cfg.file === '' ? 1 : cfg.file, mkdir: true, append: true } });
  const p = pino(
    {
      level: cfg.level,
      base: { service: 'pd', name, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    transport,
  );
  return { logger: p as unknown as Logger, flush: () => new Promise<void>((resolve) => p.flush(() => resolve())) };
}
