import { describe, expect, it } from 'vitest';
import { Trace } from './trace.js';

describe('Trace', () => {
  it('keeps the last lines in order (newest last) once the tail wraps, and serializes them on read', () => {
    let t = 0;
    const trace = new Trace(() => ({ atMs: t, event: t * 2 }), false, 3);
    for (t = 1; t <= 2; t++) trace.emit('op', { n: t });
    expect(trace.last()).toEqual(['{"t":1,"ev":2,"kind":"op","n":1}', '{"t":2,"ev":4,"kind":"op","n":2}']);
    for (t = 3; t <= 7; t++) trace.emit('op', { n: t, keys: ['a', 'b'] });
    expect(trace.last().map((l) => (JSON.parse(l) as { n: number }).n)).toEqual([5, 6, 7]);
    expect(trace.size).toBe(7);
    expect(trace.text()).toBe('');
  });

  it('keeps every line with keepAll, as JSON lines with the time rounded to µs', () => {
    let t = 0.12345678;
    const trace = new Trace(() => ({ atMs: t, event: 1 }), true, 2);
    trace.emit('a');
    t = 2;
    trace.emit('b', { x: null });
    trace.emit('c');
    expect(trace.text()).toBe('{"t":0.123,"ev":1,"kind":"a"}\n{"t":2,"ev":1,"kind":"b","x":null}\n{"t":2,"ev":1,"kind":"c"}\n');
    expect(trace.last()).toEqual(['{"t":2,"ev":1,"kind":"b","x":null}', '{"t":2,"ev":1,"kind":"c"}']);
  });
});
