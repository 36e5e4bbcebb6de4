import { describe, it, expect } from 'vitest';
import { isMrkvError } from '@mrkv/common';
import { checkEvents, checkOperations } from './check.js';
import { CheckerCodes } from './errors.js';
import type { HistoryEvent, Operation } from './model.js';
import { INDETERMINATE } from './model.js';
import type { RegisterInput, RegisterOutput } from './models/register.js';
import { registerModel } from './models/register.js';

type Op = Operation<RegisterInput, RegisterOutput>;
const put = (client: number, value: string, call: number | bigint, ret: number | bigint, key = 'k'): Op => ({
  clientId: client,
  input: { op: 'put', key, value },
  output: {},
  call,
  ret,
});
const get = (client: number, value: string | null, call: number | bigint, ret: number | bigint, key = 'k'): Op => ({
  clientId: client,
  input: { op: 'get', key },
  output: { value },
  call,
  ret,
});
const del = (client: number, call: number, ret: number, key = 'k'): Op => ({ clientId: client, input: { op: 'delete', key }, output: {}, call, ret });
const cas = (
  client: number,
  expected: string | null,
  value: string | null,
  succeeded: boolean,
  call: number,
  ret: number,
  previous?: string | null,
): Op => ({
  clientId: client,
  input: { op: 'cas', key: 'k', expected, value },
  output: previous === undefined ? { succeeded } : { succeeded, previous },
  call,
  ret,
});

const verdict = (ops: readonly Op[]): string => checkOperations(registerModel, ops).verdict;

