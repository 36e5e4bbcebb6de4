import { describe, expect, it } from 'vitest';
import { decodeTso, parseId } from './commands.js';
import { formatKey, keyHex, parseKey } from './keys.js';

describe('keys on the command line', () => {
  it('reads text, 0x hex and b64: base64', () => {
    expect(Buffer.from(parseKey('user42')).toString()).toBe('user42');
    expect(Buffer.from(parseKey('0x00ff41'))).toEqual(Buffer.from([0, 255, 0x41]));
    expect(Buffer.from(parseKey('b64:AP9B'))).toEqual(Buffer.from([0, 255, 0x41]));
    expect(parseKey('')).toHaveLength(0);
  });

  it('refuses malformed hex and base64 with a usage error', () => {
    expect(() => parseKey('0xabc')).toThrow(expect.objectContaining({ code: 'CTL:BadKey' }));
    expect(() => parseKey('0xzz')).toThrow(expect.objectContaining({ code: 'CTL:BadKey' }));
    expect(() => parseKey('b64:***')).toThrow(expect.objectContaining({ code: 'CTL:BadKey', exitCode: 2 }));
  });

  it('prints printable keys as text and others as hex, so output parses back', () => {
    for (const k of [Buffer.from('abc'), Buffer.from([0, 1, 2]), Buffer.from('0xlooks-like-hex'), Buffer.from('b64:x'), Buffer.alloc(0)]) {
      expect(Buffer.from(parseKey(formatKey(k)))).toEqual(k);
    }
    expect(formatKey(Buffer.from([0xde, 0xad]))).toBe('0xdead');
    expect(keyHex(Buffer.from('a'))).toBe('61');
  });

  it('parses ids and decodes timestamps', () => {
    expect(parseId('42', 'region id')).toBe(42);
    expect(() => parseId('0', 'region id')).toThrow(/region id must be a positive integer/);
    expect(() => parseId('4x', 'store id')).toThrow(/store id/);
    expect(decodeTso(String((1_700_000_000_000n << 18n) | 7n))).toEqual({ physical: 1_700_000_000_000, logical: 7, time: '2023-11-14T22:13:20.000Z' });
    expect(() => decodeTso('-1')).toThrow(/decimal integer/);
  });
});
