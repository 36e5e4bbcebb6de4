/** An in-process mrkv-pd on a memory engine and free ports, plus promisified gRPC clients. */
import type * as grpc from '@grpc/grpc-js';
import { noopLogger } from '@mrkv/common';
import { openMemoryKvEngine } from '@mrkv/engine';
import { createPdAdminClient, createPdClient, type PDClient, type PdAdminClient } from '@mrkv/proto';
import { loadPdConfig } from '../config.js';
import { runPd, type RunningPd } from '../run-pd.js';

export interface InProcessPd {
  running: RunningPd;
  client: PDClient;
  admin: PdAdminClient;
  clusterId: string;
  close(): Promise<void>;
}

export async function startInProcessPd(flags: Record<string, unknown> = {}): Promise<InProcessPd> {
  const engine = openMemoryKvEngine();
  const cfg = loadPdConfig({ flags: { 'client-urls': '127.0.0.1:0', 'status-addr': '127.0.0.1:0', 'tick-interval-ms': 50, ...flags } });
  const running = await runPd(cfg, { logger: noopLogger, engine });
  const client = createPdClient(running.address);
  const admin = createPdAdminClient(running.address);
  return {
    running,
    client,
    admin,
    clusterId: String(running.pd.cluster.clusterId),
    async close() {
      client.close();
      admin.close();
      await running.stop();
      await engine.close();
    },
  };
}

/** Calls a unary method of a grpc-js client as a promise. */
export function call<Res>(client: grpc.Client, method: string, req: object): Promise<Res> {
  const fn = (client as unknown as Record<string, (r: object, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: Res) => void) => void>)[method]!;
  return new Promise((resolve, reject) => fn.call(client, req, { deadline: Date.now() + 5000 }, (e, r) => (e ? reject(e) : resolve(r!))));
}

/** Resolves when `cond()` holds, polling every 10 ms; rejects after `timeoutMs`. */
export async function waitFor(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
