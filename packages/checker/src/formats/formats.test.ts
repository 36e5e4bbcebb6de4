import { describe, it, expect } from 'vitest';
import { isMrkvError } from '@mrkv/common';
import { checkOperations } from '../check.js';
import { CheckerCodes } from '../errors.js';
import { INDETERMINATE } from '../model.js';
import { jepsenRegisterModel } from '../models/jepsen-register.js';
import { readEdnMap } from './edn.js';
import { detectFormat, parseHistory } from './index.js';
import { parseJepsenKv } from './jepsen-kv.js';
import { parseJepsenRegister } from './jepsen-register.js';
import { formatMrkvOperation, parseMrkvJsonl } from './mrkv-jsonl.js';

/** Runs `f`, expecting a HistoryParse error whose message matches. Returns the error's details. */
function parseFailure(f: () => unknown, message: RegExp): Record<string, unknown> {
  try {
    f();
  } catch (e) {
    if (!isMrkvError(e)) throw e;
    expect(e.code).toBe(CheckerCodes.HISTORY_PARSE);
    expect(e.message).toMatch(message);
    return e.details;
  }
  throw new Error('expected a KV:Checker:HistoryParse error');
}

const J = (proc: string | number, type: string, f: string, value: string): string => `INFO  jepsen.util - ${proc}\t${type}\t${f}\t${value}`;

describe('jepsen register logs', () => {
  it('pairs invokes with completions, with line numbers as times', () => {
    const log = [
      'INFO  jepsen.core - setting up',
      J(0, ':invoke', ':write', '3'),
      J(1, ':invoke', ':read', 'nil'),
      J(0, ':ok', ':write', '3'),
      J(':nemesis', ':info', ':start', 'nil'),
      J(1, ':ok', ':read', '3'),
      J(2, ':invoke', ':cas', '[3 4]'),
      J(2, ':fail', ':cas', '[3 4]'),
      J(3, ':invoke', ':write', '5'),
      J(3, ':info', ':write', ':timed-out'),
      J(4, ':invoke', ':read', 'nil'),
      J(4, ':fail', ':read', 'nil'),
      J(5, ':invoke', ':cas', '[1 2]'),
    ].join('\n');
    const ops = parseJepsenRegister(log);
    expect(ops).toEqual([
      { clientId: 0, input: { f: 'write', value: 3 }, output: {}, call: 2, ret: 4 },
      { clientId: 1, input: { f: 'read' }, output: { value: 3 }, call: 3, ret: 6 },
      { clientId: 2, input: { f: 'cas', from: 3, to: 4 }, output: { ok: false }, call: 7, ret: 8 },
      { clientId: 3, input: { f: 'write', value: 5 }, call: 9, ret: INDETERMINATE },
      { clientId: 5, input: { f: 'cas', from: 1, to: 2 }, call: 13, ret: INDETERMINATE },
    ]);
  });

  it('reads a failed cas as the definite answer "the register did not hold from"', () => {
    const log = (casType: string): string =>
      [J(0, ':invoke', ':write', '1'), J(0, ':ok', ':write', '1'), J(1, ':invoke', ':cas', '[1 2]'), J(1, casType, ':cas', '[1 2]')].join('\n');
    // The register certainly held 1 when the cas ran, so a failed compare is impossible…
    expect(checkOperations(jepsenRegisterModel, parseJepsenRegister(log(':fail'))).verdict).toBe('not-linearizable');
    // …unlike an indeterminate one, or a successful one.
    expect(checkOperations(jepsenRegisterModel, parseJepsenRegister(log(':info'))).verdict).toBe('linearizable');
    expect(checkOperations(jepsenRegisterModel, parseJepsenRegister(log(':ok'))).verdict).toBe('linearizable');
  });

  it('names the line of a malformed entry', () => {
    expect(parseFailure(() => parseJepsenRegister(['', J(0, ':invoke', ':write', 'x')].join('\n'), 'a.log'), /^a\.log:2: bad value "x"/)).toEqual({
      line: 2,
      source: 'a.log',
    });
    parseFailure(() => parseJepsenRegister(J(0, ':ok', ':read', '1')), /^line 1: process 0 completes :read but has no open operation/);
    parseFailure(() => parseJepsenRegister([J(0, ':invoke', ':read', 'nil'), J(0, ':invoke', ':read', 'nil')].join('\n')), /line 2: .*still open/);
    parseFailure(() => parseJepsenRegister([J(0, ':invoke', ':read', 'nil'), J(0, ':ok', ':write', '1')].join('\n')), /line 2: .*invoked :read at line 1/);
    parseFailure(() => parseJepsenRegister(J(0, ':invoke', ':incr', '1')), /unknown function ":incr"/);
    parseFailure(() => parseJepsenRegister(J(0, ':done', ':read', 'nil')), /unknown type ":done"/);
    parseFailure(() => parseJepsenRegister('INFO  jepsen.util - x7\t:invoke\t:read\tnil'), /bad process "x7"/);
    parseFailure(() => parseJepsenRegister('INFO  jepsen.util - 1\t:invoke\t:read'), /expected 4 tab-separated fields/);
    parseFailure(() => parseJepsenRegister([J(0, ':invoke', ':write', '1'), J(0, ':ok', ':write', '2')].join('\n')), /wrote 1/);
    parseFailure(() => parseJepsenRegister([J(0, ':invoke', ':cas', '[1 2]'), J(0, ':ok', ':cas', '[1 3]')].join('\n')), /invoked with \[1 2\]/);
    parseFailure(() => parseJepsenRegister(J(0, ':invoke', ':read', '4')), /invoked with nil/);
  });
});