describe('search: basic histories', () => {
  it('accepts the empty history', () => {
    const r = checkOperations(registerModel, []);
    expect(r.verdict).toBe('linearizable');
    expect(r.partitions).toHaveLength(0);
  });

  it('accepts a sequential history and returns its order as the linearization', () => {
    const ops = [put(1, 'a', 0, 1), get(2, 'a', 2, 3), put(1, 'b', 4, 5), get(2, 'b', 6, 7), del(1, 8, 9), get(2, null, 10, 11)];
    const r = checkOperations(registerModel, ops);
    expect(r.verdict).toBe('linearizable');
    expect(r.partitions[0]!.linearization).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('rejects a stale read after a completed write', () => {
    expect(verdict([put(1, 'a', 0, 1), get(2, null, 2, 3)])).toBe('not-linearizable');
  });

  it('accepts either value for a read concurrent with a write', () => {
    expect(verdict([put(1, 'a', 0, 10), get(2, null, 2, 3)])).toBe('linearizable');
    expect(verdict([put(1, 'a', 0, 10), get(2, 'a', 2, 3)])).toBe('linearizable');
  });

  it('rejects a read that goes back to an older value (no new-old inversion)', () => {
    // The write is concurrent with both reads, but once a read has seen "a", a later read may not see the initial value.
    expect(verdict([put(1, 'a', 0, 100), get(2, 'a', 10, 20), get(3, null, 30, 40)])).toBe('not-linearizable');
  });

  it('treats intervals as closed: operations that touch are concurrent', () => {
    // The read starts exactly when the write returns: it may still be ordered before it.
    expect(verdict([put(1, 'a', 0, 5), get(2, null, 5, 6)])).toBe('linearizable');
    expect(verdict([put(1, 'a', 0, 5), get(2, null, 6, 7)])).toBe('not-linearizable');
  });

  it('rejects a value nobody wrote', () => {
    expect(verdict([put(1, 'a', 0, 10), get(2, 'b', 2, 3)])).toBe('not-linearizable');
  });

  it('checks compare-and-swap outcomes and reported previous values', () => {
    expect(verdict([put(1, 'a', 0, 1), cas(2, 'a', 'b', true, 2, 3, 'a'), get(1, 'b', 4, 5)])).toBe('linearizable');
    expect(verdict([put(1, 'a', 0, 1), cas(2, 'x', 'b', false, 2, 3, 'a'), get(1, 'a', 4, 5)])).toBe('linearizable');
    expect(verdict([put(1, 'a', 0, 1), cas(2, 'a', 'b', false, 2, 3)])).toBe('not-linearizable');
    expect(verdict([put(1, 'a', 0, 1), cas(2, 'x', 'b', true, 2, 3)])).toBe('not-linearizable');
    expect(verdict([put(1, 'a', 0, 1), cas(2, 'x', 'b', false, 2, 3, 'z')])).toBe('not-linearizable');
    // cas to null deletes; cas from null means "if absent".
    expect(verdict([cas(1, null, 'a', true, 0, 1), cas(2, 'a', null, true, 2, 3), get(1, null, 4, 5)])).toBe('linearizable');
  });

  it('accepts bigint and number clocks, mixed', () => {
    expect(verdict([put(1, 'a', 0n, 10n), get(2, 'a', 5, 6), get(3, 'a', 11n, 12)])).toBe('linearizable');
    expect(verdict([put(1, 'a', 0n, 4n), get(2, null, 5, 6)])).toBe('not-linearizable');
  });
});

describe('search: indeterminate operations', () => {
  const infoPut = (client: number, value: string, call: number): Op => ({ clientId: client, input: { op: 'put', key: 'k', value }, call, ret: INDETERMINATE });

  it('lets a timed-out write take effect later, when a read observes it', () => {
    expect(verdict([put(1, 'a', 0, 1), infoPut(2, 'b', 2), get(3, 'a', 10, 11), get(3, 'b', 20, 21), get(3, 'b', 30, 31)])).toBe(
      'linearizable',
    );
  });

  it('lets a timed-out write never take effect', () => {
    expect(verdict([put(1, 'a', 0, 1), infoPut(2, 'b', 2), get(3, 'a', 10, 11), get(3, 'a', 100, 101)])).toBe('linearizable');
  });

  it('still forbids a timed-out write from taking effect before it was invoked', () => {
    expect(verdict([get(3, 'b', 0, 1), infoPut(2, 'b', 2)])).toBe('not-linearizable');
  });

  it('forbids a timed-out write from flickering: once overwritten it cannot reappear', () => {
    expect(verdict([infoPut(2, 'b', 0), get(3, 'b', 10, 11), put(1, 'a', 20, 21), get(3, 'b', 30, 31)])).toBe('not-linearizable');
  });

  it('drops indeterminate reads, which constrain nothing', () => {
    const r = checkOperations(registerModel, [put(1, 'a', 0, 1), { clientId: 2, input: { op: 'get', key: 'k' }, call: 2, ret: INDETERMINATE }]);
    expect(r.verdict).toBe('linearizable');
    expect(r.droppedOperations).toBe(1);
  });

  it('applies an indeterminate cas only where its compare holds', () => {
    const infoCas: Op = { clientId: 2, input: { op: 'cas', key: 'k', expected: 'a', value: 'b' }, call: 2, ret: INDETERMINATE };
    expect(verdict([put(1, 'a', 0, 1), infoCas, get(3, 'b', 10, 11)])).toBe('linearizable');
    expect(verdict([put(1, 'x', 0, 1), infoCas, get(3, 'b', 10, 11)])).toBe('not-linearizable');
  });
});

describe('search: budget', () => {
  // 14 concurrent writes of distinct values and a read of a value none of them wrote: the search
  // has to try every subset before it can say no.
  const hard: Op[] = [...Array.from({ length: 14 }, (_, i) => put(i, `v${i}`, 0, 100)), get(99, 'none', 0, 100)];

  it('answers unknown when the step budget runs out', () => {
    const r = checkOperations(registerModel, hard, { maxSteps: 10_000 });
    expect(r.verdict).toBe('unknown');
    expect(r.violation).toBeUndefined();
    expect(r.partitions[0]!.steps).toBeGreaterThanOrEqual(10_000);
  });

  it('answers unknown when the time budget runs out (injected clock)', () => {
    let t = 0;
    const r = checkOperations(registerModel, hard, { timeoutMs: 50, now: () => (t += 1) });
    expect(r.verdict).toBe('unknown');
  });

  it('decides the same history without a budget', () => {
    expect(checkOperations(registerModel, hard, { explain: false }).verdict).toBe('not-linearizable');
  });
});

describe('input validation', () => {
  const expectInvalid = (f: () => unknown, message: RegExp): void => {
    try {
      f();
    } catch (e) {
      expect(isMrkvError(e) && e.code).toBe(CheckerCodes.INVALID_HISTORY);
      expect((e as Error).message).toMatch(message);
      return;
    }
    throw new Error('expected a KV:Checker:InvalidHistory error');
  };

  it('rejects a return before the call', () => {
    expectInvalid(() => checkOperations(registerModel, [put(1, 'a', 5, 4)]), /operation 0 returns \(4\) before its call \(5\)/);
  });

  it('rejects non-finite or missing times', () => {
    expectInvalid(() => checkOperations(registerModel, [put(1, 'a', Number.NaN, 4)]), /call time/);
    expectInvalid(() => checkOperations(registerModel, [put(1, 'a', INDETERMINATE, INDETERMINATE)]), /call time/);
    expectInvalid(() => checkOperations(registerModel, [{ ...put(1, 'a', 0, 1), ret: '3' as unknown as number }]), /return time/);
  });

  it('rejects inputs and outputs the model does not know', () => {
    expectInvalid(
      () => checkOperations(registerModel, [{ clientId: 1, input: { op: 'incr', key: 'k' } as unknown as RegisterInput, call: 0, ret: 1 }]),
      /unknown operation "incr"/,
    );
    expectInvalid(() => checkOperations(registerModel, [{ ...get(1, 'a', 0, 1), output: {} }]), /a get answers/);
    expectInvalid(() => checkOperations(registerModel, null as unknown as Op[]), /array/);
  });
});

describe('event histories', () => {
  type Ev = HistoryEvent<RegisterInput, RegisterOutput>;
  const call = (id: number, input: RegisterInput): Ev => ({ kind: 'call', id, clientId: id, input });
  const ret = (id: number, output: RegisterOutput): Ev => ({ kind: 'return', id, output });

  it('orders by position and treats unreturned calls as indeterminate', () => {
    const ok: Ev[] = [call(1, { op: 'put', key: 'k', value: 'a' }), call(2, { op: 'get', key: 'k' }), ret(2, { value: 'a' }), ret(1, {})];
    expect(checkEvents(registerModel, ok).verdict).toBe('linearizable');
    const stale: Ev[] = [call(1, { op: 'put', key: 'k', value: 'a' }), ret(1, {}), call(2, { op: 'get', key: 'k' }), ret(2, { value: null })];
    expect(checkEvents(registerModel, stale).verdict).toBe('not-linearizable');
    const pending: Ev[] = [call(1, { op: 'put', key: 'k', value: 'a' }), call(2, { op: 'get', key: 'k' }), ret(2, { value: 'a' })];
    expect(checkEvents(registerModel, pending).verdict).toBe('linearizable');
  });

  it('rejects returns without a call and duplicate ids', () => {
    expect(() => checkEvents(registerModel, [ret(1, {})])).toThrow(/return for unknown or finished id 1/);
    const dup: Ev[] = [call(1, { op: 'get', key: 'k' }), call(1, { op: 'get', key: 'k' })];
    expect(() => checkEvents(registerModel, dup)).toThrow(/duplicate call id 1/);
  });
});
