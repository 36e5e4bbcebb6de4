/**
 * `tikvpb.Tikv/BatchCommands`: a bidirectional stream multiplexing RawKV requests (reference
 * §1.1; client-go sends everything this way). Each inbound frame holds parallel `requests` and
 * `request_ids`; every request runs concurrently, and responses go back by id, in any order.
 * Responses that complete within the same macrotask share one outbound frame.
 *
 * - `Empty` (arm 255) echoes its `test_id`, after `delay_time` ms if asked (capped at 10 s).
 * - An arm mrkv does not serve (kvproto's transactional arms decode as "no command") is answered
 *   with a Response that has no arm set, for that id only: TiKV clients surface it as an error of
 *   that request; the stream goes on.
 * - Back-pressure: at most `maxInflightPerStream` requests per stream, then ServerIsBusy region
 *   errors (plus the server-wide bound applied to every request).
 * - A frame whose `request_ids` do not pair with its `requests` ends the stream with
 *   INVALID_ARGUMENT: ids are the only way to match answers, so nothing sane can be answered.
 * - When the client half-closes, the stream ends after the last answer; when it cancels, the
 *   in-flight requests are aborted. On graceful shutdown the stream ends once idle.
 * - Each request gets its own AbortController, held in the stream's set while it runs. Handing
 *   the stream's one signal to every request would hang one abort listener per in-flight request
 *   on it (the deadline wrapper and the raftstore each add one), which passes EventTarget's
 *   listener limit under load (MaxListenersExceededWarning) and makes every abort an O(n) walk.
 *   The stream's own controller (registered for a forced stop) has exactly one listener, which
 *   aborts the set.
 */
import * as grpc from '@grpc/grpc-js';
import type { tikvpb } from '@mrkv/proto';
import { StoreErrorCodes } from '../errors.js';
import { busyResponse, serveAdmitted, type ServingContext } from './serve.js';
import type { RawMethod, RawRequest, RawResponse } from './raw-kv.js';

type Frame = tikvpb.BatchCommandsRequest__Output;
type Req = tikvpb.BatchCommandsRequest_Request__Output;
type Resp = tikvpb.BatchCommandsResponse_Response;
type Duplex = grpc.ServerDuplexStream<Frame, tikvpb.BatchCommandsResponse>;

/** The Raw arms, named like their methods. */
const RAW_ARMS = [
  'RawGet',
  'RawBatchGet',
  'RawPut',
  'RawBatchPut',
  'RawDelete',
  'RawBatchDelete',
  'RawScan',
  'RawDeleteRange',
  'RawBatchScan',
] as const satisfies readonly RawMethod[];
type RawArm = (typeof RAW_ARMS)[number];
const RAW_ARM_SET: ReadonlySet<string> = new Set(RAW_ARMS);

/** Longest `Empty.delay_time` honoured. */
export const MAX_EMPTY_DELAY_MS = 10_000;

