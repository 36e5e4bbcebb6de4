import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import Long from 'long';
import { ProtoCodes, wireBytes, wireEnum, wireI64, wireI64Big, wireU64, wireU64Big } from './index.js';

describe('wire scalar parsing', () => {
  it('wireU64 accepts numbers, decimal strings and Longs below 2^53, and zero for unset', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (n) => {
        expect(wireU64(n, 'f')).toBe(n);
        expect(wireU64(String(n), 'f')).toBe(n);
        expect(wireU64(Long.fromNumber(n, true), 'f')).toBe(n);
      }),
    );
    expect(wireU64(null, 'f')).toBe(0);
    expect(wireU64(undefined, 'f')).toBe(0);
    expect(wireU64('', 'f')).toBe(0);
  });

  it('wireU64 refuses 2^53 and beyond, negatives and garbage, naming the field', () => {
    for (const bad of ['9007199254740992', '18446744073709551615', -1, 1.5, 'abc']) {
      expect(() => wireU64(bad, 'Context.region_id')).toThrow(
        expect.objectContaining({ code: ProtoCodes.INTEGER_OUT_OF_RANGE, details: { field: 'Context.region_id' } }),
      );
    }
  });

  it('wireI64 keeps signed safe integers', () => {
    expect(wireI64('-42', 'f')).toBe(-42);
    expect(() => wireI64('-9223372036854775808', 'f')).toThrow(expect.objectContaining({ code: ProtoCodes.INTEGER_OUT_OF_RANGE }));
  });

  it('big variants cover the full 64-bit ranges', () => {
    expect(wireU64Big('18446744073709551615', 'f')).toBe(18446744073709551615n);
    expect(wireI64Big('-9223372036854775808', 'f')).toBe(-9223372036854775808n);
    expect(() => wireU64Big('18446744073709551616', 'f')).toThrow(expect.objectContaining({ code: ProtoCodes.INTEGER_OUT_OF_RANGE }));
    expect(() => wireU64Big('-1', 'f')).toThrow(expect.objectContaining({ code: ProtoCodes.INTEGER_OUT_OF_RANGE }));
    expect(() => wireI64Big('9223372036854775808', 'f')).toThrow(expect.objectContaining({ code: ProtoCodes.INTEGER_OUT_OF_RANGE }));
    expect(() => wireU64Big('1x', 'f')).toThrow(expect.objectContaining({ code: ProtoCodes.INTEGER_OUT_OF_RANGE }));
    expect(wireU64Big(null, 'f')).toBe(0n);
  });

  it('wireBytes copies into a plain Uint8Array; strings are base64 as in protobufjs', () => {
    const src = Buffer.from([1, 2, 3]);
    const b = wireBytes(src);
    src[0] = 9;
    expect(b).toEqual(new Uint8Array([1, 2, 3]));
    expect(Buffer.isBuffer(b)).toBe(false);
    expect(wireBytes('AQID')).toEqual(new Uint8Array([1, 2, 3]));
    expect(wireBytes(null)).toEqual(new Uint8Array());
  });

  it('wireEnum maps names and numbers, refuses the rest', () => {
    const names = ['A', 'B'] as const;
    expect(wireEnum(names, 'B', 'f')).toBe('B');
    expect(wireEnum(names, 1, 'f')).toBe('B');
    expect(wireEnum(names, undefined, 'f')).toBe('A');
    for (const bad of ['C', 2, -1, 0.5]) {
      expect(() => wireEnum(names, bad, 'f')).toThrow(expect.objectContaining({ code: ProtoCodes.UNKNOWN_ENUM_VALUE }));
    }
  });
});
