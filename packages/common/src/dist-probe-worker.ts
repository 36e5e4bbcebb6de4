// Entry used by tools/dist-smoke.mjs to prove a compiled worker starts with plain `node`.
import { parentPort, workerData } from 'node:worker_threads';

parentPort?.postMessage((workerData as { n: number }).n * 2);
