import { describe, it, expect } from 'vitest';
import { checkOperations } from './check.js';
import type { Model, NondeterministicModel, Operation } from './model.js';
import { INDETERMINATE } from './model.js';
import { powerSetModel } from './models/power-set.js';
import type { RegisterInput, RegisterOutput } from './models/register.js';
import { registerModel } from './models/register.js';
import { formatResult, resultToJson } from './report.js';

type Op = Operation<RegisterInput, RegisterOutput>;
const put = (client: number, key: string, value: string, call: number, ret: number): Op => ({
  clientId: client,
  input: { op: 'put', key, value },
  output: {},
  call,
  ret,
});
const get = (client: number, key: string, value: string | null, call: number, ret: number): Op => ({
  clientId: client,
  input: { op: 'get', key },
  output: { value },
  call,
  ret,
});

describe('partitions', () => {
  it('checks keys independently and names the failing one', () => {
    const ops = [
      put(1, 'a', 'x', 0, 1),
      get(2, 'a', 'x', 2, 3),
      put(1, 'b', 'y', 0, 1),
      get(2, 'b', null, 2, 3), // stale
      put(3, 'c', 'z', 0, 1),
      put(3, 'c', 'w', 2, 3),
      get(3, 'c', 'w', 4, 5),
    ];
    const r = checkOperations(registerModel, ops);
    expect(r.verdict).toBe('not-linearizable');
    expect(r.violation!.partition).toBe('b');
    // Smallest partitions first; checking stops at the illegal one.
    expect(r.partitions.map((p) => p.partition)).toEqual(['a', 'b']);
    expect(r.skippedPartitions).toBe(1);
  });

  it('would not be linearizable as one object, but is per key', () => {
    // Same values under different keys: if keys were mixed, the read of b would see a's write.
    const ops = [put(1, 'a', 'x', 0, 1), get(2, 'b', null, 2, 3), get(2, 'a', 'x', 4, 5)];
    expect(checkOperations(registerModel, ops).verdict).toBe('linearizable');
    const { partitionKey: _ignored, ...unpartitioned } = registerModel;
    expect(checkOperations(unpartitioned as Model<string | null, RegisterInput, RegisterOutput>, ops).verdict).toBe('not-linearizable');
  });

  it('rejects a model whose partition key is not a string', () => {
    const bad = { ...registerModel, partitionKey: () => 7 as unknown as string };
    expect(() => checkOperations(bad, [get(1, 'a', null, 0, 1)])).toThrow(/partition key must be a string/);
  });

  it('reports per-partition statistics and linearizations', () => {
    const r = checkOperations(registerModel, [put(1, 'a', 'x', 0, 5), get(2, 'a', 'x', 1, 2), get(3, 'b', null, 0, 1)]);
    expect(r.verdict).toBe('linearizable');
    expect(r.partitions).toHaveLength(2);
    const a = r.partitions.find((p) => p.partition === 'a')!;
    expect(a.operations).toBe(2);
    expect(a.linearization).toEqual([0, 1]);
    expect(a.steps).toBeGreaterThan(0);
    expect(a.cacheSize).toBeGreaterThan(0);
  });
});

