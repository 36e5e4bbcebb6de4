/**
 * The piscina pool of load generators. From compiled output the task file is `worker.js`; from
 * sources it is `worker-shim.mjs`, which registers tsx in the worker and imports `worker.ts`
 * (see the shim for why `piscinaWorkerOptions` from @mrkv/common is not enough here).
 */
import { Piscina } from 'piscina';
import { SOURCE_CONDITION } from '@mrkv/common';
import { BenchCodes, BenchError, describeError } from './errors.js';
import type { LoadResult, PingResult, RunResult, WorkerTask } from './tasks.js';

const RUNNING_FROM_SOURCES = import.meta.url.endsWith('.ts');

/** A pool of `threads` load-generator threads, all started up front. */
export class LoadPool {
  private readonly piscina: Piscina;

  constructor(readonly threads: number) {
    const common = { minThreads: threads, maxThreads: threads, idleTimeout: 60_000, concurrentTasksPerWorker: 1 };
    this.piscina = RUNNING_FROM_SOURCES
      ? new Piscina({
          ...common,
          filename: new URL('./worker-shim.mjs', import.meta.url).href,
          execArgv: [`--conditions=${SOURCE_CONDITION}`],
          workerData: { benchWorkerEntry: new URL('./worker.ts', import.meta.url).href },
        })
      : new Piscina({ ...common, filename: new URL('./worker.js', import.meta.url).href });
  }

  /**
   * Starts every thread and loads the task module in each (from sources that compiles it, which
   * takes a second or so), so that no timed phase pays for it.
   */
  async warm(): Promise<void> {
    await this.runAll<PingResult>(Array.from({ length: this.threads }, (_, worker) => ({ type: 'ping', worker })));
  }

  /** Runs one task per entry of `tasks` at once, one per thread; rejects with the first failure. */
  async runAll<R extends RunResult | LoadResult | PingResult>(tasks: readonly WorkerTask[]): Promise<R[]> {
    return Promise.all(
      tasks.map((t) =>
        (this.piscina.run(t) as Promise<R>).catch((e: unknown) => {
          if (e instanceof BenchError) throw e;
          // Errors cross the thread boundary as plain Errors with their own properties: keep the code.
          const code = (e as { code?: unknown }).code;
          if (typeof code === 'string' && code.startsWith('KV:Bench:')) {
            throw new BenchError(code as BenchError['code'], (e as Error).message, { cause: e });
          }
          throw new BenchError(BenchCodes.WORKER_FAILED, `load generator ${t.worker} failed: ${describeError(e)}`, { cause: e });
        }),
      ),
    );
  }

  /** Stops the threads. */
  async close(): Promise<void> {
    await this.piscina.destroy();
  }
}
