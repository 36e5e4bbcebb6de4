import { describe, it, expect } from 'vitest';
import { checkOperations } from '../check.js';
import type { Operation, PatchCandidate } from '../model.js';
import { INDETERMINATE } from '../model.js';
import { jepsenKvModel } from './jepsen-kv.js';
import { jepsenRegisterModel } from './jepsen-register.js';
import type { RegisterInput, RegisterOutput } from './register.js';
import { registerModel } from './register.js';

type Op = Operation<RegisterInput, RegisterOutput>;
const k = 'k';
const def = (input: RegisterInput, output: RegisterOutput, call: number, ret: number, clientId = 1): Op => ({ clientId, input, output, call, ret });
const info = (input: RegisterInput, call: number, clientId = 2): Op => ({ clientId, input, call, ret: INDETERMINATE });
const candidates = (ops: readonly Op[]): PatchCandidate<RegisterInput, RegisterOutput>[] =>
  ops.map((op) => ({
    input: op.input,
    output: op.ret === INDETERMINATE ? undefined : op.output,
    call: op.call,
    ret: op.ret,
    indeterminate: op.ret === INDETERMINATE,
  }));
const patch = (ops: readonly Op[]) => Object.fromEntries(registerModel.patchIndeterminate!(candidates(ops)));

describe('register model', () => {
  it('steps get/put/delete/cas, and accepts any outcome of an indeterminate operation', () => {
    const m = registerModel;
    expect(m.step(null, { op: 'get', key: k }, { value: null })).toEqual({ ok: true, state: null });
    expect(m.step('a', { op: 'get', key: k }, { value: 'b' }).ok).toBe(false);
    expect(m.step('a', { op: 'put', key: k, value: 'b' }, {})).toEqual({ ok: true, state: 'b' });
    expect(m.step('a', { op: 'delete', key: k }, {})).toEqual({ ok: true, state: null });
    expect(m.step('a', { op: 'cas', key: k, expected: 'a', value: null }, { succeeded: true })).toEqual({ ok: true, state: null });
    expect(m.step('a', { op: 'cas', key: k, expected: 'x', value: 'b' }, { succeeded: false, previous: 'a' })).toEqual({ ok: true, state: 'a' });
    expect(m.step('a', { op: 'cas', key: k, expected: 'x', value: 'b' }, undefined)).toEqual({ ok: true, state: 'a' });
    expect(m.step('x', { op: 'cas', key: k, expected: 'x', value: 'b' }, undefined)).toEqual({ ok: true, state: 'b' });
  });

  it('describes operations and states', () => {
    const d = registerModel.describeOperation!;
    expect(d({ op: 'get', key: k }, { value: null })).toBe('get("k") → null');
    expect(d({ op: 'put', key: k, value: 'v' }, undefined)).toBe('put("k", "v") → ?');
    expect(d({ op: 'delete', key: k }, {})).toBe('delete("k")');
    expect(d({ op: 'cas', key: k, expected: null, value: 'v' }, { succeeded: false, previous: 'z' })).toBe(
      'cas("k", null → "v") → not swapped (found "z")',
    );
    expect(registerModel.describeState!(null)).toBe('absent');
  });

  it('validates shapes', () => {
    const v = registerModel.validate!;
    expect(v({ op: 'get', key: k }, { value: 'x' })).toBeUndefined();
    expect(v({ op: 'get', key: 1 } as unknown as RegisterInput, undefined)).toMatch(/key must be a string/);
    expect(v({ op: 'cas', key: k, expected: 1, value: 'x' } as unknown as RegisterInput, undefined)).toMatch(/expected and value/);
    expect(v({ op: 'cas', key: k, expected: null, value: 'x' }, { succeeded: true, previous: 3 } as unknown as RegisterOutput)).toMatch(
      /previous value/,
    );
  });
});

