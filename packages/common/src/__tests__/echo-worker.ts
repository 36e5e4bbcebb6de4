// A worker entry written in TypeScript that imports a workspace package (resolved to its
// sources through the @mrkv/source condition) and answers messages.
import { parentPort, workerData } from 'node:worker_threads';
import { encodeU64BE, readU64BE } from '@mrkv/common';

const tag: string = (workerData as { tag: string }).tag;
parentPort!.on('message', (n: number) => {
  parentPort!.postMessage({ tag, roundTrip: readU64BE(encodeU64BE(n), 0) });
});
parentPort!.postMessage({ ready: true });
