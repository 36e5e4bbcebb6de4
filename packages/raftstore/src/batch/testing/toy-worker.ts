// Worker entry of the toy batch system, run by ThreadBatchSystem in the batch-system tests.
import { Poller } from '../poller.js';
import { WorkerRouter } from '../router.js';
import { runBatchWorker } from '../thread-worker.js';
import { Counter, type ToyControl, type ToyControlMsg, type ToyMsg, toyHandler } from './toy.js';

runBatchWorker<ToyMsg, ToyControlMsg>((ctx) => {
  const control: ToyControl = { created: [] };
  const stats = { rounds: 0, maxBatch: 0 };
  const counters = new Map<number, Counter>();
  // eslint-disable-next-line prefer-const
  let poller: Poller<Counter, ToyMsg, ToyControl, ToyControlMsg>;
  const router = new WorkerRouter<ToyMsg>((id, msg) => poller.send(id, msg), ctx.postUp);
  const handler = toyHandler(
    {
      router,
      create: (id) => {
        const c = new Counter(id);
        counters.set(id, c);
        poller.register(id, c);
        ctx.announce(id);
      },
      report: (list) => ctx.postUp({ t: 'report', worker: ctx.index, list, stats: { ...stats } }),
      counters: () => counters.values(),
      persist: () => new Promise((resolve) => setImmediate(resolve)),
    },
    stats,
  );
  poller = new Poller(handler, control, ctx.scheduler);
  return { poller: poller as never };
});