describe('register model: patching indeterminate writes', () => {
  it('drops a write nothing observes and bounds one that is observed', () => {
    const ops = [info({ op: 'put', key: k, value: 'lost' }, 0), info({ op: 'put', key: k, value: 'seen' }, 1), def({ op: 'get', key: k }, { value: 'seen' }, 5, 9)];
    expect(patch(ops)).toEqual({ 0: { kind: 'drop' }, 1: { kind: 'bound', ret: 9 } });
  });

  it('bounds only values written once, and drops only writes nothing could observe afterwards', () => {
    // Written twice and observed: cannot tell which write was seen, so neither patch applies.
    expect(
      patch([info({ op: 'put', key: k, value: 'v' }, 0), def({ op: 'put', key: k, value: 'v' }, {}, 1, 2), def({ op: 'get', key: k }, { value: 'v' }, 3, 4)]),
    ).toEqual({});
    // Written twice, never observed: dropping is still safe.
    expect(patch([info({ op: 'put', key: k, value: 'v' }, 0), def({ op: 'put', key: k, value: 'v' }, {}, 1, 2)])).toEqual({ 0: { kind: 'drop' } });
    // A failed cas that hides what it found, returning after the write's call, could be explained by it.
    expect(
      patch([info({ op: 'put', key: k, value: 'v' }, 0), def({ op: 'cas', key: k, expected: 'a', value: 'c' }, { succeeded: false }, 1, 2)]),
    ).toEqual({});
  });

  it('drops a pending delete only when no null is observed after its call', () => {
    const nullRead = def({ op: 'get', key: k }, { value: null }, 10, 11);
    expect(patch([info({ op: 'delete', key: k }, 5), nullRead])).toEqual({});
    expect(patch([nullRead, info({ op: 'delete', key: k }, 12)])).toEqual({ 1: { kind: 'drop' } });
  });

  it('keeps a write that a pending cas might swap from', () => {
    const ops = [
      def({ op: 'put', key: k, value: 'a' }, {}, 0, 1),
      info({ op: 'put', key: k, value: 'b' }, 2),
      info({ op: 'cas', key: k, expected: 'b', value: null }, 3),
      def({ op: 'get', key: k }, { value: null }, 10, 11),
    ];
    expect(patch(ops)).toEqual({});
    // The history needs both pending operations to have happened.
    expect(checkOperations(registerModel, ops).verdict).toBe('linearizable');
    // Without the read of null, nothing needs them: both go (the cas first, then the put it expected).
    expect(patch(ops.slice(0, 3))).toEqual({ 1: { kind: 'drop' }, 2: { kind: 'drop' } });
  });

  it('needs a failed cas that does not report what it found to be explainable by a pending write', () => {
    const history = [
      def({ op: 'put', key: k, value: 'a' }, {}, 0, 1),
      info({ op: 'put', key: k, value: 'b' }, 2),
      def({ op: 'cas', key: k, expected: 'a', value: 'c' }, { succeeded: false }, 5, 6),
    ];
    expect(checkOperations(registerModel, history).verdict).toBe('linearizable');
  });

  it('chains bounds through pending cas operations that must have swapped', () => {
    // put x (pending) → cas x→y (pending) → get y: the cas swapped, so x was written before it.
    const ops = [
      info({ op: 'put', key: k, value: 'x' }, 0),
      info({ op: 'cas', key: k, expected: 'x', value: 'y' }, 1),
      def({ op: 'get', key: k }, { value: 'y' }, 5, 9),
    ];
    expect(patch(ops)).toEqual({ 0: { kind: 'bound', ret: 9 }, 1: { kind: 'bound', ret: 9 } });
    expect(checkOperations(registerModel, ops).verdict).toBe('linearizable');
  });

  it('drops the write of a value observed only before the write was called (the read stays illegal)', () => {
    const ops = [def({ op: 'get', key: k }, { value: 'v' }, 0, 1), info({ op: 'put', key: k, value: 'v' }, 5)];
    expect(patch(ops)).toEqual({ 1: { kind: 'drop' } });
    expect(checkOperations(registerModel, ops).verdict).toBe('not-linearizable');
  });
});

describe('jepsen register model', () => {
  it('reads, writes and compares-and-sets an integer register that starts at nil', () => {
    const m = jepsenRegisterModel;
    expect(m.step(null, { f: 'read' }, { value: null }).ok).toBe(true);
    expect(m.step(3, { f: 'read' }, { value: 4 }).ok).toBe(false);
    expect(m.step(3, { f: 'write', value: 4 }, {})).toEqual({ ok: true, state: 4 });
    expect(m.step(3, { f: 'cas', from: 3, to: 5 }, { ok: true })).toEqual({ ok: true, state: 5 });
    expect(m.step(3, { f: 'cas', from: 3, to: 5 }, { ok: false }).ok).toBe(false);
    expect(m.step(2, { f: 'cas', from: 3, to: 5 }, { ok: false })).toEqual({ ok: true, state: 2 });
    expect(m.step(3, { f: 'cas', from: 3, to: 5 }, undefined)).toEqual({ ok: true, state: 5 });
    expect(m.describeOperation!({ f: 'cas', from: 1, to: 2 }, { ok: false })).toBe('cas 1→2 → fail');
    expect(m.describeOperation!({ f: 'read' }, { value: null })).toBe('read → nil');
    expect(m.validate!({ f: 'write', value: 1.5 }, {})).toMatch(/integer/);
    expect(m.validate!({ f: 'cas', from: 1, to: 2 }, { value: 1 } as never)).toMatch(/answers \{ ok: boolean \}/);
  });
});

describe('jepsen kv model', () => {
  it('gets, puts and appends strings per key, "" when absent', () => {
    const m = jepsenKvModel;
    expect(m.step('', { f: 'get', key: k }, { value: '' }).ok).toBe(true);
    expect(m.step('ab', { f: 'append', key: k, value: 'c' }, {})).toEqual({ ok: true, state: 'abc' });
    expect(m.step('ab', { f: 'put', key: k, value: 'c' }, {})).toEqual({ ok: true, state: 'c' });
    expect(m.step('ab', { f: 'get', key: k }, { value: 'a' }).ok).toBe(false);
    expect(m.partitionKey!({ f: 'get', key: 'x' })).toBe('x');
    expect(m.validate!({ f: 'append', key: k } as never, {})).toMatch(/string value/);
    expect(m.describeOperation!({ f: 'append', key: k, value: 'z' }, undefined)).toBe('append("k", "z") → ?');
  });
});