export class BatchCommandsStream {
  private inflight = 0;
  private responses: Resp[] = [];
  private ids: string[] = [];
  private flushScheduled = false;
  private halfClosed = false;
  private closed = false;
  /** Aborted on a forced stop or when the stream closes; its one listener aborts `requests`. */
  private readonly abort = new AbortController();
  /** The controllers of the requests in flight (Invariant: size <= inflight). */
  private readonly requests = new Set<AbortController>();
  private readonly untrackAbort: () => void;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly sc: ServingContext,
    private readonly call: Duplex,
    private readonly untrack: () => void,
  ) {
    this.abort.signal.addEventListener('abort', () => this.abortRequests(), { once: true });
    this.untrackAbort = sc.inflight.add(this.abort);
    sc.metrics.batchCommandsStreams.inc();
    call.on('data', (frame: Frame) => this.onFrame(frame));
    call.on('end', () => {
      this.halfClosed = true;
      this.maybeEnd();
    });
    call.on('cancelled', () => this.close());
    call.on('error', () => this.close());
    call.on('close', () => this.close());
  }

  /** Ends the stream now if nothing is in flight (graceful shutdown); otherwise after the last answer. */
  endWhenIdle(): void {
    this.halfClosed = true;
    this.maybeEnd();
  }

  private onFrame(frame: Frame): void {
    if (this.closed) return;
    this.sc.metrics.batchCommandsFrames.inc({ direction: 'in' });
    if (frame.requests.length !== frame.requestIds.length) {
      this.fail(
        grpc.status.INVALID_ARGUMENT,
        `[${StoreErrorCodes.INVALID_BATCH_FRAME}] frame has ${frame.requests.length} requests but ${frame.requestIds.length} request ids`,
      );
      return;
    }
    for (let i = 0; i < frame.requests.length; i++) this.dispatch(frame.requests[i]!, frame.requestIds[i]!);
  }

  private dispatch(req: Req, id: string): void {
    const cmd = req.cmd;
    if (cmd === 'Empty') {
      this.empty(id, req.Empty!);
      return;
    }
    if (cmd === undefined || !RAW_ARM_SET.has(cmd)) {
      this.sc.metrics.grpcRequests.inc({ method: 'BatchCommands.unknown', outcome: 'error' });
      this.sc.logger.debug({ requestId: id }, 'BatchCommands request with an arm this store does not serve');
      this.answer(id, {});
      return;
    }
    this.raw(cmd as RawArm, req, id);
  }

  private raw<A extends RawArm>(arm: A, req: Req, id: string): void {
    const body = req[arm] as RawRequest<A>;
    const wrap = (r: RawResponse<A>): Resp => ({ [arm]: r }) as Resp;
    if (this.inflight >= this.sc.maxInflightPerStream) {
      this.answer(id, wrap(busyResponse(this.sc, arm, `too many requests in flight on this stream (limit ${this.sc.maxInflightPerStream})`, 'stream')));
      return;
    }
    this.inflight++;
    const ac = new AbortController();
    this.requests.add(ac);
    if (this.abort.signal.aborted) ac.abort(this.abort.signal.reason);
    void serveAdmitted(this.sc, arm, body, ac.signal).then((r) => {
      this.requests.delete(ac);
      this.inflight--;
      this.answer(id, wrap(r));
    });
  }

  /** Aborts every request in flight on this stream (cancel, close, forced stop). */
  private abortRequests(): void {
    const reason: unknown = this.abort.signal.reason;
    for (const ac of this.requests) ac.abort(reason);
    this.requests.clear();
  }

  private empty(id: string, req: tikvpb.BatchCommandsEmptyRequest__Output): void {
    const delay = Math.min(Number(req.delayTime), MAX_EMPTY_DELAY_MS);
    const reply = { Empty: { testId: req.testId } };
    if (!(delay > 0)) {
      this.answer(id, reply);
      return;
    }
    this.inflight++;
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.inflight--;
      this.answer(id, reply);
    }, delay);
    this.timers.add(t);
  }

  private answer(id: string, resp: Resp): void {
    if (this.closed) return;
    this.responses.push(resp);
    this.ids.push(id);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.closed || this.responses.length === 0) {
      this.maybeEnd();
      return;
    }
    const frame: tikvpb.BatchCommandsResponse = {
      responses: this.responses,
      requestIds: this.ids,
      tikvSendTimeNs: (BigInt(Math.round(this.sc.clock.wallMs())) * 1_000_000n).toString(),
    };
    this.responses = [];
    this.ids = [];
    this.sc.metrics.batchCommandsFrames.inc({ direction: 'out' });
    this.call.write(frame);
    this.maybeEnd();
  }

  private maybeEnd(): void {
    if (this.closed || !this.halfClosed || this.inflight > 0 || this.responses.length > 0) return;
    this.closed = true;
    this.cleanup();
    this.call.end();
  }

  private fail(code: grpc.status, details: string): void {
    if (this.closed) return;
    this.sc.logger.warn({ code, details }, 'BatchCommands stream failed');
    this.close();
    this.call.emit('error', { code, details });
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.cleanup();
  }

  private cleanup(): void {
    this.untrackAbort();
    if (this.inflight > 0) this.abort.abort();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.sc.metrics.batchCommandsStreams.dec();
    this.untrack();
  }
}
