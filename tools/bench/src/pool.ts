/**
 * The piscina pool of load generators. From compiled output the task file is `worker.js`; from
 * sources it is `worker-shim.mjs`, which registers tsx in the worker and imports `worker.ts`
 * (see the shim for why `piscinaWorkerOptions` from @mrkv/common is not enough here).
 */
import { Piscina } from 'piscina';
import { SOURCE_CONDITION } from '@mrkv/common';
import { BenchCodes, BenchError, describeError, type BenchCode } from './errors.js';
import type { FailedResult, LoadResult, PingResult, RunResult, WorkerTask } from './tasks.js';

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

  /**
   * Runs one task per entry of `tasks` at once, one per thread; rejects with the first failure
   * (a task's `FailedResult` as the `BenchError` it was, a dead thread as WORKER_FAILED).
   */
  async runAll<R extends RunResult | LoadResult | PingResult>(tasks: readonly WorkerTask[]): Promise<R[]> {
    return Promise.all(
      tasks.map(async (t) => {
        let res: R | FailedResult;
        try {
          res = (await this.piscina.run(t)) as R | FailedResult;
        } catch (e) {
          throw new BenchError(BenchCodes.WORKER_FAILED, `load generator ${t.worker} failed: ${describeError(e)}`, { cause: e });
        }
        if (res.type === 'failed') {
          const code = (Object.values(BenchCodes) as string[]).includes(res.error.code) ? (res.error.code as BenchCode) : BenchCodes.WORKER_FAILED;
          throw new BenchError(code, res.error.message, { details: { ...res.error.details, workerCode: res.error.code } });
        }
        return res;
      }),
    );
  }

  /** Stops the threads. */
  async close(): Promise<void> {
    await this.piscina.destroy();
  }
}
