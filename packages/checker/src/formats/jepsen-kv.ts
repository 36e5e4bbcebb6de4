/**
 * Reader of Jepsen KV histories in EDN lines (`kv/cNN-{ok,bad}.txt` in the golden data):
 * `{:process P, :type :invoke|:ok|:fail|:info, :f :get|:put|:append, :key "K", :value V}`.
 * Blank lines and `;` comments are skipped; lines of non-numeric processes (`:nemesis`) are
 * ignored. Times are line numbers.
 */
import { parseError } from '../errors.js';
import type { Operation } from '../model.js';
import type { JepsenKvInput, JepsenKvOutput } from '../models/jepsen-kv.js';
import type { EdnValue } from './edn.js';
import { EdnSyntaxError, keywordOf, readEdnMap } from './edn.js';
import { EventHistoryBuilder } from './event-builder.js';

/** Parses a Jepsen KV history. Throws `KV:Checker:HistoryParse` naming the line. */
export function parseJepsenKv(text: string, source?: string): Operation<JepsenKvInput, JepsenKvOutput>[] {
  const b = new EventHistoryBuilder<JepsenKvInput, JepsenKvOutput>(source);
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    const raw = lines[i]!.trim();
    if (raw === '' || raw.startsWith(';')) continue;
    const fail = (message: string, cause?: unknown): never => {
      throw parseError(line, message, source, cause);
    };
    let map: Map<string, EdnValue>;
    try {
      map = readEdnMap(raw);
    } catch (e) {
      if (e instanceof EdnSyntaxError) return fail(e.message, e);
      throw e;
    }
    const proc = map.get('process');
    if (keywordOf(proc) !== undefined) continue; // nemesis
    if (typeof proc !== 'number' || proc < 0) fail('missing or bad :process (expected a non-negative integer)');
    const client = proc as number;
    const type = keywordOf(map.get('type'));
    const f = keywordOf(map.get('f'));
    if (f !== 'get' && f !== 'put' && f !== 'append') fail(`bad :f ${JSON.stringify(f ?? map.get('f'))} (expected :get, :put or :append)`);
    const keyValue = map.get('key');
    if (typeof keyValue !== 'string' && typeof keyValue !== 'number') fail('missing or bad :key (expected a string or integer)');
    const key = String(keyValue);
    const value = map.get('value');
    switch (type) {
      case 'invoke':
        if (f === 'get') b.invoke(client, f, { f, key }, line, line);
        else if (typeof value === 'string') b.invoke(client, f as string, { f: f as 'put' | 'append', key, value }, line, line);
        else fail(`${String(f)} is invoked with a string :value`);
        break;
      case 'ok': {
        const invoked = b.openInput(client);
        if (invoked !== undefined && invoked.key !== key) fail(`completion for key ${JSON.stringify(key)} but the invoke was on ${JSON.stringify(invoked.key)}`);
        if (f === 'get') {
          if (typeof value !== 'string' && value !== null) fail('a get returns a string or nil');
          b.ok(client, f, { value: (value as string | null) ?? '' }, line, line);
        } else {
          b.ok(client, f as string, {}, line, line);
        }
        break;
      }
      case 'fail':
        b.fail(client, f as string, line);
        break;
      case 'info':
        b.info(client, f as string, line);
        break;
      default:
        fail(`bad :type ${JSON.stringify(type ?? map.get('type'))} (expected :invoke, :ok, :fail or :info)`);
    }
  }
  return b.finish();
}
