/**
 * Golden tests: recorded etcd Jepsen histories and Porcupine's KV histories with known verdicts
 * (testdata/porcupine, a copy of the shared Porcupine data with its licence; see its README). Every file must get its verdict within the budget.
 * The directory must exist: CI machines have ../shared next to the repository, and a missing
 * directory fails here rather than skipping.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { checkOperations } from './check.js';
import { compareTime } from './history.js';
import { parseHistory } from './formats/index.js';
import type { HistoryFormat } from './formats/index.js';
import type { Operation, Time } from './model.js';
import { INDETERMINATE } from './model.js';
import { witnessProblems } from './testing/witness.js';

const GOLDEN = fileURLToPath(new URL('../testdata/porcupine/', import.meta.url));
/** Generous: the slowest file takes well under a second here; `unknown` fails the test. */
const BUDGET_MS = 20_000;

const timings: { file: string; ms: number }[] = [];
afterAll(() => {
  if (timings.length === 0) return;
  timings.sort((a, b) => b.ms - a.ms);
  const total = timings.reduce((s, t) => s + t.ms, 0);
  const top = timings.slice(0, 3).map((t) => `${t.file} ${t.ms.toFixed(0)} ms`);
  console.log(`golden: ${timings.length} histories in ${total.toFixed(0)} ms; slowest: ${top.join(', ')}`);
});

/** The history cut at instant t: later calls dropped, operations still running made indeterminate. */
function cut<I, O>(ops: readonly Operation<I, O>[], t: Time): Operation<I, O>[] {
  return ops
    .filter((op) => compareTime(op.call, t) <= 0)
    .map((op) => (compareTime(op.ret, t) <= 0 ? op : { clientId: op.clientId, input: op.input, call: op.call, ret: INDETERMINATE }));
}

function checkFile(format: HistoryFormat, path: string, expected: string): void {
  const name = path.slice(GOLDEN.length);
  const parsed = parseHistory(format, readFileSync(path, 'utf8'), name);
  const t0 = performance.now();
  const result = checkOperations(parsed.model, parsed.operations, { timeoutMs: BUDGET_MS });
  timings.push({ file: name, ms: performance.now() - t0 });
  expect(result.verdict, name).toBe(expected);
  if (result.verdict === 'linearizable') {
    expect(witnessProblems(parsed.model, parsed.operations, result)).toEqual([]);
    return;
  }
  // The explanation: the history cut at the failing return is illegal, the cut just before is not.
  const v = result.violation!;
  expect(v.core.length).toBeGreaterThan(0);
  expect(v.failingOperation.indeterminate).toBe(false);
  const key = v.partition;
  const partOps = parsed.operations.filter((op) => key === undefined || parsed.model.partitionKey!(op.input) === key);
  const at = v.failingOperation.ret;
  expect(checkOperations(parsed.model, cut(partOps, at), { explain: false }).verdict).toBe('not-linearizable');
  const earlier = partOps.map((op) => op.ret).filter((t) => t !== INDETERMINATE && compareTime(t, at) < 0);
  if (earlier.length > 0) {
    const previous = earlier.reduce((a, b) => (compareTime(a, b) >= 0 ? a : b));
    expect(checkOperations(parsed.model, cut(partOps, previous), { explain: false }).verdict).toBe('linearizable');
  }
}

describe('golden histories (testdata/porcupine)', () => {
  if (!existsSync(GOLDEN)) {
    it('finds the golden data', () => {
      throw new Error(`golden data not found at ${GOLDEN}: the checker's golden histories belong in packages/checker/testdata/porcupine`);
    });
    return;
  }

  describe('jepsen etcd register logs', () => {
    const verdicts = JSON.parse(readFileSync(`${GOLDEN}jepsen/verdicts.json`, 'utf8')) as Record<string, string>;
    const files = readdirSync(`${GOLDEN}jepsen`).filter((f) => f.endsWith('.log')).sort();
    it('has a verdict for every log, and a log for every verdict', () => {
      expect(files.length).toBeGreaterThan(0);
      expect(Object.keys(verdicts).sort()).toEqual(files);
    });
    for (const file of files) {
      it(file, () => checkFile('jepsen-register', `${GOLDEN}jepsen/${file}`, verdicts[file]!));
    }
  });

  describe('kv histories (verdict in the file name)', () => {
    const files = readdirSync(`${GOLDEN}kv`).filter((f) => /-(ok|bad)\.txt$/.test(f)).sort();
    it('finds them', () => expect(files.length).toBeGreaterThan(0));
    for (const file of files) {
      const expected = file.endsWith('-ok.txt') ? 'linearizable' : 'not-linearizable';
      it(file, () => checkFile('jepsen-kv', `${GOLDEN}kv/${file}`, expected));
    }
  });
});
