import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareBytes, decodeU64BEBig, encodeU64BE, encodeU64BEBig, readU64BE, u64FromWire } from './codec.js';

describe('u64 big-endian codecs', () => {
  it('round-trips safe integers and preserves order as bytes', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), fc.maxSafeNat(), (a, b) => {
        expect(readU64BE(encodeU64BE(a), 0)).toBe(a);
        expect(Math.sign(compareBytes(encodeU64BE(a), encodeU64BE(b)))).toBe(Math.sign(a - b));
      }),
    );
  });

  it('round-trips full 64-bit bigints', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (v) => {
      expect(decodeU64BEBig(encodeU64BEBig(v))).toBe(v);
    }));
  });

  it('refuses values it cannot represent', () => {
    expect(() => encodeU64BE(-1)).toThrow(RangeError);
    expect(() => encodeU64BE(2 ** 53)).toThrow(RangeError);
    expect(() => readU64BE(encodeU64BEBig(1n << 60n), 0)).toThrow(RangeError);
    expect(() => readU64BE(new Uint8Array(4), 0)).toThrow(RangeError);
    expect(() => u64FromWire('18446744073709551615')).toThrow(RangeError);
    expect(u64FromWire('42')).toBe(42);
    expect(u64FromWire(undefined)).toBe(0);
  });
});
