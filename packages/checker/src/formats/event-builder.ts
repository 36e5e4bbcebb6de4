/**
 * Turns Jepsen-style event lines (invoke, then ok / fail / info from the same process) into
 * operations, checking the pairing as it goes. Shared by every line format.
 *
 * Outcomes: `ok` completes the operation; `fail` means it definitely did not happen, so it is
 * dropped; `info` leaves it indeterminate (pending forever, ret = +∞), and the process may invoke
 * again. An invoke still open at the end of the file is indeterminate too.
 */
import { parseError } from '../errors.js';
import type { Operation, Time } from '../model.js';
import { INDETERMINATE } from '../model.js';

interface OpenOp<I> {
  readonly slot: number;
  /** What was invoked (the `f`), to check that the completion matches it. */
  readonly what: string;
  readonly input: I;
  readonly call: Time;
  readonly line: number;
}

export class EventHistoryBuilder<I, O> {
  private readonly slots: (Operation<I, O> | undefined)[] = [];
  private readonly open = new Map<number, OpenOp<I>>();
  private readonly source: string | undefined;

  constructor(source?: string) {
    this.source = source;
  }

  /** A process invokes an operation; returns its slot (its number in invoke order). */
  invoke(client: number, what: string, input: I, time: Time, line: number): number {
    const prev = this.open.get(client);
    if (prev !== undefined) {
      throw parseError(line, `process ${client} invokes ${what} while its ${prev.what} from line ${prev.line} is still open`, this.source);
    }
    const slot = this.slots.length;
    this.slots.push({ clientId: client, input, call: time, ret: INDETERMINATE });
    this.open.set(client, { slot, what, input, call: time, line });
    return slot;
  }

  /**
   * Closes the process's open operation, checking it is `what`. Returns the invoke so the caller
   * can check the completion against it.
   */
  private close(client: number, what: string, line: number): OpenOp<I> {
    const op = this.open.get(client);
    if (op === undefined) throw parseError(line, `process ${client} completes ${what} but has no open operation`, this.source);
    if (op.what !== what) {
      throw parseError(line, `process ${client} completes ${what} but invoked ${op.what} at line ${op.line}`, this.source);
    }
    this.open.delete(client);
    return op;
  }

  /** The open input of a process (to validate a completion before closing), if any. */
  openInput(client: number): I | undefined {
    return this.open.get(client)?.input;
  }

  /** A definite completion with its output. */
  ok(client: number, what: string, output: O, time: Time, line: number): void {
    const op = this.close(client, what, line);
    if (time < op.call) throw parseError(line, `completion at ${String(time)} precedes its invoke at ${String(op.call)}`, this.source);
    this.slots[op.slot] = { clientId: client, input: op.input, output, call: op.call, ret: time };
  }

  /** The operation definitely did not take effect: dropped. */
  fail(client: number, what: string, line: number): void {
    const op = this.close(client, what, line);
    this.slots[op.slot] = undefined;
  }

  /** The outcome is unknown: the operation stays pending forever. */
  info(client: number, what: string, line: number): void {
    this.close(client, what, line);
  }

  /** Every invoked operation by slot; `undefined` for the failed (dropped) ones. */
  finishSlots(): readonly (Operation<I, O> | undefined)[] {
    return this.slots;
  }

  /** The operations, in invoke order. */
  finish(): Operation<I, O>[] {
    return this.slots.filter((op): op is Operation<I, O> => op !== undefined);
  }
}
