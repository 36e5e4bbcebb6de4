/**
 * The target of the bad-input suite: one `mrkv-pd` and one `mrkv-store` (region 1 has a single
 * voter, so writes commit without peers), with small limits so "too large" inputs stay cheap:
 * keys ≤ 1 KiB, values ≤ 256 KiB, batches ≤ 64 keys, raft entries ≤ 1 MiB, gRPC messages ≤ 3 MiB.
 *
 * `seed()` writes acknowledged data through the SDK; `expectAlive()` is the verdict every bad
 * input ends with: the process still runs, `/ready` answers 200, and every seeded pair reads back.
 */
import * as grpc from '@grpc/grpc-js';
import { bytesToString, createRawClient, type RawClient } from '@mrkv/client';
import { createTikvClient, type metapb, type TikvClient } from '@mrkv/proto';
import { ClusterView } from '@mrkv/playground';
import { expect } from 'vitest';
import { StoreProcess } from '../harness/store.js';
import { PdProcess } from '../pd/pd-process.js';
import { FAST_STORE_ARGS, waitFor } from '../store/cluster.js';

/** Limits of the target store (flags below). */
export const LIMITS = { maxKeySize: 1024, maxValueSize: 256 * 1024, maxBatchKeys: 64, raftEntryMaxSize: 1024 * 1024, grpcMaxMessageSize: 3 * 1024 * 1024 } as const;

export const TARGET_STORE_ARGS: readonly string[] = [
  ...FAST_STORE_ARGS,
  '--max-key-size',
  '1KiB',
  '--max-value-size',
  '256KiB',
  '--max-batch-keys',
  '64',
  '--raft-entry-max-size',
  '1MiB',
  '--set',
  'server.grpc-max-message-size=3MiB',
  '--set',
  'transport.max-batch-bytes=1MiB',
  '--set',
  'transport.snap-chunk-size=512KiB',
];

export class Target {
  readonly seeded = new Map<string, string>();

  /** The first store process: it owns the data directory (removed by `stop`). */
  private readonly first: StoreProcess;

  private constructor(
    readonly pd: PdProcess,
    /** The store process now (replaced by `respawn`). */
    public store: StoreProcess,
    readonly client: RawClient,
    readonly view: ClusterView,
    private readonly args: readonly string[],
  ) {
    this.first = store;
  }

  static async start(extraArgs: readonly string[] = []): Promise<Target> {
    const pd = await PdProcess.start();
    let store: StoreProcess | undefined;
    try {
      const args = [...TARGET_STORE_ARGS, ...extraArgs];
      store = await StoreProcess.start({ pd: [pd.addr], args, logLevel: 'info', readyTimeoutMs: 60_000 });
      const view = new ClusterView(pd.addr);
      const t = new Target(pd, store, createRawClient({ pdEndpoints: [pd.addr], timeoutMs: 10_000 }), view, args);
      await waitFor('region 1 to have a leader', async () => ((await view.regionOf(Buffer.from('a')))?.leader ? true : undefined), 30_000);
      return t;
    } catch (e) {
      store?.cleanup();
      pd.cleanup();
      throw e;
    }
  }

  /** Writes `n` pairs under `prefix` through the SDK and remembers them. */
  async seed(prefix: string, n = 20): Promise<void> {
    const pairs = Array.from({ length: n }, (_, i) => ({ key: `${prefix}/${String(i).padStart(4, '0')}`, value: `${prefix}-v${i}` }));
    await this.client.batchPut(pairs);
    for (const p of pairs) this.seeded.set(p.key, p.value);
  }

  /** The process is up, /ready answers 200, and every seeded pair reads back. */
  async expectAlive(what: string): Promise<void> {
    expect(this.store.running, `store exited after ${what}:\n${this.store.tail()}`).toBe(true);
    const ready = await this.store.http('/ready');
    expect(ready.status, `/ready after ${what}`).toBe(200);
    const keys = [...this.seeded.keys()];
    const got = new Map((await this.client.batchGet(keys)).map((p) => [bytesToString(p.key), bytesToString(p.value)]));
    const missing = keys.filter((k) => got.get(k) !== this.seeded.get(k));
    expect(missing, `acknowledged data lost after ${what}`).toEqual([]);
  }