describe('explanations', () => {
  // Two clients; client 2's read at [40, 45] sees "a" although "b" was written in [20, 30]. Later
  // operations must not widen the window.
  const history: Op[] = [
    put(1, 'k', 'a', 0, 10),
    get(2, 'k', 'a', 12, 14),
    put(1, 'k', 'b', 20, 30),
    put(3, 'k', 'c', 35, 100), // concurrent with the bad read, unrelated to it
    get(2, 'k', 'a', 40, 45), // the violation
    get(2, 'k', 'c', 110, 120),
    put(1, 'k', 'd', 130, 140),
  ];

  it('names the failing read, a minimal core, the prefix and the pending window', () => {
    const r = checkOperations(registerModel, history);
    expect(r.verdict).toBe('not-linearizable');
    const v = r.violation!;
    expect(v.partition).toBe('k');
    expect(v.failingOperation.index).toBe(4);
    expect(v.failingOperation.description).toBe('get("k") → "a"');
    expect(v.core.map((o) => o.index)).toEqual([2, 4]);
    expect(v.coreMinimal).toBe(true);
    // The deepest dead end: after the put of "b", neither pending operation leads anywhere.
    expect(v.linearized.map((o) => o.index)).toEqual([0, 1, 2]);
    expect(v.stateDescription).toBe('"b"');
    expect(v.window.map((o) => [o.index, o.legalNext])).toEqual([
      [3, true],
      [4, false],
    ]);
    // Operations are shown as recorded (the put of "c" had not returned by the cut).
    expect(v.window[0]!.ret).toBe(100);
  });

  it('lists, in the window, concurrent operations the patching left out of the search', () => {
    const ops: Op[] = [
      put(1, 'k', 'a1', 100, 120),
      put(2, 'k', 'b2', 130, 160),
      get(3, 'k', 'a1', 135, 150),
      { clientId: 1, input: { op: 'cas', key: 'k', expected: 'b2', value: 'c3' }, call: 170, ret: INDETERMINATE },
      get(3, 'k', 'a1', 200, 210),
    ];
    const r = checkOperations(registerModel, ops);
    expect(r.droppedOperations).toBe(1); // the cas: nothing could observe it
    expect(r.violation!.core.map((o) => o.index)).toEqual([1, 4]);
    expect(r.violation!.window.map((o) => [o.index, o.indeterminate, o.legalNext])).toEqual([
      [3, true, true],
      [4, false, false],
    ]);
  });

  it('can be turned off', () => {
    const r = checkOperations(registerModel, history, { explain: false });
    expect(r.verdict).toBe('not-linearizable');
    expect(r.violation).toBeUndefined();
  });

  it('renders a readable report', () => {
    const text = formatResult(checkOperations(registerModel, history));
    const lines = text.split('\n');
    expect(lines[0]).toBe('not linearizable');
    expect(text).toContain('key: "k"');
    expect(text).toMatch(/stops being linearizable when this operation returns:\n\s+#4\s+client 2\s+get\("k"\) → "a"\s+call 40 ret 45/);
    expect(text).toMatch(/cannot be linearized together.*\(minimal set\):\n\s+#2 .*put\("k", "b"\).*\n\s+#4 /);
    expect(text).toMatch(/Longest linearizable prefix found \(3 operations\):\n.*#0.*\n.*#1.*\n\s+#2 .*put\("k", "b"\)\s+call 20 ret 30\n/);
    expect(text).toContain('State after it: "b"');
    expect(text).toMatch(/Pending at that point.*\n\s+#3 .*put\("k", "c"\)\s+call 35 ret 100\s+\(legal here, but every order after it fails\)\n\s+#4 .*\(illegal in this state\)/);
  });

  it('renders times as line ranges for line-numbered formats, and indeterminate operations', () => {
    const ops: Op[] = [
      put(1, 'k', 'a', 1, 2),
      { clientId: 2, input: { op: 'put', key: 'k', value: 'b' }, call: 3, ret: INDETERMINATE },
      get(3, 'k', 'b', 4, 5),
      get(3, 'k', 'z', 6, 7),
    ];
    const text = formatResult(checkOperations(registerModel, ops), { times: 'lines' });
    expect(text).toContain('lines 6–7');
    expect(text).toMatch(/put\("k", "b"\) → \?\s+line 3, no response/);
  });

  it('serializes results to JSON with bigints as strings and +∞ as null', () => {
    const ops: Op[] = [
      { clientId: 1, input: { op: 'put', key: 'k', value: 'a' }, output: {}, call: 1n, ret: 2n },
      { clientId: 2, input: { op: 'put', key: 'k', value: 'b' }, call: 3n, ret: INDETERMINATE },
      { clientId: 3, input: { op: 'get', key: 'k' }, output: { value: 'b' }, call: 4n, ret: 5n },
      { clientId: 3, input: { op: 'get', key: 'k' }, output: { value: 'z' }, call: 6n, ret: 7n },
    ];
    const json = JSON.parse(resultToJson(checkOperations(registerModel, ops))) as {
      verdict: string;
      violation: { failingOperation: { call: string; ret: string }; linearized: { ret: string | null }[] };
    };
    expect(json.verdict).toBe('not-linearizable');
    expect(json.violation.failingOperation).toMatchObject({ call: '6', ret: '7' });
    expect(json.violation.linearized.map((o) => o.ret)).toEqual(['2', null, '5']);
  });
});

describe('nondeterministic models', () => {
  // A "lossy counter": add(n) adds n, or (the system may drop it) nothing; read returns the total.
  type In = { op: 'add'; n: number } | { op: 'read' };
  const lossy: NondeterministicModel<number, In, number | null> = {
    init: () => [0],
    step: (s, input, output) => (input.op === 'add' ? [s, s + input.n] : output === undefined || output === s ? [s] : []),
    equal: (a, b) => a === b,
    hash: (s) => s | 0,
    describeState: (s) => String(s),
  };
  const op = (input: In, output: number | null, call: number, ret: number): Operation<In, number | null> => ({ clientId: 0, input, output, call, ret });

  it('searches over sets of states', () => {
    const model = powerSetModel(lossy);
    const adds = [op({ op: 'add', n: 1 }, null, 0, 1), op({ op: 'add', n: 2 }, null, 2, 3), op({ op: 'add', n: 4 }, null, 4, 5)];
    expect(checkOperations(model, [...adds, op({ op: 'read' }, 5, 6, 7)]).verdict).toBe('linearizable');
    expect(checkOperations(model, [...adds, op({ op: 'read' }, 0, 6, 7)]).verdict).toBe('linearizable');
    const eight = checkOperations(model, [...adds, op({ op: 'read' }, 8, 6, 7)]);
    expect(eight.verdict).toBe('not-linearizable');
    expect(eight.violation!.stateDescription).toBe('{0, 4, 2, 6, 1, 5, 3, 7}');
    // Once a read has seen 3, a later read cannot see 2.
    const r = checkOperations(model, [...adds, op({ op: 'read' }, 3, 6, 7), op({ op: 'read' }, 2, 8, 9)]);
    expect(r.verdict).toBe('not-linearizable');
    expect(r.violation!.stateDescription).toBe('{3}');
  });
});
