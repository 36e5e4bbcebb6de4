/**
 * Keys on the command line and in output. Input: `0x6162` (hex), `b64:YWI=` (base64), anything
 * else as UTF-8 text (`--key user42`). Output: printable ASCII as text, anything else as `0x…`
 * hex, so what ctl prints can be pasted back in.
 */
import { CtlError, CtlErrorCodes } from './errors.js';

/** Parses a key argument. Throws `CTL:BadKey` for malformed hex or base64. */
export function parseKey(text: string): Uint8Array {
  if (/^0x/i.test(text)) {
    const hex = text.slice(2);
    if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new CtlError(CtlErrorCodes.BAD_KEY, `bad hex key ${JSON.stringify(text)}: expected an even number of hex digits after 0x`);
    return new Uint8Array(Buffer.from(hex, 'hex'));
  }
  if (text.startsWith('b64:')) {
    const b64 = text.slice(4);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) throw new CtlError(CtlErrorCodes.BAD_KEY, `bad base64 key ${JSON.stringify(text)}`);
    return new Uint8Array(Buffer.from(b64, 'base64'));
  }
  return new Uint8Array(Buffer.from(text, 'utf8'));
}

/** A key for display: printable ASCII as is (unless it looks like 0x… or b64:…), otherwise 0x hex. */
export function formatKey(key: Uint8Array | Buffer | string | null | undefined): string {
  const b = key == null ? Buffer.alloc(0) : typeof key === 'string' ? Buffer.from(key, 'base64') : Buffer.from(key);
  const printable = b.every((c) => c >= 0x20 && c < 0x7f);
  const text = b.toString('latin1');
  if (printable && !/^0x/i.test(text) && !text.startsWith('b64:')) return text;
  return `0x${b.toString('hex')}`;
}

/** Hex of a key (for JSON output). */
export function keyHex(key: Uint8Array | Buffer | null | undefined): string {
  return key == null ? '' : Buffer.from(key).toString('hex');
}
