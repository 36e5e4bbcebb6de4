/**
 * The history file formats the checker reads, each paired with the model it is checked against.
 */
import { MrkvError } from '@mrkv/common';
import { CheckerCodes } from '../errors.js';
import type { Model, Operation } from '../model.js';
import { jepsenKvModel } from '../models/jepsen-kv.js';
import { jepsenRegisterModel } from '../models/jepsen-register.js';
import { registerModel } from '../models/register.js';
import { parseJepsenKv } from './jepsen-kv.js';
import { parseJepsenRegister } from './jepsen-register.js';
import { parseMrkvJsonl } from './mrkv-jsonl.js';

export const HISTORY_FORMATS = ['jepsen-register', 'jepsen-kv', 'mrkv-jsonl'] as const;
export type HistoryFormat = (typeof HISTORY_FORMATS)[number];

/** A parsed history with the model its format is checked against. */
export interface ParsedHistory {
  readonly format: HistoryFormat;
  readonly model: Model<unknown, unknown, unknown>;
  readonly operations: readonly Operation<unknown, unknown>[];
}

export function isHistoryFormat(s: string): s is HistoryFormat {
  return (HISTORY_FORMATS as readonly string[]).includes(s);
}

/**
 * Guesses the format from the first meaningful line: a `jepsen.util - ` log line, an EDN map
 * (`{:`), or a JSON object (`{"`). Throws `KV:Checker:UnknownFormat` if none fits.
 */
export function detectFormat(text: string, source?: string): HistoryFormat {
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith(';')) continue;
    if (line.includes('jepsen.util - ')) return 'jepsen-register';
    if (/^\{\s*:/.test(line)) return 'jepsen-kv';
    if (/^\{\s*"/.test(line)) return 'mrkv-jsonl';
  }
  throw new MrkvError(CheckerCodes.UNKNOWN_FORMAT, `cannot tell the history format of ${source ?? 'the input'}; pass --format`, {
    details: { source: source ?? null },
  });
}

/** Parses `text` in `format` (throws `KV:Checker:HistoryParse` naming the line). */
export function parseHistory(format: HistoryFormat, text: string, source?: string): ParsedHistory {
  // The casts widen each format's typed model to the common erased form; operations and model
  // come from the same branch, so they always agree.
  switch (format) {
    case 'jepsen-register':
      return { format, model: jepsenRegisterModel as Model<unknown, unknown, unknown>, operations: parseJepsenRegister(text, source) };
    case 'jepsen-kv':
      return { format, model: jepsenKvModel as Model<unknown, unknown, unknown>, operations: parseJepsenKv(text, source) };
    case 'mrkv-jsonl':
      return { format, model: registerModel as Model<unknown, unknown, unknown>, operations: parseMrkvJsonl(text, source) };
  }
}