describe('EDN lines', () => {
  it('reads maps of keywords, strings, integers, nil and vectors', () => {
    const m = readEdnMap('{:process 3, :type :ok, :f :get, :key "a \\"b\\"\\n", :value nil, :v [1 -2 "x"], :b true}');
    expect(Object.fromEntries(m)).toEqual({
      process: 3,
      type: { keyword: 'ok' },
      f: { keyword: 'get' },
      key: 'a "b"\n',
      value: null,
      v: [1, -2, 'x'],
      b: true,
    });
  });

  it('rejects what is not a flat map, with a column', () => {
    expect(() => readEdnMap('[1 2]')).toThrow(/expected a map.*column 1/);
    expect(() => readEdnMap('{:a "x}')).toThrow(/unterminated string/);
    expect(() => readEdnMap('{:a 1')).toThrow(/unterminated map/);
    expect(() => readEdnMap('{:a}')).toThrow(/key :a has no value/);
    expect(() => readEdnMap('{:a 1 :a 2}')).toThrow(/duplicate key :a/);
    expect(() => readEdnMap('{"a" 1}')).toThrow(/keys must be keywords/);
    expect(() => readEdnMap('{:a 1} x')).toThrow(/trailing/);
    expect(() => readEdnMap('{:a 99999999999999999999}')).toThrow(/out of range/);
    expect(() => readEdnMap('{:a {:b 1}}')).toThrow(/nested maps/);
    expect(() => readEdnMap('{:a 1.5}')).toThrow(/unsupported token "1.5"/);
  });
});

