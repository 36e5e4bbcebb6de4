// Piscina task-file shim for running the TypeScript worker from sources (vitest, tsx): registers
// tsx's ESM hooks in this worker thread, then loads the real task module named by workerData.
// Needed because the worker imports the mrkv client module dynamically, which tsx's CommonJS hook
// (the one piscinaWorkerOptions relies on) cannot serve on Node 20 (toolchain.md §3, pattern 3).
// Compiled output does not use this file: dist/worker.js is piscina's task file directly.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
export default (await import(workerData.benchWorkerEntry)).default;
