/**
 * One call's budget and cancellation (client-go's `Backoffer` plus its context): the deadline,
 * the caller's AbortSignal, the client's close, and the backoff sleeps between retries.
 *
 * `signal` fires when any of the three ends the call; `failure()` is then the typed error to
 * reject with (DEADLINE_EXCEEDED, CANCELLED or CLOSED). `backoff(kind, err)` sleeps the next delay
 * of that kind, or throws when the call's total sleep budget (`maxBackoffMs`) is spent:
 * REGION_UNAVAILABLE, STORE_UNAVAILABLE or PD_UNAVAILABLE by kind, with `err` as the cause.
 * `dispose()` must run when the call ends (it clears the deadline timer and the listeners).
 */
import { setMaxListeners } from 'node:events';
import type { Clock, Rng } from '@mrkv/common';
import { backoffDelay, type BackoffCurve, type BackoffKind } from './backoff.js';
import { ClientError, ClientErrorCodes, type ClientErrorCode } from './errors.js';

/** What a scope needs from its client. */
export interface ScopeEnv {
  readonly clock: Clock;
  readonly rng: Rng;
  readonly curves: Readonly<Record<BackoffKind, BackoffCurve>>;
  /** Fires when the client closes. */
  readonly closing: AbortSignal;
}

export interface ScopeOptions {
  readonly timeoutMs: number;
  readonly maxBackoffMs: number;
  readonly signal?: AbortSignal | undefined;
}

/** The longest delay a Node timer holds. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const GIVE_UP: Record<BackoffKind, ClientErrorCode> = {
  tikvRpc: ClientErrorCodes.STORE_UNAVAILABLE,
  pdRpc: ClientErrorCodes.PD_UNAVAILABLE,
  regionMiss: ClientErrorCodes.REGION_UNAVAILABLE,
  regionScheduling: ClientErrorCodes.REGION_UNAVAILABLE,
  serverBusy: ClientErrorCodes.REGION_UNAVAILABLE,
  staleCmd: ClientErrorCodes.REGION_UNAVAILABLE,
};

export class CallScope {
  /** Monotonic ms at which the call's deadline passes. */
  readonly deadline: number;
  /** Fires when the call must stop (deadline, caller abort, client close). */
  readonly signal: AbortSignal;
  /** The last failure that was retried (the cause of DEADLINE_EXCEEDED). */
  lastError: unknown;
  private readonly controller = new AbortController();
  private readonly attempts = new Map<BackoffKind, number>();
  private slept = 0;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly unlisten: Array<() => void> = [];

  constructor(
    private readonly env: ScopeEnv,
    private readonly opts: ScopeOptions,
  ) {
    this.signal = this.controller.signal;
    // One listener per request in flight (a batch call sends many).
    setMaxListeners(0, this.signal);
    this.deadline = env.clock.nowMs() + opts.timeoutMs;
    // Timers hold at most 2^31-1 ms; a longer (or infinite) deadline simply never fires.
    this.timer = opts.timeoutMs <= MAX_TIMER_MS ? setTimeout(() => this.end(this.deadlineError()), Math.max(0, opts.timeoutMs)) : undefined;
    this.timer?.unref();
    this.follow(env.closing, () => new ClientError(ClientErrorCodes.CLOSED, 'the client is closed'));
    if (opts.signal !== undefined) {
      this.follow(opts.signal, (s) => new ClientError(ClientErrorCodes.CANCELLED, 'the call was cancelled', { cause: s.reason }));
    }
  }

  /** Milliseconds left before the deadline (≥ 0). */
  remainingMs(): number {
    return Math.max(0, this.deadline - this.env.clock.nowMs());
  }

  /** The typed error the call ends with once `signal` fired. */
  failure(): ClientError {
    return this.signal.reason as ClientError;
  }

  /** Throws the call's failure if it must stop. */
  check(): void {
    if (this.signal.aborted) throw this.failure();
  }

  /**
   * Records `err` as retried and sleeps the next delay of `kind`. Throws the scope's failure if the
   * call ends meanwhile, or the kind's "unavailable" error when the sleep budget is spent.
   */
  async backoff(kind: BackoffKind, err: unknown, hintMs = 0): Promise<void> {
    this.lastError = err;
    this.check();
    const attempt = this.attempts.get(kind) ?? 0;
    this.attempts.set(kind, attempt + 1);
    const delay = backoffDelay(this.env.curves[kind], attempt, this.env.rng, hintMs);
    if (this.slept + delay > this.opts.maxBackoffMs) {
      const code = GIVE_UP[kind];
      throw new ClientError(code, `gave up after ${Math.round(this.slept)} ms of backoff (${kind}): ${describe(err)}`, {
        cause: err,
        details: { backoffKind: kind, sleptMs: Math.round(this.slept), lastError: codeOf(err) },
      });
    }
    this.slept += delay;
    await this.sleep(Math.min(delay, MAX_TIMER_MS));
  }

  /** Sleeps `ms`, or throws the scope's failure when the call ends first. */
  sleep(ms: number): Promise<void> {
    this.check();
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        clearTimeout(t);
        reject(this.failure());
      };
      const t = setTimeout(() => {
        this.signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      this.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Ends the call's timers and listeners. Idempotent. */
  dispose(): void {
    clearTimeout(this.timer);
    for (const u of this.unlisten.splice(0)) u();
  }

  private follow(source: AbortSignal, why: (s: AbortSignal) => ClientError): void {
    if (source.aborted) {
      this.end(why(source));
      return;
    }
    const on = (): void => this.end(why(source));
    source.addEventListener('abort', on, { once: true });
    this.unlisten.push(() => source.removeEventListener('abort', on));
  }

  private end(err: ClientError): void {
    if (!this.signal.aborted) this.controller.abort(err);
  }

  private deadlineError(): ClientError {
    const last = this.lastError;
    return new ClientError(ClientErrorCodes.DEADLINE_EXCEEDED, `deadline of ${this.opts.timeoutMs} ms exceeded${last === undefined ? '' : `; last error: ${describe(last)}`}`, {
      cause: last,
      details: { timeoutMs: this.opts.timeoutMs, lastError: codeOf(last) },
    });
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : typeof code === 'number' ? `grpc:${code}` : undefined;
}