describe('jepsen kv histories', () => {
  it('parses get/put/append by key; fail dropped, info indeterminate', () => {
    const text = [
      '{:process 0, :type :invoke, :f :put, :key "k", :value "x"}',
      '{:process 1, :type :invoke, :f :get, :key "k", :value nil}',
      '',
      '; a comment',
      '{:process 0, :type :ok, :f :put, :key "k", :value "x"}',
      '{:process 1, :type :ok, :f :get, :key "k", :value "x"}',
      '{:process :nemesis, :type :info, :f :start, :value nil}',
      '{:process 2, :type :invoke, :f :append, :key 7, :value "y"}',
      '{:process 2, :type :info, :f :append, :key 7, :value "y"}',
      '{:process 3, :type :invoke, :f :append, :key "k", :value "z"}',
      '{:process 3, :type :fail, :f :append, :key "k", :value "z"}',
    ].join('\n');
    expect(parseJepsenKv(text)).toEqual([
      { clientId: 0, input: { f: 'put', key: 'k', value: 'x' }, output: {}, call: 1, ret: 5 },
      { clientId: 1, input: { f: 'get', key: 'k' }, output: { value: 'x' }, call: 2, ret: 6 },
      { clientId: 2, input: { f: 'append', key: '7', value: 'y' }, call: 8, ret: INDETERMINATE },
    ]);
  });

  it('names the line of a malformed entry', () => {
    parseFailure(() => parseJepsenKv('{:process 0, :type :invoke, :f :get, :key "k", :value nil}\n{:process 0 :type'), /^line 2: .*column/);
    parseFailure(() => parseJepsenKv('{:type :invoke, :f :get, :key "k"}'), /line 1: missing or bad :process/);
    parseFailure(() => parseJepsenKv('{:process 0, :type :invoke, :f :cas, :key "k"}'), /bad :f "cas"/);
    parseFailure(() => parseJepsenKv('{:process 0, :type :invoke, :f :get}'), /missing or bad :key/);
    parseFailure(() => parseJepsenKv('{:process 0, :type :invoke, :f :put, :key "k", :value nil}'), /put is invoked with a string :value/);
    parseFailure(() => parseJepsenKv('{:process 0, :type :begin, :f :get, :key "k"}'), /bad :type "begin"/);
    parseFailure(
      () => parseJepsenKv('{:process 0, :type :invoke, :f :get, :key "k", :value nil}\n{:process 0, :type :ok, :f :get, :key "j", :value ""}'),
      /line 2: completion for key "j" but the invoke was on "k"/,
    );
  });
});

