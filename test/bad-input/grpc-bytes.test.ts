/**
 * Bytes that are not the messages a method expects, against a real store process: every
 * `tikvpb.Tikv` method (unary, client-streaming and bidi) gets random bytes, truncated encodings
 * of a valid request, and fields with the wrong wire type; and raw HTTP/2 gRPC frames that are
 * cut short or claim more bytes than they carry. Each call gets a status or a typed answer; after
 * each group the store still runs, `/ready` answers 200, and the data acknowledged before reads
 * back. The random inputs come from fixed seeds, so a failure replays.
 */
import * as grpc from '@grpc/grpc-js';
import { connect, constants as h2 } from 'node:http2';
import { encodeMessage, loadGrpcObject } from '@mrkv/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bytes, rawBidi, rawClientStream, rawUnary, Target, type RawOutcome } from './target.js';

let t: Target;
let raw: grpc.Client;

interface MethodDef {
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
}

/** Every method of the Tikv service, as the store's own proto files define it. */
function tikvMethods(): MethodDef[] {
  const svc = (loadGrpcObject().tikvpb.Tikv as unknown as { service: Record<string, MethodDef> }).service;
  return Object.values(svc).map((m) => ({ path: m.path, requestStream: m.requestStream, responseStream: m.responseStream }));
}

/** Sends `body` to `m` in the method's shape; resolves to a gRPC status code (OK when answered). */
async function send(m: MethodDef, bodies: readonly Buffer[]): Promise<grpc.status> {
  if (m.requestStream && m.responseStream) return (await rawBidi(raw, m.path, bodies)).code;
  const out: RawOutcome = m.requestStream ? await rawClientStream(raw, m.path, bodies) : await rawUnary(raw, m.path, bodies[0] ?? Buffer.alloc(0));
  return out.ok ? grpc.status.OK : out.code;
}

beforeAll(async () => {
  t = await Target.start();
  await t.seed('grpc-bytes');
  raw = t.raw();
}, 120_000);
afterAll(async () => {
  raw?.close();
  await t?.stop();
});

