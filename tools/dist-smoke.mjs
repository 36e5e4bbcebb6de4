// Checks the compiled output runs with plain `node` and no loader: the worker helpers start a
// compiled .js worker and a piscina pool from dist. Run after `pnpm build`.
import { once } from 'node:events';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const common = await import(pathToFileURL(resolve('packages/common/dist/index.js')).href);
if (common.RUNNING_TS) throw new Error('dist build believes it runs from TypeScript sources');
const probe = new URL('../packages/common/dist/dist-probe-worker.js', import.meta.url);
const w = common.startWorker(probe, probe.href, { workerData: { n: 21 } });
const [msg] = await once(w, 'message');
await w.terminate();
if (msg !== 42) throw new Error(`compiled worker answered ${JSON.stringify(msg)}`);
console.log('dist smoke: compiled worker ok');
