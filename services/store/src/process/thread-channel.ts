/**
 * One end of the port between the main thread and the raftstore thread: typed calls both ways,
 * one-way notes, and batching. Both ends use the same class (main with `Worker`, the worker with
 * `parentPort`); the shapes are thread-protocol.ts.
 *
 * - `call(method, args, { signal, transfer })` sends `{ t: 'call' }` and settles on the matching
 *   reply. An abort rejects at once with the signal's reason (as the raftstore's own calls do)
 *   and tells the other side to drop the answer (`{ t: 'cancel' }`).
 * - Incoming calls run the handler; what it returns or throws is the reply (errors in their
 *   `ThreadError` form). The handler itself runs to its end: a cancelled RawKV call finishes in
 *   the raftstore by its own deadline, as it would if the client had gone away after the
 *   proposal. (No AbortController per call: creating one costs more than the hop itself.)
 * - Byte views in args, replies and notes are copied out of larger buffers first (`compactDeep`),
 *   unless the sender transfers buffers it packed itself.
 * - Everything queued during one event-loop turn goes out as ONE `postMessage` of an array, with
 *   the transfer lists merged (deduplicated), on `setImmediate`.
 * - `fail(err)` rejects every pending call and refuses new ones (the other thread is gone).
 */
import { MrkvError } from '@mrkv/common';
import { compactDeep, errorFromThread, errorToThread, RaftstoreThreadCodes, type Envelope } from './thread-protocol.js';

/** What a channel posts to: a `Worker`, or the worker's `parentPort`. */
export interface PortLike {
  postMessage(value: unknown, transferList?: readonly ArrayBuffer[]): void;
}

/** The argument list of method `K` of API `A`. */
export type CallArgs<A, K extends keyof A> = A[K] extends (...args: infer P) => unknown ? P : never;
/** The result of method `K` of API `A`. */
export type CallResult<A, K extends keyof A> = A[K] extends (...args: never[]) => infer R ? R : never;
/** Handlers for API `A`: the method's arguments, a value or a promise of it. */
export type Handlers<A> = {
  [K in keyof A]: A[K] extends (...args: infer P) => infer R ? (...args: P) => R | Promise<R> : never;
};

/** Options of one call. */
export interface CallOptions {
  readonly signal?: AbortSignal | undefined;
  /** Buffers inside `args` this side owns and gives away. */
  readonly transfer?: readonly ArrayBuffer[];
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  cleanup(): void;
}

export interface ThreadChannelOptions<Local, In> {
  readonly port: PortLike;
  readonly handlers: Handlers<Local>;
  readonly onNote: (note: In) => void;
  /** A message this side cannot read, or one that could not be posted (bugs; logged by the owner). */
  readonly onProblem: (err: Error) => void;
}

export class ThreadChannel<Local, Remote, In extends { readonly t: string }, Out extends { readonly t: string }> {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Incoming calls not answered yet; a cancel removes the id, and its answer is dropped. */
  private readonly serving = new Set<number>();
  private queue: Array<{ readonly env: Envelope; readonly transfer: readonly ArrayBuffer[] | undefined }> = [];
  private scheduled = false;
  private failure: Error | undefined;

  constructor(private readonly opts: ThreadChannelOptions<Local, In>) {}

