/**
 * Serving one RawKV request, whichever way it arrived (unary call or BatchCommands arm):
 * admission (draining, server-wide in-flight bound → ServerIsBusy), the method itself
 * (raw-kv.ts), and the request metrics (count by outcome, latency).
 */
import type { Clock } from '@mrkv/common';
import { regionErrorToWire } from '@mrkv/proto';
import type { StoreMetrics } from '../metrics.js';
import { serverIsBusy, type Admission } from './admission.js';
import { rawFailureResponse, serveRaw, type RawKvDeps, type RawMethod, type RawRequest, type RawResponse } from './raw-kv.js';
import { outcomeOf } from './respond.js';

/** Everything the request paths share, owned by the server assembly (server.ts). */
export interface ServingContext extends RawKvDeps {
  readonly metrics: StoreMetrics;
  readonly admission: Admission;
  /** Requests in flight on one BatchCommands stream before ServerIsBusy. */
  readonly maxInflightPerStream: number;
  readonly clock: Clock;
  /** True once a graceful shutdown began: new requests get ServerIsBusy so clients go elsewhere. */
  draining(): boolean;
  /** The abort controllers of everything in flight; a forced stop aborts them all. */
  readonly inflight: InflightAborts;
}

/**
 * The abort controllers of in-flight calls and streams (one per unary call, one per BatchCommands
 * stream), so a forced stop can abort them. A registry rather than `AbortSignal.any` per request:
 * combining signals costs more than the rest of a small request's server-side work.
 */
export class InflightAborts {
  private readonly controllers = new Set<AbortController>();
  private stopped = false;

  /** Registers a controller; returns the function that unregisters it. */
  add(ac: AbortController): () => void {
    if (this.stopped) ac.abort();
    this.controllers.add(ac);
    return () => this.controllers.delete(ac);
  }

  /** Aborts everything registered now and later. */
  abortAll(): void {
    this.stopped = true;
    for (const ac of this.controllers) ac.abort();
    this.controllers.clear();
  }
}

/** A ServerIsBusy answer for `method`, counted in the metrics. */
export function busyResponse<M extends RawMethod>(sc: ServingContext, method: M, reason: string, bound: string): RawResponse<M> {
  sc.metrics.busyRejections.inc({ bound });
  sc.metrics.grpcRequests.inc({ method, outcome: 'region_error' });
  return rawFailureResponse(method, { kind: 'region', regionError: regionErrorToWire(serverIsBusy(reason)) });
}

/**
 * Admits and serves one request. Never throws. The caller has already admitted it against any
 * narrower bound of its own (a BatchCommands stream's).
 */
export async function serveAdmitted<M extends RawMethod>(sc: ServingContext, method: M, req: RawRequest<M>, signal: AbortSignal): Promise<RawResponse<M>> {
  if (sc.draining()) return busyResponse(sc, method, 'store is shutting down', 'draining');
  if (!sc.admission.tryEnter()) return busyResponse(sc, method, `too many requests in flight (limit ${sc.admission.max})`, 'server');
  sc.metrics.inflightRequests.inc();
  const started = sc.clock.nowMs();
  try {
    const resp = await serveRaw(sc, method, req, signal);
    sc.metrics.grpcRequests.inc({ method, outcome: outcomeOf(resp) });
    sc.metrics.grpcDuration.observe({ method }, (sc.clock.nowMs() - started) / 1000);
    return resp;
  } finally {
    sc.metrics.inflightRequests.dec();
    sc.admission.leave();
  }
}
