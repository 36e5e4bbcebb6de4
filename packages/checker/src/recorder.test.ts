import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, expect } from 'vitest';
import { isMrkvError } from '@mrkv/common';
import { checkOperations } from './check.js';
import { CheckerCodes } from './errors.js';
import { parseMrkvJsonl } from './formats/mrkv-jsonl.js';
import { INDETERMINATE } from './model.js';
import { registerModel } from './models/register.js';
import { HistoryRecorder } from './recorder.js';

function expectBadUse(f: () => unknown, message: RegExp): void {
  try {
    f();
  } catch (e) {
    expect(isMrkvError(e) && e.code).toBe(CheckerCodes.INVALID_ARGUMENT);
    expect((e as Error).message).toMatch(message);
    return;
  }
  throw new Error('expected a KV:Checker:InvalidArgument error');
}

describe('HistoryRecorder', () => {
  it('records invoke/ok/fail/info with explicit times, in memory and as JSON lines that read back the same', () => {
    const lines: string[] = [];
    const r = new HistoryRecorder({ sink: (l) => lines.push(l) });
    const a = r.invoke(1, { op: 'put', key: 'k', value: 'a' }, 10n);
    const b = r.invoke(2, { op: 'get', key: 'k' }, 11n);
    r.ok(a, {}, 20n);
    r.ok(b, { value: 'a' }, 21n);
    const c = r.invoke(3, { op: 'cas', key: 'k', expected: 'a', value: 'b' }, 30n);
    r.info(c, 40n);
    const d = r.invoke(1, { op: 'delete', key: 'k' }, 50n);
    r.fail(d, 51n);
    const e = r.invoke(3, { op: 'get', key: 'k' }, 60n); // a client may go on after info
    r.ok(e, { value: 'b' }, 61n);
    r.invoke(4, { op: 'put', key: 'k', value: 'z' }, 70n); // never completed

    const ops = r.operations();
    expect(ops).toEqual([
      { clientId: 1, input: { op: 'put', key: 'k', value: 'a' }, output: {}, call: 10n, ret: 20n },
      { clientId: 2, input: { op: 'get', key: 'k' }, output: { value: 'a' }, call: 11n, ret: 21n },
      { clientId: 3, input: { op: 'cas', key: 'k', expected: 'a', value: 'b' }, call: 30n, ret: INDETERMINATE },
      { clientId: 3, input: { op: 'get', key: 'k' }, output: { value: 'b' }, call: 60n, ret: 61n },
      { clientId: 4, input: { op: 'put', key: 'k', value: 'z' }, call: 70n, ret: INDETERMINATE },
    ]);
    expect(r.size).toBe(6);
    expect(checkOperations(registerModel, ops).verdict).toBe('linearizable');
    expect(lines).toHaveLength(11);
    expect(r.toJsonl()).toBe(`${lines.join('\n')}\n`);
    // Small bigints are written as numbers, so they read back as numbers.
    const back = parseMrkvJsonl(r.toJsonl());
    expect(back.map((op) => ({ ...op, call: BigInt(op.call), ret: op.ret === INDETERMINATE ? op.ret : BigInt(op.ret) }))).toEqual(ops);
  });

  it('uses the injected clock when no time is passed, and writes a file', async () => {
    let t = 1000;
    const r = new HistoryRecorder({ now: () => (t += 5) });
    const h = r.invoke(7, { op: 'put', key: 'x', value: 'v' });
    r.ok(h, {});
    expect(r.operations()[0]).toMatchObject({ call: 1005, ret: 1010 });
    const dir = mkdtempSync(join(tmpdir(), 'mrkv-recorder-'));
    try {
      const file = join(dir, 'history.jsonl');
      await r.writeJsonl(file);
      expect(parseMrkvJsonl(readFileSync(file, 'utf8'))).toEqual(r.operations());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('defaults to a nanosecond monotonic clock', () => {
    const r = new HistoryRecorder();
    r.ok(r.invoke(1, { op: 'get', key: 'k' }), { value: null });
    const [op] = r.operations();
    expect(typeof op!.call).toBe('bigint');
    expect(op!.ret >= op!.call).toBe(true);
  });

  it('writes times beyond 2^53 as strings', () => {
    const r = new HistoryRecorder();
    r.invoke(1, { op: 'get', key: 'k' }, 2n ** 60n);
    expect(r.toJsonl()).toContain('"time":"1152921504606846976"');
    expect(parseMrkvJsonl(r.toJsonl())[0]!.call).toBe(2n ** 60n);
  });

  it('refuses misuse with typed errors, recording nothing', () => {
    const r = new HistoryRecorder({ now: () => 5 });
    const h = r.invoke(1, { op: 'get', key: 'k' });
    expectBadUse(() => r.invoke(1, { op: 'get', key: 'k' }), /client 1 invokes while its operation 0 is still open/);
    expectBadUse(() => r.ok(h, { value: 'x' }, 4), /completes at 4, before its invoke at 5/);
    expectBadUse(() => r.ok(h, {}), /invalid output for operation 0: a get answers/);
    expectBadUse(() => r.ok(99, {}), /no operation 99 was invoked/);
    expectBadUse(() => r.invoke(2, { op: 'put', key: 'k' } as never), /invalid input: a put takes a string value/);
    expectBadUse(() => r.invoke(2.5, { op: 'get', key: 'k' }), /client must be an integer/);
    expectBadUse(() => r.invoke(2, { op: 'get', key: 'k' }, Number.NaN), /time must be/);
    r.ok(h, { value: null });
    expectBadUse(() => r.info(h), /operation 0 already has outcome ok/);
    expect(r.size).toBe(1);
    expect(r.toJsonl().trim().split('\n')).toHaveLength(2);
  });
});
