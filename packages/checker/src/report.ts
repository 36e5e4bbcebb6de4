/**
 * Renders check results for people (`formatResult`) and for machines (`resultToJson`).
 */
import type { Time } from './model.js';
import { INDETERMINATE } from './model.js';
import type { CheckResult, OperationView, Verdict, Violation, WindowOperation } from './result.js';

export interface FormatOptions {
  /**
   * How times read: `clock` (default) prints `call 100 ret 130`; `lines` prints `lines 12–15`,
   * for formats whose times are line numbers of the history file.
   */
  readonly times?: 'clock' | 'lines';
  /** How many operations of the linearized prefix to show (its tail); default 8. */
  readonly prefixTail?: number;
}

/** The first line of a report: `linearizable`, `not linearizable` or `unknown`. */
export function verdictText(verdict: Verdict): string {
  switch (verdict) {
    case 'linearizable':
      return 'linearizable';
    case 'not-linearizable':
      return 'not linearizable';
    case 'unknown':
      return 'unknown';
  }
}

function timeText(t: Time): string {
  return t === INDETERMINATE ? '∞' : String(t);
}

function interval(op: OperationView<unknown, unknown>, times: 'clock' | 'lines'): string {
  if (times === 'lines') return op.indeterminate ? `line ${timeText(op.call)}, no response` : `lines ${timeText(op.call)}–${timeText(op.ret)}`;
  return `call ${timeText(op.call)} ret ${timeText(op.ret)}`;
}

function opRows(ops: readonly OperationView<unknown, unknown>[], times: 'clock' | 'lines', notes?: readonly string[]): string[] {
  const cells = ops.map((op) => [`#${op.index}`, `client ${op.clientId}`, op.description, interval(op, times)]);
  const widths = [0, 1, 2].map((c) => Math.max(0, ...cells.map((r) => r[c]!.length)));
  return cells.map((r, k) => {
    const cols = r.map((cell, c) => (c < 3 ? cell.padEnd(widths[c]!) : cell)).join('  ');
    const note = notes?.[k];
    return `    ${cols}${note === undefined ? '' : `  ${note}`}`.trimEnd();
  });
}

function violationLines(v: Violation<unknown, unknown, unknown>, options: FormatOptions): string[] {
  const times = options.times ?? 'clock';
  const tail = Math.max(0, options.prefixTail ?? 8);
  const lines: string[] = [];
  if (v.partition !== undefined) lines.push(`  key: ${JSON.stringify(v.partition)}`);
  lines.push('', '  The history stops being linearizable when this operation returns:', ...opRows([v.failingOperation], times));
  lines.push(
    '',
    v.coreMinimal
      ? '  These operations cannot be linearized together, whatever the others did (minimal set):'
      : '  These operations cannot be linearized together, whatever the others did (not fully minimized):',
    ...opRows(v.core, times),
  );
  const shown = v.linearized.slice(Math.max(0, v.linearized.length - tail));
  const count = v.linearized.length;
  lines.push(
    '',
    count === 0
      ? '  Longest linearizable prefix found: empty (no operation could be placed first).'
      : `  Longest linearizable prefix found (${count} operation${count === 1 ? '' : 's'}${count > shown.length ? `, last ${shown.length} shown` : ''}):`,
    ...opRows(shown, times),
    `  State after it: ${v.stateDescription}`,
  );
  lines.push('', '  Pending at that point (called, not yet linearized); none of them can be placed next:');
  lines.push(...opRows(v.window, times, v.window.map((w) => windowNote(w))));
  return lines;
}

function windowNote(w: WindowOperation<unknown, unknown>): string {
  return w.legalNext ? '(legal here, but every order after it fails)' : '(illegal in this state)';
}

/** A human-readable report: the verdict on the first line, then statistics and any explanation. */
export function formatResult(result: CheckResult<unknown, unknown, unknown>, options: FormatOptions = {}): string {
  const ops = result.partitions.reduce((n, p) => n + p.operations, 0);
  const total = result.partitions.length + result.skippedPartitions;
  const lines = [verdictText(result.verdict)];
  const n = result.droppedOperations;
  const dropped = n > 0 ? `, ${n} indeterminate operation${n === 1 ? '' : 's'} left out as unable to matter` : '';
  lines.push(
    `  checked ${result.partitions.length} of ${total} partition${total === 1 ? '' : 's'}, ${ops} operations${dropped}, in ${result.elapsedMs.toFixed(1)} ms`,
  );
  if (result.verdict === 'unknown') {
    const p = result.partitions[result.partitions.length - 1];
    lines.push(
      `  the search budget ran out${p?.partition === undefined ? '' : ` on key ${JSON.stringify(p.partition)}`} after ${p?.steps ?? 0} steps; raise --timeout to decide`,
    );
  }
  if (result.violation !== undefined) lines.push(...violationLines(result.violation, options));
  return lines.join('\n');
}

/** The result as JSON text: bigints become decimal strings, +∞ becomes `null`. */
export function resultToJson(result: CheckResult<unknown, unknown, unknown>, indent?: number): string {
  return JSON.stringify(
    result,
    (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v === INDETERMINATE ? null : v),
    indent,
  );
}

