import { describe, it, expect } from 'vitest';
import { MrkvError } from '@mrkv/common';
import {
  decodeMessage,
  encodeMessage,
  RequestError,
  RequestErrorCodes,
  requestErrorFromWire,
  requestErrors,
  requestErrorToKeyError,
  requestErrorToWire,
} from './index.js';

const all: RequestError[] = [
  requestErrors.keyIsEmpty(),
  requestErrors.keyTooLarge(9000, 8192),
  requestErrors.valueTooLarge(9_000_000, 8_388_608),
  requestErrors.batchTooLarge('keys', 20_000, 10_000),
  requestErrors.invalidScanRange(false),
  requestErrors.invalidScanRange(true),
  requestErrors.invalidScanLimit(0, 10_240),
  requestErrors.invalidCf('lock'),
  requestErrors.apiVersionNotSupported('V2'),
  requestErrors.ttlNotSupported(),
  requestErrors.ttlLenNotEqualsToPairs(2, 3),
  requestErrors.emptyRequest('no keys'),
  requestErrors.deadlineExceeded(50),
];

describe('request errors', () => {
  it('every code has a constructor, and codes are distinct KV:Storage codes', () => {
    const codes = new Set(all.map((e) => e.code));
    expect([...codes].sort()).toEqual(Object.values(RequestErrorCodes).filter((c) => c !== RequestErrorCodes.UNKNOWN).sort());
    for (const c of Object.values(RequestErrorCodes)) expect(c).toMatch(/^KV:Storage:[A-Za-z]+$/);
  });

  it.each(all.map((e) => [e.code, e] as const))('%s: the response string round-trips to the same code and message', (_c, e) => {
    expect(e).toBeInstanceOf(MrkvError);
    const s = requestErrorToWire(e);
    expect(s.startsWith(`[${e.code}] `)).toBe(true);
    const back = requestErrorFromWire(s);
    expect(back.code).toBe(e.code);
    expect(back.message).toBe(e.message);
  });

  it('travels in RawPutResponse.error and in KvPair.error.abort', () => {
    const e = requestErrors.keyTooLarge(10, 5);
    const put = decodeMessage('kvrpcpb.RawPutResponse', encodeMessage('kvrpcpb.RawPutResponse', { error: requestErrorToWire(e) }));
    expect(requestErrorFromWire(put.error).code).toBe(RequestErrorCodes.KEY_TOO_LARGE);
    const scan = decodeMessage('kvrpcpb.RawScanResponse', encodeMessage('kvrpcpb.RawScanResponse', { kvs: [{ error: requestErrorToKeyError(e) }] }));
    expect(requestErrorFromWire(scan.kvs[0]!.error!.abort).message).toBe('key is 10 bytes, limit 5');
  });

  it('strings from other servers become KV:Storage:Unknown with the whole text', () => {
    for (const s of ['Key is too large', '[KV:Storage:NoSuchCode] x', '[not a code] y', '']) {
      const e = requestErrorFromWire(s);
      expect(e.code).toBe(RequestErrorCodes.UNKNOWN);
      expect(e.message).toBe(s);
    }
  });

  it('messages carry sizes, never key bytes', () => {
    expect(requestErrors.keyTooLarge(9000, 8192).details).toEqual({ size: 9000, limit: 8192 });
    expect(requestErrors.invalidScanRange(true).message).toBe('reverse scan needs start_key > end_key');
  });
});