  /** Calls `method` on the other thread. */
  call<K extends keyof Remote & string>(method: K, args: CallArgs<Remote, K>, o: CallOptions = {}): Promise<Awaited<CallResult<Remote, K>>> {
    if (this.failure !== undefined) {
      return Promise.reject(new MrkvError(RaftstoreThreadCodes.THREAD_STOPPED, `raftstore thread is gone; ${method} refused`, { cause: this.failure }));
    }
    const signal = o.signal;
    if (signal?.aborted === true) return Promise.reject(abortReason(signal));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        if (!this.pending.delete(id)) return;
        this.enqueue({ t: 'cancel', id });
        reject(abortReason(signal!));
      };
      this.pending.set(id, {
        resolve: resolve as (v: unknown) => void,
        reject,
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      this.enqueue({ t: 'call', id, method, args: o.transfer === undefined ? compactDeep(args) : args }, o.transfer);
    });
  }

  /** Sends a one-way note. */
  notify(note: Out, transfer?: readonly ArrayBuffer[]): void {
    if (this.failure !== undefined) return;
    this.enqueue({ t: 'note', note: transfer === undefined ? compactDeep(note) : note }, transfer);
  }

  /** Calls waiting for a reply. */
  get pendingCalls(): number {
    return this.pending.size;
  }

  /** Rejects every pending call with `err` and refuses new calls and notes. */
  fail(err: Error): void {
    if (this.failure !== undefined) return;
    this.failure = err;
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) {
      p.cleanup();
      p.reject(new MrkvError(RaftstoreThreadCodes.THREAD_STOPPED, 'raftstore thread is gone; the call has no answer', { cause: err }));
    }
    this.serving.clear();
    this.queue = [];
  }

  /** Handles one posted batch from the other side. */
  receive(batch: unknown): void {
    if (!Array.isArray(batch)) {
      this.opts.onProblem(new MrkvError(RaftstoreThreadCodes.BAD_MESSAGE, `expected an array of envelopes, got ${typeof batch}`));
      return;
    }
    for (const env of batch as Envelope[]) this.receiveOne(env);
  }

  private receiveOne(env: Envelope): void {
    switch (env.t) {
      case 'call':
        return this.serve(env.id, env.method, env.args);
      case 'reply': {
        const p = this.pending.get(env.id);
        if (p === undefined) return; // cancelled meanwhile
        this.pending.delete(env.id);
        p.cleanup();
        if (env.ok) p.resolve(env.value);
        else p.reject(errorFromThread(env.error));
        return;
      }
      case 'cancel':
        this.serving.delete(env.id);
        return;
      case 'note':
        this.opts.onNote(env.note as In);
        return;
      default:
        this.opts.onProblem(new MrkvError(RaftstoreThreadCodes.BAD_MESSAGE, `unknown envelope ${JSON.stringify((env as { t?: unknown }).t)}`));
    }
  }

  private serve(id: number, method: string, args: readonly unknown[]): void {
    const handler = (this.opts.handlers as Record<string, ((...a: unknown[]) => unknown) | undefined>)[method];
    if (handler === undefined || !Object.hasOwn(this.opts.handlers as object, method)) {
      const err = new MrkvError(RaftstoreThreadCodes.BAD_MESSAGE, `unknown method ${JSON.stringify(method)}`);
      this.enqueue({ t: 'reply', id, ok: false, error: errorToThread(err) });
      return;
    }
    this.serving.add(id);
    let result: Promise<unknown>;
    try {
      result = Promise.resolve(handler(...args));
    } catch (err) {
      result = Promise.reject(err);
    }
    result.then(
      (value) => {
        if (this.serving.delete(id)) this.enqueue({ t: 'reply', id, ok: true, value: compactDeep(value) });
      },
      (err: unknown) => {
        if (this.serving.delete(id)) this.enqueue({ t: 'reply', id, ok: false, error: compactDeep(errorToThread(err)) });
      },
    );
  }

  private enqueue(env: Envelope, transfer?: readonly ArrayBuffer[]): void {
    if (this.failure !== undefined) return;
    this.queue.push({ env, transfer });
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Posts what is queued now (also called before the port closes). */
  flush(): void {
    this.scheduled = false;
    if (this.queue.length === 0) return;
    const queue = this.queue;
    this.queue = [];
    const transfer = new Set<ArrayBuffer>();
    for (const q of queue) if (q.transfer !== undefined) for (const b of q.transfer) transfer.add(b);
    try {
      this.opts.port.postMessage(
        queue.map((q) => q.env),
        [...transfer],
      );
    } catch {
      // Something in the batch would not clone (nothing was transferred then): post one by one,
      // so only the culprit fails.
      for (const q of queue) {
        try {
          this.opts.port.postMessage([q.env], q.transfer);
        } catch (err) {
          this.unpostable(q.env, err);
        }
      }
    }
  }

  /** An envelope that cannot be posted: fail what waits on it. */
  private unpostable(env: Envelope, err: unknown): void {
    const e = new MrkvError(RaftstoreThreadCodes.BAD_MESSAGE, `could not post a ${env.t} to the other thread: ${(err as Error).message}`, { cause: err });
    if (env.t === 'call') {
      const p = this.pending.get(env.id);
      this.pending.delete(env.id);
      p?.cleanup();
      p?.reject(e);
    } else if (env.t === 'reply') {
      this.opts.port.postMessage([{ t: 'reply', id: env.id, ok: false, error: errorToThread(e) } satisfies Envelope]);
    } else {
      this.opts.onProblem(e);
    }
  }
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}
