/**
 * Snapshot streaming between two stores: head then data chunks re-cut to the chunk size, exact
 * bytes at the receiver, refusals carried back as typed errors, the concurrent send and receive
 * limits, a failing source, and a malformed stream.
 */
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { MrkvError, SeededRng, isMrkvError } from '@mrkv/common';
import { encodeRaftMessage } from '@mrkv/proto';
import { startTestStore, testConfig, type TestStore } from '../__tests__/fixtures.js';
import { StoreMetrics } from '../metrics.js';
import { encodeSnapshotChunk } from './frame.js';
import { RaftClient } from './raft-client.js';
import { StaticResolver } from './resolver.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

const head = encodeRaftMessage({
  regionId: 5,
  fromPeer: { id: 1, storeId: 1 },
  toPeer: { id: 2, storeId: 2 },
  message: { msgType: 'MsgSnapshot', to: 2, from: 1, term: 4, snapshot: { metadata: { index: 100, term: 4, confState: { voters: [1, 2] } } } },
});

async function pair(receiverFlags: Record<string, unknown> = {}, senderFlags: Record<string, unknown> = {}) {
  const receiver: TestStore = await startTestStore({ flags: receiverFlags });
  cleanups.push(() => receiver.close());
  const cfg = testConfig({ 'transport.snap-chunk-size': '64KiB', ...senderFlags });
  const metrics = new StoreMetrics();
  const sender = new RaftClient({
    config: cfg.transport,
    resolver: new StaticResolver(new Map([[2, receiver.server.grpcAddress]])),
    onUnreachable: () => {},
    maxMessageSize: cfg.server.grpcMaxMessageSize,
    metrics,
    rng: new SeededRng(2),
  });
  cleanups.push(() => sender.close());
  return { receiver, sender, metrics };
}

async function* chunks(parts: Buffer[], fail?: MrkvError): AsyncGenerator<Uint8Array> {
  for (const p of parts) {
    await Promise.resolve();
    yield p;
  }
  if (fail) throw fail;
}

function data(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

function codeOf(e: unknown): string | undefined {
  return isMrkvError(e) ? e.code : undefined;
}

describe('snapshot streaming', () => {
  it('delivers the head and the exact data, re-cut into chunks of at most snap-chunk-size', async () => {
    const { receiver, sender, metrics } = await pair();
    const parts = [data(100_000, 1), data(10, 2), data(200_000, 3)];
    await sender.sendSnapshot(2, head, chunks(parts));
    expect(receiver.sink.snapshots).toHaveLength(1);
    const got = receiver.sink.snapshots[0]!;
    expect(Buffer.from(got.head).equals(Buffer.from(head))).toBe(true);
    expect(got.data.equals(Buffer.concat(parts))).toBe(true);
    // 100000 → 2 chunks, 10 → 1, 200000 → 4 (64 KiB each).
    expect(got.chunks).toBe(7);
    const sent = await metrics.snapshotBytes.get();
    expect(sent.values[0]?.value).toBe(300_010);
  });

  it('carries a refusal back as a typed error', async () => {
    const { receiver, sender } = await pair();
    receiver.sink.policy = { kind: 'reject', error: new MrkvError('KV:Raftstore:SnapshotChecksum', 'bad checksum'), readChunks: 1 };
    const err = await sender.sendSnapshot(2, head, chunks([data(300_000, 1)])).catch((e: unknown) => e);
    expect(codeOf(err)).toBe('KV:Server:SnapshotFailed');
    expect((err as MrkvError).details.remote).toBe('[KV:Raftstore:SnapshotChecksum] bad checksum');
  });

  it('refuses receives beyond snap-max-concurrent-recvs with SnapshotLimit', async () => {
    const { receiver, sender } = await pair({ 'transport.snap-max-concurrent-recvs': 1 });
    receiver.sink.policy = { kind: 'hold' };
    const first = sender.sendSnapshot(2, head, chunks([data(1000, 1)]));
    await receiver.sink.waitFor(() => receiver.sink.active === 1);
    const second = await sender.sendSnapshot(2, head, chunks([data(1000, 2)])).catch((e: unknown) => e);
    expect(codeOf(second)).toBe('KV:Server:SnapshotLimit');
    receiver.sink.releaseHeld();
    await first;
    expect(receiver.sink.snapshots).toHaveLength(1);
  });

  it('refuses sends beyond snap-max-concurrent-sends at once', async () => {
    const { receiver, sender } = await pair({}, { 'transport.snap-max-concurrent-sends': 1 });
    receiver.sink.policy = { kind: 'hold' };
    const first = sender.sendSnapshot(2, head, chunks([data(1000, 1)]));
    await receiver.sink.waitFor(() => receiver.sink.active === 1);
    const second = await sender.sendSnapshot(2, head, chunks([data(10, 2)])).catch((e: unknown) => e);
    expect(codeOf(second)).toBe('KV:Server:SnapshotLimit');
    receiver.sink.releaseHeld();
    await first;
  });

  it('fails with the source error when reading the snapshot fails, and the receiver sees the stream cut', async () => {
    const { receiver, sender } = await pair();
    const boom = new MrkvError('KV:Engine:Io', 'disk read failed');
    const err = await sender.sendSnapshot(2, head, chunks([data(1000, 1)], boom)).catch((e: unknown) => e);
    expect(err).toBe(boom);
    await receiver.sink.waitFor(() => receiver.sink.active === 0);
    expect(receiver.sink.snapshots).toHaveLength(0);
  });

  it('answers INVALID_ARGUMENT to a stream that does not start with its RaftMessage', async () => {
    const { receiver } = await pair();
    const raw = new grpc.Client(receiver.server.grpcAddress, grpc.credentials.createInsecure());
    cleanups.push(() => raw.close());
    const status = await new Promise<grpc.ServiceError | null>((resolve) => {
      const call = raw.makeClientStreamRequest(
        '/tikvpb.Tikv/Snapshot',
        (x: Buffer) => x,
        (x: Buffer) => x,
        (err) => resolve(err),
      );
      call.write(encodeSnapshotChunk({ data: Buffer.from('data first') }));
      call.end();
    });
    expect(status?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(status?.details).toMatch(/KV:Server:SnapshotMalformed/);
  });
});
