/**
 * The binary records of the raft-log engine. Both are versioned and carry a CRC-32C, so a torn or
 * corrupted record is always detected, never misread.
 *
 * Entry record (value under `raftLogKey(region, index)`), v1, integers big-endian except the CRC:
 *
 * | offset | size | field                                                   |
 * | ------ | ---- | ------------------------------------------------------- |
 * | 0      | 1    | version (1)                                             |
 * | 1      | 1    | entry type                                              |
 * | 2      | 1    | flags: bit 0 = has context                              |
 * | 3      | 1    | reserved (0)                                            |
 * | 4      | 4    | CRC-32C (little-endian) of bytes [0, 4) and [8, end)    |
 * | 8      | 8    | index (checked against the key: a misplaced record fails) |
 * | 16     | 8    | term                                                    |
 * | 24     | 4    | data length                                             |
 * | 28     | 4    | context length                                          |
 * | 32     | …    | data, then context                                      |
 *
 * State record (value under `raftStateKey(region)`), v1:
 *
 * | offset | size   | field                                                 |
 * | ------ | ------ | ----------------------------------------------------- |
 * | 0      | 1      | version (1)                                           |
 * | 1      | 1      | reserved (0)                                          |
 * | 2      | 2      | number of term runs n                                 |
 * | 4      | 4      | CRC-32C (little-endian) of bytes [0, 4) and [8, end)  |
 * | 8      | 8 × 5  | hard state term, vote, commit; first index; last index |
 * | 48     | 16 × n | term runs: (start index, term), ascending             |
 *
 * A term run `(s, t)` says entries from `s` up to the next run's start (or the last index) have
 * term `t`; the first run may start at `firstIndex - 1`, the entry before the log, so raft can
 * ask the term of the snapshot the log starts after without I/O.
 */
import { readU64BE, writeU64BE } from '@mrkv/common';
import { crc32cUpdate } from '../crc32c.js';
import type { HardState, RaftEntry } from '../traits/index.js';

export const ENTRY_RECORD_VERSION = 1;
export const ENTRY_HEADER_LEN = 32;
export const STATE_RECORD_VERSION = 1;
export const STATE_HEADER_LEN = 48;

function recordCrc(b: Uint8Array): number {
  return crc32cUpdate(crc32cUpdate(0, b, 0, 4), b, 8, b.length);
}

function writeU32BE(b: Uint8Array, off: number, v: number): void {
  b[off] = v >>> 24;
  b[off + 1] = (v >>> 16) & 0xff;
  b[off + 2] = (v >>> 8) & 0xff;
  b[off + 3] = v & 0xff;
}

function readU32BE(b: Uint8Array, off: number): number {
  return ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}

function writeU32LE(b: Uint8Array, off: number, v: number): void {
  b[off] = v & 0xff;
  b[off + 1] = (v >>> 8) & 0xff;
  b[off + 2] = (v >>> 16) & 0xff;
  b[off + 3] = v >>> 24;
}

