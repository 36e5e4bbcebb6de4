/**
 * @mrkv/ctl: mrkv-ctl as a library (tests run it in process): `runCtl(argv, io)` resolves with
 * the exit code; key parsing and formatting helpers.
 */
export { runCtl, buildProgram, parseId, decodeTso, stdio } from './commands.js';
export type { CtlIo } from './commands.js';
export { parseKey, formatKey, keyHex } from './keys.js';
export { CtlErrorCodes, CtlError } from './errors.js';
export type { CtlErrorCode } from './errors.js';
export { AdminClient } from './client.js';
