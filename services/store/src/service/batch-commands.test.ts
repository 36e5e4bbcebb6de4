/**
 * BatchCommands over real gRPC with a stock client stream: responses matched by request id,
 * concurrency and out-of-order completion, batching of answers that complete together, the Empty
 * arm, unknown arms, per-stream back-pressure, half-close, and bad frames.
 */
import type * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Region, tikvpb } from '@mrkv/proto';
import { b, ctxFor, startTestStore, type TestStore } from '../__tests__/fixtures.js';

type Frame = tikvpb.BatchCommandsResponse__Output;
type Stream = grpc.ClientDuplexStream<tikvpb.BatchCommandsRequest, Frame>;

let t: TestStore;
let region: Region;

beforeAll(async () => {
  t = await startTestStore({ flags: { 'server.max-inflight-per-stream': 4 } });
  region = t.kv.regionList()[0]!;
});
afterAll(async () => {
  await t.close();
});
beforeEach(() => t.kv.setHook(undefined));

/** Opens a stream that records every frame and the final status. */
function open(): { stream: Stream; frames: Frame[]; answers: Map<string, tikvpb.BatchCommandsResponse_Response__Output>; status: Promise<grpc.StatusObject> } {
  const stream = t.client.BatchCommands() as Stream;
  const frames: Frame[] = [];
  const answers = new Map<string, tikvpb.BatchCommandsResponse_Response__Output>();
  stream.on('data', (f: Frame) => {
    frames.push(f);
    f.requestIds.forEach((id, i) => answers.set(id, f.responses[i]!));
  });
  stream.on('error', () => {});
  const status = new Promise<grpc.StatusObject>((resolve) => stream.on('status', resolve));
  return { stream, frames, answers, status };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

describe('BatchCommands', () => {
  it('answers every arm by request id, including Empty and an arm it does not serve', async () => {
    const s = open();
    s.stream.write({
      requests: [
        { RawPut: { context: ctxFor(region), key: b('k1'), value: b('v1') } },
        { Empty: { testId: 42 } },
        {}, // no arm set: what a transactional arm decodes as here
        { RawScan: { context: ctxFor(region), startKey: b('k'), limit: 0 } },
      ],
      requestIds: [10, 11, 12, 13],
    });
    await until(() => s.answers.size === 4, 'four answers');
    expect(s.answers.get('10')?.cmd).toBe('RawPut');
    expect(s.answers.get('10')?.RawPut?.error).toBe('');
    expect(s.answers.get('11')?.Empty?.testId).toBe('42');
    expect(s.answers.get('12')?.cmd).toBeUndefined();
    expect(s.answers.get('13')?.RawScan?.kvs[0]?.error?.abort).toMatch(/^\[KV:Storage:InvalidScanLimit\]/);

    s.stream.write({ requests: [{ RawGet: { context: ctxFor(region), key: b('k1') } }], requestIds: ['18446744073709551615'] });
    await until(() => s.answers.has('18446744073709551615'), 'the max-id answer');
    expect(s.answers.get('18446744073709551615')?.RawGet?.value.toString()).toBe('v1');
    s.stream.end();
    expect((await s.status).code).toBe(0);
  });

  it('serves RawBatchScan (only reachable here): ranges, each_limit, key_only, reverse, bad ranges', async () => {
    const s = open();
    const put = (k: string) => ({ RawPut: { context: ctxFor(region), key: b(k), value: b(`v-${k}`) } });
    // Two frames: this stream admits 4 requests at a time.
    s.stream.write({ requests: ['ba', 'bb', 'bc'].map(put), requestIds: [1, 2, 3] });
    await until(() => s.answers.size === 3, 'the first puts');
    s.stream.write({ requests: ['bx', 'by'].map(put), requestIds: [4, 5] });
    await until(() => s.answers.size === 5, 'the puts');
    for (const id of ['1', '2', '3', '4', '5']) expect(s.answers.get(id)?.RawPut?.regionError).toBeNull();
    s.stream.write({
      requests: [
        { RawBatchScan: { context: ctxFor(region), ranges: [{ startKey: b('ba'), endKey: b('bc') }, { startKey: b('bx'), endKey: b('bz') }], eachLimit: 1 } },
        { RawBatchScan: { context: ctxFor(region), ranges: [{ startKey: b('bz'), endKey: b('bx') }, { startKey: b('bc'), endKey: b('ba') }], eachLimit: 5, keyOnly: true, reverse: true } },
        { RawBatchScan: { context: ctxFor(region), ranges: [{ startKey: b('bc'), endKey: b('ba') }], eachLimit: 5 } },
        { RawBatchScan: { context: ctxFor(region), ranges: [], eachLimit: 5 } },
      ],
      requestIds: [10, 11, 12, 13],
    });
    await until(() => s.answers.size === 9, 'the scans');
    const kvs = (id: string) => s.answers.get(id)!.RawBatchScan!.kvs;
    expect(kvs('10').map((p) => [p.key.toString(), p.value.toString()])).toEqual([
      ['ba', 'v-ba'],
      ['bx', 'v-bx'],
    ]);
    expect(kvs('11').map((p) => [p.key.toString(), p.value.length])).toEqual([
      ['by', 0],
      ['bx', 0],
      ['bb', 0],
      ['ba', 0],
    ]);
    expect(kvs('12')[0]?.error?.abort).toMatch(/^\[KV:Storage:InvalidReqRange\]/);
    expect(kvs('13')[0]?.error?.abort).toMatch(/^\[KV:Storage:EmptyRequest\]/);
    s.stream.end();
    await s.status;
  });

  it('runs requests concurrently and answers in completion order, across frames', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let active = 0;
    let maxActive = 0;
    t.kv.setHook(async (op, ctx) => {
      active++;
      maxActive = Math.max(maxActive, active);
      if (op === 'rawGet' && ctx.requestSource === 'slow') await gate;
      active--;
    });
    const s = open();
    s.stream.write({
      requests: [
        { RawGet: { context: ctxFor(region, { requestSource: 'slow' }), key: b('a') } },
        { RawGet: { context: ctxFor(region), key: b('b') } },
        { RawGet: { context: ctxFor(region), key: b('c') } },
      ],
      requestIds: [1, 2, 3],
    });
    await until(() => s.answers.has('2') && s.answers.has('3'), 'the fast answers');
    expect(s.answers.has('1')).toBe(false);
    release();
    await until(() => s.answers.has('1'), 'the slow answer');
    expect(maxActive).toBeGreaterThanOrEqual(2);
    const frameOf = (id: string) => s.frames.findIndex((f) => f.requestIds.includes(id));
    expect(frameOf('1')).toBeGreaterThan(frameOf('2'));
    s.stream.end();
    await s.status;
  });

  it('batches answers that complete in the same tick into one frame', async () => {
    const s = open();
    const ids = [101, 102, 103, 104];
    s.stream.write({ requests: ids.map((i) => ({ RawGet: { context: ctxFor(region), key: b(`x${i}`) } })), requestIds: ids });
    await until(() => s.answers.size === 4, 'four answers');
    expect(s.frames.length).toBe(1);
    expect([...s.frames[0]!.requestIds].sort()).toEqual(ids.map(String));
    expect(BigInt(s.frames[0]!.tikvSendTimeNs)).toBeGreaterThan(0n);
    s.stream.end();
    await s.status;
  });

  it('answers ServerIsBusy beyond the per-stream in-flight bound, and serves the rest', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    t.kv.setHook(() => gate);
    const s = open();
    const ids = [1, 2, 3, 4, 5, 6];
    s.stream.write({ requests: ids.map((i) => ({ RawPut: { context: ctxFor(region), key: b(`p${i}`), value: b('v') } })), requestIds: ids });
    await until(() => s.answers.size === 2, 'the busy answers');
    expect(s.answers.get('5')?.RawPut?.regionError?.serverIsBusy?.reason).toMatch(/this stream \(limit 4\)/);
    expect(s.answers.get('6')?.RawPut?.regionError?.serverIsBusy).toBeTruthy();
    release();
    await until(() => s.answers.size === 6, 'all answers');
    for (const id of ['1', '2', '3', '4']) expect(s.answers.get(id)?.RawPut?.regionError).toBeNull();
    s.stream.end();
    await s.status;
  });

  it('echoes Empty after its delay, and ends after the last answer when the client half-closes', async () => {
    const s = open();
    s.stream.write({ requests: [{ Empty: { testId: 7, delayTime: 30 } }], requestIds: [5] });
    s.stream.end();
    const status = await s.status;
    expect(status.code).toBe(0);
    expect(s.answers.get('5')?.Empty?.testId).toBe('7');
  });

  it('fails only the stream whose frame does not pair ids with requests', async () => {
    const s = open();
    s.stream.write({ requests: [{ Empty: { testId: 1 } }, { Empty: { testId: 2 } }], requestIds: [1] });
    const status = await s.status;
    expect(status.code).toBe(3); // INVALID_ARGUMENT
    expect(status.details).toMatch(/KV:Server:InvalidBatchFrame/);
    const again = open();
    again.stream.write({ requests: [{ Empty: { testId: 3 } }], requestIds: [9] });
    await until(() => again.answers.has('9'), 'an answer on a new stream');
    again.stream.end();
    await again.status;
  });

  it('aborts in-flight requests when the client cancels the stream', async () => {
    let aborted = 0;
    t.kv.setHook(
      (_op, _ctx, signal) =>
        new Promise<void>((_, reject) =>
          signal?.addEventListener('abort', () => {
            aborted++;
            reject(signal.reason);
          }),
        ),
    );
    const s = open();
    s.stream.write({ requests: [1, 2].map((i) => ({ RawGet: { context: ctxFor(region), key: b(`c${i}`) } })), requestIds: [1, 2] });
    await until(() => t.server.inflight === 2, 'two requests in flight');
    s.stream.cancel();
    await until(() => aborted === 2 && t.server.inflight === 0, 'aborted requests');
  });
});
