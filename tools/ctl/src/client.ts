/**
 * The admin client: `mrkv.pdadmin.PdAdmin` calls as promises with a deadline, and gRPC failures
 * as CtlErrors (UNAVAILABLE / DEADLINE_EXCEEDED → unreachable, exit 3; anything PD answered →
 * `CTL:Pd` with PD's own code, exit 1).
 */
import * as grpc from '@grpc/grpc-js';
import { createPdAdminClient, type PdAdminClient } from '@mrkv/proto';
import { CtlError, CtlErrorCodes } from './errors.js';

export class AdminClient {
  private readonly client: PdAdminClient;

  constructor(
    readonly address: string,
    private readonly timeoutMs: number,
  ) {
    this.client = createPdAdminClient(address);
  }

  /** Calls `method` with `req`. */
  call<Res>(method: string, req: object): Promise<Res> {
    const fn = (this.client as unknown as Record<string, (r: object, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: Res) => void) => void>)[method];
    if (fn === undefined) return Promise.reject(new CtlError(CtlErrorCodes.USAGE, `no admin method ${method}`));
    return new Promise<Res>((resolve, reject) =>
      fn.call(this.client, req, { deadline: Date.now() + this.timeoutMs }, (e, r) => (e ? reject(this.toCtlError(e)) : resolve(r!))),
    );
  }

  close(): void {
    this.client.close();
  }

  private toCtlError(e: grpc.ServiceError): CtlError {
    if (e.code === grpc.status.UNAVAILABLE || e.code === grpc.status.DEADLINE_EXCEEDED) {
      return new CtlError(CtlErrorCodes.UNREACHABLE, `cannot reach PD at ${this.address}: ${e.details || e.message}`, { cause: e });
    }
    if (e.code === grpc.status.UNIMPLEMENTED) {
      return new CtlError(CtlErrorCodes.UNREACHABLE, `${this.address} does not serve mrkv.pdadmin.PdAdmin (is it an mrkv-pd?)`, { cause: e });
    }
    const pdCode = e.metadata?.get('mrkv-error-code')[0];
    const details = e.details || e.message;
    const message = typeof pdCode === 'string' && details.startsWith(`${pdCode}: `) ? details.slice(pdCode.length + 2) : details;
    return new CtlError(CtlErrorCodes.PD, message, { cause: e, details: { pdCode: pdCode ?? '', grpcCode: e.code } });
  }
}
