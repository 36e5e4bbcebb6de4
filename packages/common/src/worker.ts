/**
 * Starting worker threads whose entry is TypeScript, the same way in vitest, under tsx in
 * development, and compiled in production (toolchain.md §3).
 *
 * On Node 20, `--import tsx` in a worker installs only tsx's CommonJS hook, not its ESM hooks, so
 * a `.ts` worker entry fails with ERR_UNKNOWN_FILE_EXTENSION. When we are running from sources we
 * therefore start the worker from a tiny eval bootstrap that registers tsx's ESM API inside the
 * worker and then imports the real entry. Compiled code (`dist/*.js`) starts the `.js` sibling
 * directly with no flags.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** True when this module itself runs from `.ts` sources (vitest, tsx), false in `dist`. */
export const RUNNING_TS: boolean = import.meta.url.endsWith('.ts');

/** The export condition that maps workspace packages to their sources. */
export const SOURCE_CONDITION = '@mrkv/source';

/**
 * Resolves a worker entry given as a URL relative to the caller's module: `entry` should be the
 * `.js` name (`new URL('./raft-worker.js', import.meta.url)`); from sources the `.ts` sibling is used.
 */
export function workerEntry(entry: URL, callerIsTs: boolean): URL {
  if (!callerIsTs) return entry;
  return new URL(entry.href.replace(/\.js$/, '.ts'));
}

/**
 * Starts a worker thread running `entry` (a `.js` URL next to the caller; the `.ts` sibling is
 * used when the caller runs from sources). Pass the caller's `import.meta.url` as `callerUrl`.
 */
export function startWorker(entry: URL, callerUrl: string, options: WorkerOptions = {}): Worker {
  const callerIsTs = callerUrl.endsWith('.ts');
  const target = workerEntry(entry, callerIsTs);
  if (!callerIsTs) return new Worker(target, options);
  const api = import.meta.resolve('tsx/esm/api');
  const bootstrap =
    `import(${JSON.stringify(api)})` +
    `.then((m) => { m.register(); return import(${JSON.stringify(target.href)}); })` +
    `.catch((e) => { setImmediate(() => { throw e; }); });`;
  return new Worker(bootstrap, {
    ...options,
    eval: true,
    execArgv: [...(options.execArgv ?? []), `--conditions=${SOURCE_CONDITION}`],
  });
}

/**
 * Options for a piscina pool whose task file is `entry` (a `.js` URL next to the caller). From
 * sources, the `.ts` sibling is loaded through tsx's CommonJS hook, which piscina's `require()`
 * of the task file triggers; the module must not use top-level await.
 */
export function piscinaWorkerOptions(entry: URL, callerUrl: string): { filename: string; execArgv?: string[] } {
  const callerIsTs = callerUrl.endsWith('.ts');
  const target = workerEntry(entry, callerIsTs);
  if (!callerIsTs) return { filename: target.href };
  return {
    filename: target.href,
    execArgv: [`--conditions=${SOURCE_CONDITION}`, '--import', import.meta.resolve('tsx')],
  };
}
