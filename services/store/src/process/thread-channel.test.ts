/**
 * The port between main and the raftstore thread, over a real MessageChannel: calls both ways,
 * errors revived as their classes, one post per event-loop turn, aborts and cancels, failure of
 * the other side; and the byte helpers (packing, compact copies) and failpoint parsing.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { CommonCodes, InvariantViolation, isMrkvError, MrkvError } from '@mrkv/common';
import { NotLeaderError, RequestError, RequestErrorCodes } from '@mrkv/proto';
import { parseFailpoints } from './failpoints.js';
import { ThreadChannel, type Handlers, type PortLike } from './thread-channel.js';
import { compact, compactDeep, packBytes, packSnapshot, RaftstoreThreadCodes, unpackBytes } from './thread-protocol.js';

interface Api {
  echo(b: Uint8Array): Uint8Array;
  fail(kind: string): void;
  slow(ms: number): number;
}
type Note = { readonly t: 'ping'; readonly n: number };

const ports: MessagePort[] = [];
afterEach(() => {
  while (ports.length > 0) ports.pop()!.close();
});

/** Two channels joined by a MessageChannel; `posts` counts postMessage calls of side A. */
function pair(handlers: Handlers<Api>) {
  const { port1, port2 } = new MessageChannel();
  ports.push(port1, port2);
  let posts = 0;
  const counting: PortLike = {
    postMessage: (v, t) => {
      posts++;
      port1.postMessage(v, t);
    },
  };
  const notes: Note[] = [];
  const problems: Error[] = [];
  const a = new ThreadChannel<Record<string, never>, Api, Note, Note>({ port: counting, handlers: {}, onNote: () => {}, onProblem: (e) => problems.push(e) });
  const b = new ThreadChannel<Api, Record<string, never>, Note, Note>({ port: port2, handlers, onNote: (n) => notes.push(n), onProblem: (e) => problems.push(e) });
  port1.on('message', (m: unknown) => a.receive(m));
  port2.on('message', (m: unknown) => b.receive(m));
  return { a, b, notes, problems, posts: () => posts };
}

const handlers: Handlers<Api> = {
  echo: (b) => b,
  fail: (kind) => {
    if (kind === 'region') throw new NotLeaderError({ regionId: 7, leader: { id: 2, storeId: 3, role: 'Voter' } });
    if (kind === 'request') throw new RequestError(RequestErrorCodes.KEY_TOO_LARGE, 'key too large');
    if (kind === 'invariant') throw new InvariantViolation('applied > committed', { applied: 5, committed: 4 });
    throw new TypeError('plain bug');
  },
  slow: (ms) => new Promise((r) => setTimeout(() => r(ms), ms)),
};

