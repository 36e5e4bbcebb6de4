/**
 * BatchCommands cancellation under load: every request runs under its own AbortSignal, so many
 * requests in flight on one stream hang no pile of abort listeners on a shared signal (which
 * Node reports as MaxListenersExceededWarning past 10), no listener outlives its request, and
 * cancelling the stream still aborts every request in flight.
 */
import type * as grpc from '@grpc/grpc-js';
import { getEventListeners } from 'node:events';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Region, tikvpb } from '@mrkv/proto';
import { b, ctxFor, startTestStore, type TestStore } from '../__tests__/fixtures.js';

type Frame = tikvpb.BatchCommandsResponse__Output;
type Stream = grpc.ClientDuplexStream<tikvpb.BatchCommandsRequest, Frame>;

let t: TestStore;
let region: Region;
const warnings: Error[] = [];
const onWarning = (w: Error): void => {
  warnings.push(w);
};

beforeAll(async () => {
  t = await startTestStore();
  region = t.kv.regionList()[0]!;
  process.on('warning', onWarning);
});
afterAll(async () => {
  process.off('warning', onWarning);
  await t.close();
});
afterEach(() => t.kv.setHook(undefined));

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

function open(): { stream: Stream; answers: Map<string, tikvpb.BatchCommandsResponse_Response__Output> } {
  const stream = t.client.BatchCommands() as Stream;
  const answers = new Map<string, tikvpb.BatchCommandsResponse_Response__Output>();
  stream.on('data', (f: Frame) => f.requestIds.forEach((id, i) => answers.set(id, f.responses[i]!)));
  stream.on('error', () => {});
  return { stream, answers };
}

/**
 * A hook that holds every operation until `release()`, listening for aborts the way the
 * raftstore's RawKvApi does (one listener per call, removed when the call settles).
 */
function holdingHook(): { signals: AbortSignal[]; aborted: () => number; release: () => void } {
  const signals: AbortSignal[] = [];
  let aborted = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  t.kv.setHook(
    (_op, _ctx, signal) =>
      new Promise<void>((resolve, reject) => {
        signals.push(signal!);
        const onAbort = () => {
          aborted++;
          reject(signal!.reason instanceof Error ? signal!.reason : new Error('aborted'));
        };
        signal!.addEventListener('abort', onAbort, { once: true });
        void gate.then(() => {
          signal!.removeEventListener('abort', onAbort);
          resolve();
        });
      }),
  );
  return { signals, aborted: () => aborted, release };
}

describe('BatchCommands abort signals', () => {
  it('gives each in-flight request its own signal: no listener pile-up, none left afterwards', async () => {
    const hook = holdingHook();
    const s = open();
    const n = 200;
    // Half with a server-side deadline (the deadline wrapper listens on the request's signal too).
    const requests = Array.from({ length: n }, (_, i) => ({
      RawGet: { context: ctxFor(region, i % 2 === 0 ? { maxExecutionDurationMs: 10_000 } : {}), key: b(`k${i}`) },
    }));
    const ids = requests.map((_, i) => i + 1);
    s.stream.write({ requests: requests.slice(0, n / 2), requestIds: ids.slice(0, n / 2) });
    s.stream.write({ requests: requests.slice(n / 2), requestIds: ids.slice(n / 2) });
    await until(() => hook.signals.length === n, `${n} requests in the hook`);

    expect(new Set(hook.signals).size).toBe(n);
    const most = Math.max(...hook.signals.map((sig) => getEventListeners(sig, 'abort').length));
    expect(most).toBeLessThanOrEqual(2);

    hook.release();
    await until(() => s.answers.size === n, 'every answer');
    for (const id of ids) expect(s.answers.get(String(id))?.RawGet?.regionError).toBeNull();
    for (const sig of hook.signals) expect(getEventListeners(sig, 'abort')).toHaveLength(0);
    expect(hook.aborted()).toBe(0);
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    s.stream.end();
  });

  it('still aborts every request in flight when the client cancels the stream', async () => {
    const hook = holdingHook();
    const s = open();
    const n = 50;
    s.stream.write({
      requests: Array.from({ length: n }, (_, i) => ({ RawPut: { context: ctxFor(region), key: b(`p${i}`), value: b('v') } })),
      requestIds: Array.from({ length: n }, (_, i) => i + 1),
    });
    await until(() => hook.signals.length === n, `${n} requests in the hook`);
    s.stream.cancel();
    await until(() => hook.aborted() === n && t.server.inflight === 0, 'every request aborted');
    expect(hook.signals.every((sig) => sig.aborted)).toBe(true);
    hook.release();
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  });
});
