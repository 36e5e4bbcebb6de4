/**
 * One unary gRPC call bound to a call scope: its gRPC deadline is the scope's remaining time
 * (capped by `capMs`), and the scope's signal cancels it. A cancelled call rejects with the
 * scope's failure, so callers see DEADLINE_EXCEEDED / CANCELLED / CLOSED, never a bare
 * CANCELLED gRPC status.
 */
import type * as grpc from '@grpc/grpc-js';
import type { CallScope } from './call-scope.js';
import { ClientError, ClientErrorCodes } from './errors.js';

/** The shape of a generated unary method: `(request, options, callback) => call`. */
export type UnaryMethod<Req, Res> = (req: Req, options: grpc.CallOptions, cb: grpc.requestCallback<Res>) => grpc.ClientUnaryCall;

/** A gRPC ServiceError (status code plus details), as grpc-js reports failed calls. */
export function isServiceError(e: unknown): e is grpc.ServiceError {
  return e instanceof Error && typeof (e as { code?: unknown }).code === 'number' && 'details' in e;
}

/** Runs `method(req)` under `scope`. `capMs` bounds one attempt (a PD or store that hangs). */
export function unaryCall<Req, Res>(method: UnaryMethod<Req, Res>, req: Req, scope: CallScope, capMs = Infinity): Promise<Res> {
  scope.check();
  return new Promise<Res>((resolve, reject) => {
    const budget = Math.min(scope.remainingMs(), capMs);
    const onAbort = (): void => {
      call.cancel();
    };
    const deadline = Number.isFinite(budget) ? new Date(Date.now() + Math.max(1, budget)) : Infinity;
    const call = method(req, { deadline }, (err, res) => {
      scope.signal.removeEventListener('abort', onAbort);
      if (scope.signal.aborted) reject(scope.failure());
      else if (err !== null) reject(err);
      else if (res === undefined) reject(new ClientError(ClientErrorCodes.PROTOCOL, 'empty gRPC response'));
      else resolve(res);
    });
    scope.signal.addEventListener('abort', onAbort, { once: true });
  });
}