  /** The region holding `key` and its leader peer, per PD. */
  async region(key = 'a'): Promise<{ region: metapb.Region__Output; leader: metapb.Peer__Output }> {
    return waitFor('a region with a leader', async () => {
      const r = await this.view.regionOf(Buffer.from(key));
      return r?.leader ? { region: r.region, leader: r.leader } : undefined;
    });
  }

  /** A typed Tikv client on the store (callers close it). */
  tikv(): TikvClient {
    return createTikvClient(this.store.addr, { channelOptions: { 'grpc.max_send_message_length': 64 * 1024 * 1024 } });
  }

  /** A raw gRPC client on the store, for hand-made bytes (callers close it). */
  raw(): grpc.Client {
    return new grpc.Client(this.store.addr, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': 64 * 1024 * 1024 });
  }

  /**
   * Starts a new store process on the same data directory and ports (the current one must have
   * exited), without waiting for it: it may refuse to start. `pd` overrides the PD endpoints.
   */
  async respawn(pd: readonly string[] = [this.pd.addr]): Promise<StoreProcess> {
    if (this.store.running) throw new Error('respawn: the store still runs');
    this.store = await StoreProcess.spawn({ pd, args: this.args, logLevel: 'info', addr: this.store.addr, statusAddr: this.store.statusAddr, dataDir: this.first.dataDir });
    return this.store;
  }

  async stop(): Promise<void> {
    this.view.close();
    await this.client.close();
    await this.store.kill();
    await this.first.kill();
    this.first.cleanup();
    await this.pd.kill();
    this.pd.cleanup();
  }
}

/** Identity (de)serializers: the bytes go on the wire as given. */
export const passthrough = { serialize: (b: Buffer): Buffer => b, deserialize: (b: Buffer): Buffer => b };

/** The outcome of a raw unary call: a status code and details, or the response bytes. */
export type RawOutcome = { ok: true; bytes: Buffer } | { ok: false; code: grpc.status; details: string };

/** A unary call with raw bytes. */
export function rawUnary(client: grpc.Client, path: string, body: Buffer, timeoutMs = 5_000): Promise<RawOutcome> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(path, passthrough.serialize, passthrough.deserialize, body, { deadline: Date.now() + timeoutMs }, (err, res) => {
      if (err) resolve({ ok: false, code: err.code, details: err.details });
      else resolve({ ok: true, bytes: res! });
    });
  });
}

/** A client-streaming call writing `frames` as raw bytes, then ending. */
export function rawClientStream(client: grpc.Client, path: string, frames: readonly Buffer[], timeoutMs = 5_000): Promise<RawOutcome> {
  return new Promise((resolve) => {
    const call = client.makeClientStreamRequest(path, passthrough.serialize, passthrough.deserialize, { deadline: Date.now() + timeoutMs }, (err, res) => {
      if (err) resolve({ ok: false, code: err.code, details: err.details });
      else resolve({ ok: true, bytes: res! });
    });
    call.on('error', () => undefined); // the callback reports it
    for (const f of frames) call.write(f);
    call.end();
  });
}

/** A bidi call writing `frames`, then ending; resolves with the status and the responses. */
export function rawBidi(client: grpc.Client, path: string, frames: readonly Buffer[], timeoutMs = 5_000): Promise<{ code: grpc.status; details: string; responses: Buffer[] }> {
  return new Promise((resolve) => {
    const call = client.makeBidiStreamRequest(path, passthrough.serialize, passthrough.deserialize, { deadline: Date.now() + timeoutMs });
    const responses: Buffer[] = [];
    call.on('data', (b: Buffer) => responses.push(b));
    call.on('error', () => undefined);
    call.on('status', (s: grpc.StatusObject) => resolve({ code: s.code, details: s.details, responses }));
    for (const f of frames) call.write(f);
    call.end();
  });
}

/** A deterministic byte source (xorshift32), so a failing input can be replayed from its seed. */
export class Bytes {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 1;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  int(n: number): number {
    return this.next() % n;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.next() & 0xff;
    return b;
  }
}