describe('gRPC bytes', () => {
  it('covers the service: every Tikv method is exercised below', () => {
    const paths = tikvMethods().map((m) => m.path);
    expect(paths).toEqual(expect.arrayContaining(['/tikvpb.Tikv/RawGet', '/tikvpb.Tikv/BatchRaft', '/tikvpb.Tikv/Snapshot', '/tikvpb.Tikv/BatchCommands']));
  });

  it('random bytes to every method: a status or an answer, never a crash', async () => {
    const rnd = new Bytes(0xbad1);
    const seen = new Map<string, Set<string>>();
    for (const m of tikvMethods()) {
      const codes = new Set<string>();
      for (let i = 0; i < 12; i++) {
        const frames = Array.from({ length: m.requestStream ? 1 + rnd.int(3) : 1 }, () => rnd.bytes(rnd.int(200)));
        codes.add(grpc.status[await send(m, frames)]!);
      }
      seen.set(m.path, codes);
      // Nothing crashed the process: UNAVAILABLE would mean the connection went away with it.
      expect(codes.has('UNAVAILABLE'), `${m.path}: the store went away`).toBe(false);
    }
    console.log(`[bad-input] random bytes, status codes per method: ${[...seen].map(([p, c]) => `${p.slice(13)}=${[...c].join('|')}`).join(' ')}`);
    await t.expectAlive('random bytes to every method');
  }, 60_000);

  it('truncated encodings of a valid RawPut are refused or answered, and never store a torn key', async () => {
    const { region, leader } = await t.region();
    const key = Buffer.from('trunc/key-0123456789');
    const value = Buffer.from('a-value-that-is-long-enough-to-cut');
    const full = Buffer.from(encodeMessage('kvrpcpb.RawPutRequest', { context: { regionId: region.id, regionEpoch: region.regionEpoch, peer: leader }, key, value }));
    const answers = { ok: 0, refused: 0 };
    for (let len = 0; len < full.length; len++) {
      const out = await rawUnary(raw, '/tikvpb.Tikv/RawPut', full.subarray(0, len));
      if (out.ok) answers.ok++;
      else answers.refused++;
      expect(out.ok || out.code !== grpc.status.UNAVAILABLE, `cut at ${len}: the store went away`).toBe(true);
    }
    // A cut inside the key field cannot have stored a prefix of the key.
    const scan = await t.client.scanAll('trunc/', 'trunc0');
    const stored = scan.map((p) => Buffer.from(p.key).toString());
    expect(stored.filter((k) => k !== key.toString() && !key.toString().startsWith(k)), 'keys that no request named').toEqual([]);
    expect(answers.refused).toBeGreaterThan(0);
    console.log(`[bad-input] ${full.length} truncations of RawPut: ${answers.ok} answered (a valid shorter message), ${answers.refused} refused`);
    await t.expectAlive('truncated RawPut encodings');
  }, 60_000);

  it('wrong wire types for known fields are refused', async () => {
    // Field 1 (context, a message) as a varint; field 2 (key, bytes) as fixed64; field 3 as a
    // group start; a length that runs past the end.
    const cases: Array<[string, Buffer]> = [
      ['context as varint', Buffer.from([0x08, 0x96, 0x01, 0x12, 0x01, 0x61])],
      ['key as fixed64', Buffer.from([0x11, 1, 2, 3, 4, 5, 6, 7, 8])],
      ['value as start-group', Buffer.from([0x1b, 0x12, 0x01, 0x61])],
      ['length past the end', Buffer.from([0x12, 0x7f, 0x61, 0x62])],
      ['varint never ends', Buffer.from([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])],
    ];
    for (const path of ['/tikvpb.Tikv/RawPut', '/tikvpb.Tikv/RawGet', '/tikvpb.Tikv/RawScan', '/tikvpb.Tikv/RawCompareAndSwap']) {
      for (const [what, body] of cases) {
        const out = await rawUnary(raw, path, body);
        // Either grpc-js's decoder refuses it, or what decodes is an invalid request.
        if (out.ok) continue;
        expect([grpc.status.INTERNAL, grpc.status.INVALID_ARGUMENT], `${path} ${what}: ${out.details}`).toContain(out.code);
      }
    }
    await t.expectAlive('wrong wire types');
  }, 60_000);

  it('raw HTTP/2 gRPC frames cut short or over-long are refused; the connection and process survive', async () => {
    const session = connect(`http://${t.store.addr}`);
    const seen: string[] = [];
    session.on('error', () => undefined);
    try {
      const frames: Array<[string, Buffer]> = [
        ['header only', Buffer.from([0, 0, 0, 0])],
        ['declares 100 bytes, carries 3', Buffer.concat([Buffer.from([0, 0, 0, 0, 100]), Buffer.from('abc')])],
        ['declares 2 GiB', Buffer.from([0, 0x7f, 0xff, 0xff, 0xff, 1, 2, 3])],
      ];
      for (const path of ['/tikvpb.Tikv/RawGet', '/tikvpb.Tikv/BatchRaft', '/tikvpb.Tikv/BatchCommands']) {
        for (const [what, body] of frames) {
          const status = await new Promise<string>((resolve) => {
            const req = session.request({ [h2.HTTP2_HEADER_METHOD]: 'POST', [h2.HTTP2_HEADER_PATH]: path, 'content-type': 'application/grpc', te: 'trailers' });
            let grpcStatus = '';
            req.on('response', (headers) => {
              if (headers['grpc-status'] !== undefined) grpcStatus = String(headers['grpc-status']);
            });
            req.on('trailers', (trailers) => {
              if (trailers['grpc-status'] !== undefined) grpcStatus = String(trailers['grpc-status']);
            });
            req.on('data', () => undefined);
            req.on('close', () => resolve(grpcStatus || 'reset'));
            req.on('error', () => undefined);
            req.setTimeout(5_000, () => req.close(h2.NGHTTP2_CANCEL));
            req.end(body);
          });
          // A unary call must fail. A client stream that ends inside a frame has delivered no
          // message; grpc-js drops the partial frame and the handler may finish with OK.
          if (path === '/tikvpb.Tikv/RawGet') expect(status, `${path} ${what}`).not.toBe('0');
          seen.push(`${path.slice(13)} ${what}: ${status}`);
        }
      }
    } finally {
      session.close();
    }
    console.log(`[bad-input] malformed frames, grpc-status per case: ${seen.join('; ')}`);
    await t.expectAlive('malformed gRPC frames');
  }, 60_000);
});