describe('mrkv JSON lines', () => {
  it('reads event lines and operation lines, with bigint times as strings', () => {
    const text = [
      '{"type":"invoke","client":1,"op":"put","key":"k","value":"a","time":100}',
      '{"type":"ok","client":2,"op":"get","key":"k","value":"a","call":101,"ret":"90071992547409930"}',
      '{"type":"ok","client":1,"time":130}',
      '{"type":"invoke","client":3,"op":"cas","key":"k","expected":"a","value":null,"time":140}',
      '{"type":"ok","client":3,"op":"cas","key":"k","succeeded":true,"previous":"a","time":150}',
      '{"type":"invoke","client":4,"op":"delete","key":"k","time":160}',
      '{"type":"fail","client":4,"time":161}',
      '{"type":"invoke","client":5,"op":"put","key":"k","value":"b","time":170, "extra": "ignored"}',
      '{"type":"info","client":5,"time":180}',
      '{"type":"info","client":6,"op":"put","key":"k","value":"c","call":190}',
      '{"type":"fail","client":7,"op":"put","key":"k","value":"d","call":190,"ret":191}',
      '{"type":"invoke","client":8,"op":"get","key":"k","time":200}',
    ].join('\n');
    expect(parseMrkvJsonl(text)).toEqual([
      { clientId: 1, input: { op: 'put', key: 'k', value: 'a' }, output: {}, call: 100, ret: 130 },
      { clientId: 2, input: { op: 'get', key: 'k' }, output: { value: 'a' }, call: 101, ret: 90071992547409930n },
      { clientId: 3, input: { op: 'cas', key: 'k', expected: 'a', value: null }, output: { succeeded: true, previous: 'a' }, call: 140, ret: 150 },
      { clientId: 5, input: { op: 'put', key: 'k', value: 'b' }, call: 170, ret: INDETERMINATE },
      { clientId: 6, input: { op: 'put', key: 'k', value: 'c' }, call: 190, ret: INDETERMINATE },
      { clientId: 8, input: { op: 'get', key: 'k' }, call: 200, ret: INDETERMINATE },
    ]);
  });

  it('writes operation lines that read back the same', () => {
    const ops = parseMrkvJsonl(
      [
        '{"type":"ok","client":2,"op":"get","key":"k","value":null,"call":1,"ret":2}',
        '{"type":"ok","client":3,"op":"cas","key":"k","expected":null,"value":"x","succeeded":false,"call":3,"ret":"99999999999999999999"}',
        '{"type":"info","client":6,"op":"delete","key":"k","call":4}',
      ].join('\n'),
    );
    expect(parseMrkvJsonl(ops.map(formatMrkvOperation).join('\n'))).toEqual(ops);
  });

  it('names the line of a malformed entry', () => {
    const ok = '{"type":"invoke","client":1,"op":"get","key":"k","time":1}';
    parseFailure(() => parseMrkvJsonl(`${ok}\n{"type":`), /^line 2: not valid JSON/);
    parseFailure(() => parseMrkvJsonl('[1]'), /line 1: each line must be a JSON object/);
    parseFailure(() => parseMrkvJsonl('{"type":"invoke","client":"a","op":"get","key":"k","time":1}'), /"client" must be an integer/);
    parseFailure(() => parseMrkvJsonl('{"type":"begin","client":1,"op":"get","key":"k","time":1}'), /"type" must be/);
    parseFailure(() => parseMrkvJsonl('{"type":"invoke","client":1,"op":"incr","key":"k","time":1}'), /"op" must be one of get, put, delete, cas/);
    parseFailure(() => parseMrkvJsonl('{"type":"invoke","client":1,"op":"get","key":5,"time":1}'), /"key" must be a string/);
    parseFailure(() => parseMrkvJsonl('{"type":"invoke","client":1,"op":"put","key":"k","time":1}'), /a put needs a string "value"/);
    parseFailure(() => parseMrkvJsonl('{"type":"invoke","client":1,"op":"cas","key":"k","value":"x","time":1}'), /a cas needs "expected"/);
    parseFailure(() => parseMrkvJsonl('{"type":"invoke","client":1,"op":"get","key":"k","time":-1.5e400}'), /"time" must be/);
    parseFailure(() => parseMrkvJsonl('{"type":"invoke","client":1,"op":"get","key":"k"}'), /needs "time" \(an event\) or "call"/);
    parseFailure(() => parseMrkvJsonl('{"type":"ok","client":1,"time":3}'), /client 1 has no open operation/);
    parseFailure(() => parseMrkvJsonl(`${ok}\n{"type":"ok","client":1,"time":3}`), /line 2: a completed get needs "value"/);
    parseFailure(() => parseMrkvJsonl(`${ok}\n{"type":"ok","client":1,"op":"put","value":"x","time":3}`), /completion of put but the open operation is get/);
    parseFailure(() => parseMrkvJsonl(`${ok}\n{"type":"ok","client":1,"key":"j","value":"x","time":3}`), /completion for key "j"/);
    parseFailure(() => parseMrkvJsonl(`${ok}\n{"type":"ok","client":1,"value":"x","time":0}`), /precedes its invoke/);
    parseFailure(() => parseMrkvJsonl(`${ok}\n${ok}`), /line 2: process 1 invokes get while its get from line 1 is still open/);
    parseFailure(() => parseMrkvJsonl('{"type":"ok","client":1,"op":"get","key":"k","value":"x","call":5,"ret":4}'), /"ret" \(4\) precedes "call" \(5\)/);
    parseFailure(() => parseMrkvJsonl('{"type":"invoke","client":1,"op":"get","key":"k","call":5}'), /operation line .* has type ok, fail or info/);
    parseFailure(() => parseMrkvJsonl('{"type":"ok","client":1,"op":"cas","key":"k","expected":null,"value":null,"call":1,"ret":2}'), /boolean "succeeded"/);
  });
});

describe('format detection', () => {
  it('guesses from the first meaningful line', () => {
    expect(detectFormat(`\n${J(0, ':invoke', ':read', 'nil')}`)).toBe('jepsen-register');
    expect(detectFormat('; comment\n{:process 0, :type :invoke}')).toBe('jepsen-kv');
    expect(detectFormat('{"type":"invoke"}')).toBe('mrkv-jsonl');
  });

  it('refuses to guess for anything else', () => {
    try {
      detectFormat('hello\nworld', 'x.txt');
      throw new Error('expected an error');
    } catch (e) {
      expect(isMrkvError(e) && e.code).toBe(CheckerCodes.UNKNOWN_FORMAT);
      expect((e as Error).message).toMatch(/x\.txt/);
    }
  });

  it('pairs each format with its model', () => {
    const p = parseHistory('jepsen-register', J(0, ':invoke', ':read', 'nil'));
    expect(p.operations).toHaveLength(1);
    expect(p.model.describeState!(null)).toBe('nil');
  });
});