function readU32LE(b: Uint8Array, off: number): number {
  return (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0;
}

/** Encodes one entry (the caller has validated its fields). */
export function encodeEntry(e: RaftEntry): Buffer {
  const ctx = e.context;
  const ctxLen = ctx === undefined ? 0 : ctx.length;
  const dataLen = e.data.length;
  const b = Buffer.allocUnsafe(ENTRY_HEADER_LEN + dataLen + ctxLen);
  b[0] = ENTRY_RECORD_VERSION;
  b[1] = e.entryType;
  b[2] = ctx === undefined ? 0 : 1;
  b[3] = 0;
  writeU64BE(b, 8, e.index);
  writeU64BE(b, 16, e.term);
  writeU32BE(b, 24, dataLen);
  writeU32BE(b, 28, ctxLen);
  b.set(e.data, ENTRY_HEADER_LEN);
  if (ctx !== undefined) b.set(ctx, ENTRY_HEADER_LEN + dataLen);
  writeU32LE(b, 4, recordCrc(b));
  return b;
}

/**
 * Decodes an entry record stored under index `expectedIndex`. Returns the entry, or a string
 * saying what is wrong with the bytes (the caller turns it into a Corruption error or a torn-tail
 * repair, depending on where the record sits). `data`/`context` are views into `b`.
 */
export function decodeEntry(b: Uint8Array, expectedIndex: number): RaftEntry | string {
  if (b.length < ENTRY_HEADER_LEN) return `record of ${b.length} bytes is shorter than its ${ENTRY_HEADER_LEN}-byte header`;
  if (b[0] !== ENTRY_RECORD_VERSION) return `unknown entry record version ${b[0]}`;
  const dataLen = readU32BE(b, 24);
  const ctxLen = readU32BE(b, 28);
  if (ENTRY_HEADER_LEN + dataLen + ctxLen !== b.length) {
    return `record length ${b.length} does not match its header (data ${dataLen}, context ${ctxLen})`;
  }
  const stored = readU32LE(b, 4);
  const actual = recordCrc(b);
  if (stored !== actual) return `checksum mismatch (stored ${hex32(stored)}, computed ${hex32(actual)})`;
  let index: number;
  let term: number;
  try {
    index = readU64BE(b, 8);
    term = readU64BE(b, 16);
  } catch (e) {
    return `index or term beyond 2^53: ${(e as Error).message}`;
  }
  if (index !== expectedIndex) return `record holds index ${index} but is stored under index ${expectedIndex}`;
  const hasCtx = (b[2]! & 1) === 1;
  if (!hasCtx && ctxLen !== 0) return 'context bytes present without the context flag';
  const data = b.subarray(ENTRY_HEADER_LEN, ENTRY_HEADER_LEN + dataLen);
  if (!hasCtx) return { index, term, entryType: b[1]!, data };
  return { index, term, entryType: b[1]!, data, context: b.subarray(ENTRY_HEADER_LEN + dataLen) };
}

/** The payload size raft's byte limits count for an entry (data + context). */
export function entryPayloadSize(e: RaftEntry): number {
  return e.data.length + (e.context === undefined ? 0 : e.context.length);
}

/** The persisted form of a region's log state. `runs` is flat: [start0, term0, start1, term1, …]. */
export interface StateRecord {
  readonly hardState: HardState;
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly runs: readonly number[];
}

export function encodeState(s: StateRecord): Buffer {
  const n = s.runs.length / 2;
  const b = Buffer.allocUnsafe(STATE_HEADER_LEN + 16 * n);
  b[0] = STATE_RECORD_VERSION;
  b[1] = 0;
  b[2] = (n >>> 8) & 0xff;
  b[3] = n & 0xff;
  writeU64BE(b, 8, s.hardState.term);
  writeU64BE(b, 16, s.hardState.vote);
  writeU64BE(b, 24, s.hardState.commit);
  writeU64BE(b, 32, s.firstIndex);
  writeU64BE(b, 40, s.lastIndex);
  for (let i = 0; i < s.runs.length; i++) writeU64BE(b, STATE_HEADER_LEN + 8 * i, s.runs[i]!);
  writeU32LE(b, 4, recordCrc(b));
  return b;
}

/** Decodes a state record, or returns what is wrong with it. */
export function decodeState(b: Uint8Array): StateRecord | string {
  if (b.length < STATE_HEADER_LEN) return `state record of ${b.length} bytes is shorter than its ${STATE_HEADER_LEN}-byte header`;
  if (b[0] !== STATE_RECORD_VERSION) return `unknown state record version ${b[0]}`;
  const n = (b[2]! << 8) | b[3]!;
  if (b.length !== STATE_HEADER_LEN + 16 * n) return `state record length ${b.length} does not match its ${n} term runs`;
  const stored = readU32LE(b, 4);
  const actual = recordCrc(b);
  if (stored !== actual) return `checksum mismatch (stored ${hex32(stored)}, computed ${hex32(actual)})`;
  try {
    const hardState = { term: readU64BE(b, 8), vote: readU64BE(b, 16), commit: readU64BE(b, 24) };
    const firstIndex = readU64BE(b, 32);
    const lastIndex = readU64BE(b, 40);
    const runs: number[] = new Array<number>(2 * n);
    for (let i = 0; i < 2 * n; i++) runs[i] = readU64BE(b, STATE_HEADER_LEN + 8 * i);
    return { hardState, firstIndex, lastIndex, runs };
  } catch (e) {
    return `field beyond 2^53: ${(e as Error).message}`;
  }
}

function hex32(v: number): string {
  return '0x' + v.toString(16).padStart(8, '0');
}
