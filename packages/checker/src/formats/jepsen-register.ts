/**
 * Reader of Jepsen etcd register logs (`jepsen/etcd_NNN.log` in the golden data):
 * `INFO  jepsen.util - <process>\t<:invoke|:ok|:fail|:info>\t<:read|:write|:cas>\t<value>`.
 * Lines without `jepsen.util - `, and lines of non-numeric processes (`:nemesis`), are ignored.
 * Times are line numbers: the log is an event stream without timestamps.
 *
 * `:fail` of a read or write means it did not happen (dropped); `:fail` of a cas is a definite
 * answer, "the register did not hold `from`", kept as an operation with output `{ ok: false }`.
 */
import { parseError } from '../errors.js';
import type { Operation } from '../model.js';
import type { JepsenRegisterInput, JepsenRegisterOutput } from '../models/jepsen-register.js';
import { EventHistoryBuilder } from './event-builder.js';

const MARKER = 'jepsen.util - ';

type Value = number | null | readonly [number, number];

function parseValue(text: string): Value | undefined {
  const t = text.trim();
  if (t === 'nil') return null;
  if (/^-?\d+$/.test(t)) return Number.isSafeInteger(Number(t)) ? Number(t) : undefined;
  const m = /^\[\s*(-?\d+)\s*,?\s+(-?\d+)\s*\]$/.exec(t);
  if (m !== null) return [Number(m[1]), Number(m[2])];
  return undefined;
}

/** Parses a Jepsen register log. Throws `KV:Checker:HistoryParse` naming the line. */
export function parseJepsenRegister(text: string, source?: string): Operation<JepsenRegisterInput, JepsenRegisterOutput>[] {
  const b = new EventHistoryBuilder<JepsenRegisterInput, JepsenRegisterOutput>(source);
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    const at = lines[i]!.indexOf(MARKER);
    if (at < 0) continue;
    const fields = lines[i]!.slice(at + MARKER.length).replace(/\r$/, '').split('\t');
    const proc = fields[0]!.trim();
    if (proc.startsWith(':')) continue; // nemesis and other named actors
    const fail = (message: string): never => {
      throw parseError(line, message, source);
    };
    if (!/^\d+$/.test(proc)) fail(`bad process ${JSON.stringify(proc)}`);
    if (fields.length !== 4) fail(`expected 4 tab-separated fields after "${MARKER.trim()}", got ${fields.length}`);
    const client = Number(proc);
    const type = fields[1]!.trim();
    const f = fields[2]!.trim();
    if (f !== ':read' && f !== ':write' && f !== ':cas') fail(`unknown function ${JSON.stringify(f)}`);
    // Only invokes and oks carry a value that matters; :fail and :info may carry a reason (:timed-out).
    const value = type === ':invoke' || type === ':ok' ? parseValue(fields[3]!) : null;
    if (value === undefined) fail(`bad value ${JSON.stringify(fields[3])}`);
    switch (type) {
      case ':invoke':
        b.invoke(client, f, inputOf(f, value as Value, fail), line, line);
        break;
      case ':ok':
        b.ok(client, f, okOutput(f, value as Value, b.openInput(client), fail), line, line);
        break;
      case ':fail':
        if (f === ':cas') b.ok(client, f, { ok: false }, line, line);
        else b.fail(client, f, line);
        break;
      case ':info':
        b.info(client, f, line);
        break;
      default:
        fail(`unknown type ${JSON.stringify(type)} (expected :invoke, :ok, :fail or :info)`);
    }
  }
  return b.finish();
}

function inputOf(f: string, value: Value, fail: (m: string) => never): JepsenRegisterInput {
  if (f === ':read') return value === null ? { f: 'read' } : fail('a read is invoked with nil, not a value');
  if (f === ':write') return typeof value === 'number' ? { f: 'write', value } : fail('a write takes an integer');
  return Array.isArray(value) ? { f: 'cas', from: value[0]!, to: value[1]! } : fail('a cas takes [from to]');
}

function okOutput(f: string, value: Value, invoked: JepsenRegisterInput | undefined, fail: (m: string) => never): JepsenRegisterOutput {
  if (f === ':read') return typeof value === 'number' || value === null ? { value } : fail('a read returns an integer or nil');
  if (f === ':write') {
    if (invoked?.f === 'write' && value !== invoked.value) fail(`write completes with ${String(value)} but wrote ${invoked.value}`);
    return {};
  }
  if (invoked?.f === 'cas' && (!Array.isArray(value) || value[0] !== invoked.from || value[1] !== invoked.to)) {
    fail(`cas completes with ${JSON.stringify(value)} but was invoked with [${invoked.from} ${invoked.to}]`);
  }
  return { ok: true };
}
