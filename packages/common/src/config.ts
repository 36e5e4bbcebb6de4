/**
 * Config loading: defaults < file (TOML or JSON) < flags, validated by a zod schema. A validation
 * failure throws `MrkvError(INVALID_CONFIG)` whose message names every bad field by its dotted
 * path and the source it came from, e.g. `raftstore.election-ticks: expected number (from flag)`.
 *
 * Keys are kebab-case in files and flags (TiKV style) and camelCase in the typed result.
 */
import { readFileSync } from 'node:fs';
import { parse as parseToml } from 'smol-toml';
import type { z } from 'zod';
import { CommonCodes, MrkvError } from './errors.js';

export interface LoadConfigOptions {
  /** Path of a `.toml` or `.json` config file, if any. */
  file?: string | undefined;
  /** Flag overrides as dotted kebab-case paths, e.g. `{ 'raftstore.election-ticks': '10' }`. */
  flags?: Record<string, unknown>;
}

type Plain = Record<string, unknown>;

/** Loads and validates a config. Throws MrkvError(INVALID_CONFIG) naming the bad fields. */
export function loadConfig<S extends z.ZodType>(schema: S, opts: LoadConfigOptions = {}): z.output<S> {
  let merged: Plain = {};
  if (opts.file) merged = deepMerge(merged, camelKeys(readConfigFile(opts.file)));
  if (opts.flags) {
    for (const [path, value] of Object.entries(opts.flags)) {
      if (value === undefined) continue;
      setPath(merged, path.split('.').map(kebabToCamel), coerceFlag(value));
    }
  }
  const result = schema.safeParse(merged);
  if (!result.success) {
    const problems = result.error.issues.map((i) => {
      const path = i.path.map((p) => (typeof p === 'string' ? camelToKebab(p) : String(p))).join('.') || '(root)';
      return `${path}: ${i.message}`;
    });
    throw new MrkvError(CommonCodes.INVALID_CONFIG, `invalid config${opts.file ? ` (file ${opts.file})` : ''}: ${problems.join('; ')}`, {
      details: { problems },
    });
  }
  return result.data;
}

function readConfigFile(file: string): Plain {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new MrkvError(CommonCodes.INVALID_CONFIG, `cannot read config file ${file}`, { cause });
  }
  try {
    const parsed = file.endsWith('.json') ? JSON.parse(text) : parseToml(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('top level is not a table');
    return parsed as Plain;
  } catch (cause) {
    throw new MrkvError(CommonCodes.INVALID_CONFIG, `cannot parse config file ${file}: ${(cause as Error).message}`, { cause });
  }
}

/** Flags arrive as strings; turn obvious numbers and booleans into values, leave the rest. */
function coerceFlag(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  if (v === 'true') return true;
  if (v === 'false') return false;
  if (/^-?\d+(\.\d+)?$/.test(v)) return Number(v);
  return v;
}

export function kebabToCamel(s: string): string {
  return s.replace(/[-_]([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

export function camelToKebab(s: string): string {
  return s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function camelKeys(v: unknown): Plain {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return v as Plain;
  const out: Plain = {};
  for (const [k, x] of Object.entries(v as Plain)) {
    out[kebabToCamel(k)] = x !== null && typeof x === 'object' && !Array.isArray(x) ? camelKeys(x) : x;
  }
  return out;
}

function deepMerge(a: Plain, b: Plain): Plain {
  const out: Plain = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] =
      v !== null && typeof v === 'object' && !Array.isArray(v) && cur !== null && typeof cur === 'object' && !Array.isArray(cur)
        ? deepMerge(cur as Plain, v as Plain)
        : v;
  }
  return out;
}

function setPath(obj: Plain, path: string[], value: unknown): void {
  let cur: Plain = obj;
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i]!;
    const next = cur[k];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) cur[k] = {};
    cur = cur[k] as Plain;
  }
  cur[path[path.length - 1]!] = value;
}
