import { once } from 'node:events';
import { Piscina } from 'piscina';
import { describe, expect, it } from 'vitest';
import { piscinaWorkerOptions, RUNNING_TS, startWorker } from './worker.js';

describe('worker threads from TypeScript sources', () => {
  it('runs under vitest from .ts sources', () => {
    expect(RUNNING_TS).toBe(true);
  });

  it('starts a plain worker_threads Worker whose entry is .ts and imports a workspace package', async () => {
    const w = startWorker(new URL('./__tests__/echo-worker.js', import.meta.url), import.meta.url, {
      workerData: { tag: 'w1' },
    });
    try {
      const [ready] = await once(w, 'message');
      expect(ready).toEqual({ ready: true });
      w.postMessage(2 ** 40 + 7);
      const [reply] = await once(w, 'message');
      expect(reply).toEqual({ tag: 'w1', roundTrip: 2 ** 40 + 7 });
    } finally {
      await w.terminate();
    }
  });

  it('runs a piscina pool whose task file is .ts', async () => {
    const pool = new Piscina({
      ...piscinaWorkerOptions(new URL('./__tests__/square-task.js', import.meta.url), import.meta.url),
      minThreads: 1,
      maxThreads: 2,
    });
    try {
      const results = await Promise.all([3, 4, 5].map((n) => pool.run(n) as Promise<number>));
      expect(results).toEqual([9, 16, 25]);
    } finally {
      await pool.destroy();
    }
  });
});