describe('ThreadChannel', () => {
  it('answers calls and batches everything of one turn into one post', async () => {
    const { a, b, notes, posts } = pair(handlers);
    const key = Buffer.from('a-key-inside-a-larger-frame').subarray(2, 7);
    const answers = await Promise.all([a.call('echo', [key]), a.call('echo', [new Uint8Array([1, 2])]), a.call('slow', [1])]);
    expect(Buffer.from(answers[0]).toString()).toBe('key-i');
    expect([...answers[1]]).toEqual([1, 2]);
    expect(answers[2]).toBe(1);
    expect(posts()).toBe(1);
    a.notify({ t: 'ping', n: 1 });
    a.notify({ t: 'ping', n: 2 });
    await expect.poll(() => notes.length).toBe(2);
    expect(notes).toEqual([{ t: 'ping', n: 1 }, { t: 'ping', n: 2 }]);
    expect(posts()).toBe(2);
    expect(b.pendingCalls).toBe(0);
  });

  it('revives errors as their classes', async () => {
    const { a } = pair(handlers);
    const region = await a.call('fail', ['region']).catch((e: unknown) => e);
    expect(region).toBeInstanceOf(NotLeaderError);
    expect((region as NotLeaderError).payload.leader).toEqual({ id: 2, storeId: 3, role: 'Voter' });
    const request = await a.call('fail', ['request']).catch((e: unknown) => e);
    expect(isMrkvError(request) && request.code).toBe(RequestErrorCodes.KEY_TOO_LARGE);
    const bug = await a.call('fail', ['invariant']).catch((e: unknown) => e);
    expect(bug).toBeInstanceOf(InvariantViolation);
    expect((bug as InvariantViolation).fields).toEqual({ applied: 5, committed: 4 });
    expect((bug as Error).message).toMatch(/applied > committed/);
    const plain = await a.call('fail', ['other']).catch((e: unknown) => e);
    expect(isMrkvError(plain)).toBe(false);
    expect((plain as Error).name).toBe('TypeError');
    expect((plain as Error).stack).toMatch(/plain bug/);
    const unknown = await (a as unknown as ThreadChannel<object, { nope(): void }, Note, Note>).call('nope', []).catch((e: unknown) => e);
    expect(isMrkvError(unknown) && unknown.code).toBe(RaftstoreThreadCodes.BAD_MESSAGE);
  });

  it('rejects an aborted call at once with the reason, and drops its late answer', async () => {
    const { a, b } = pair(handlers);
    const ctl = new AbortController();
    const call = a.call('slow', [50], { signal: ctl.signal });
    ctl.abort(new MrkvError(CommonCodes.CANCELLED, 'client gone'));
    await expect(call).rejects.toThrow('client gone');
    expect(a.pendingCalls).toBe(0);
    const pre = new AbortController();
    pre.abort(new Error('already'));
    await expect(a.call('slow', [1], { signal: pre.signal })).rejects.toThrow('already');
    // The abandoned call's handler finishes on the other side; the channel goes on working.
    expect(await a.call('slow', [80])).toBe(80);
    expect(b.pendingCalls).toBe(0);
  });

  it('fails pending and later calls once the other side is gone', async () => {
    const { a } = pair(handlers);
    const pending = a.call('slow', [1000]);
    const cause = new Error('worker exited');
    a.fail(cause);
    const err = await pending.catch((e: unknown) => e);
    expect(isMrkvError(err) && err.code).toBe(RaftstoreThreadCodes.THREAD_STOPPED);
    expect((err as Error).cause).toBe(cause);
    await expect(a.call('echo', [new Uint8Array()])).rejects.toThrow(/gone/);
  });

  it('reports what it cannot read instead of throwing', () => {
    const { b, problems } = pair(handlers);
    b.receive('not an array');
    b.receive([{ t: 'mystery' }]);
    expect(problems.map((p) => (p as MrkvError).code)).toEqual([RaftstoreThreadCodes.BAD_MESSAGE, RaftstoreThreadCodes.BAD_MESSAGE]);
  });
});

describe('byte helpers', () => {
  it('packs and unpacks byte lists, and snapshots as head + data', () => {
    const items = [Buffer.from('one'), new Uint8Array(0), Buffer.from('three')];
    const packed = packBytes(items);
    expect(unpackBytes(packed).map((b) => Buffer.from(b).toString())).toEqual(['one', '', 'three']);
    const snap = packSnapshot(Buffer.from('head'), [Buffer.from('da'), Buffer.from('ta')]);
    expect(unpackBytes(snap).map((b) => Buffer.from(b).toString())).toEqual(['head', 'data']);
    expect(() => unpackBytes({ buf: new ArrayBuffer(2), ends: [3] })).toThrow(/outside/);
  });

  it('copies views out of larger buffers, and nothing else', () => {
    const whole = new Uint8Array([1, 2, 3]);
    expect(compact(whole)).toBe(whole);
    const view = new Uint8Array(new ArrayBuffer(1024), 10, 3);
    const c = compact(view);
    expect(c.buffer.byteLength).toBe(3);
    const obj = { a: 1, nested: { key: view, list: [whole, view] } };
    const out = compactDeep(obj);
    expect(out.nested.key.buffer.byteLength).toBe(3);
    expect(out.nested.list[0]).toBe(whole);
    expect(out.nested.list[1]!.buffer.byteLength).toBe(3);
    expect(obj.nested.key).toBe(view); // the input is not changed
    const untouched = { a: 1, b: [whole] };
    expect(compactDeep(untouched)).toBe(untouched);
  });
});

describe('MRKV_FAILPOINTS', () => {
  it('parses the raftstore thread failpoint and refuses anything else', () => {
    expect(parseFailpoints(undefined)).toBeUndefined();
    expect(parseFailpoints(' ')).toBeUndefined();
    expect(parseFailpoints('raftstore-thread-crash-on-put=6B6579')).toEqual({ crashOnPutKey: '6b6579' });
    expect(() => parseFailpoints('raftstore-thread-crash-on-put=xyz')).toThrow(/malformed failpoint/);
    expect(parseFailpoints('raftstore-thread-hang-on-put=73706966')).toEqual({ hangOnPutKey: '73706966' });
    expect(() => parseFailpoints('raftstore-thread-hang-on-put')).toThrow(/malformed failpoint/);
    expect(() => parseFailpoints('typo=1')).toThrow(/unknown or malformed/);
  });
});
