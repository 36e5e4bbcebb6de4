/**
 * A small datadriven script format (after cockroachdb/datadriven, which etcd's interaction tests
 * use):
 *
 *   # a comment
 *   command pos1 key=val list=(1,2,3)
 *   optional input lines
 *   ----
 *   expected output lines
 *   <blank line>
 *
 * `parseScript` returns the cases with where their expected output sits, so `rewriteScript` can
 * replace only the outputs and keep everything else (comments, spacing) byte for byte.
 */

/** One `key` or `key=val` or `key=(v1,v2)` argument. */
export interface ScriptArg {
  key: string;
  vals: string[];
}

export interface ScriptCase {
  /** 1-based line number of the command. */
  line: number;
  cmd: string;
  args: ScriptArg[];
  /** Lines between the command and `----`. */
  input: string[];
  expected: string;
  /** Line range [from, to) of the expected output, 0-based. */
  outFrom: number;
  outTo: number;
}

export class ScriptError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'ScriptError';
  }
}

function parseArgs(line: number, text: string): ScriptArg[] {
  const args: ScriptArg[] = [];
  let i = 0;
  while (i < text.length) {
    while (text[i] === ' ') i++;
    if (i >= text.length) break;
    let j = i;
    while (j < text.length && text[j] !== ' ' && text[j] !== '=') j++;
    const key = text.slice(i, j);
    if (text[j] !== '=') {
      args.push({ key, vals: [] });
      i = j;
      continue;
    }
    j++;
    if (text[j] === '(') {
      const close = text.indexOf(')', j);
      if (close < 0) throw new ScriptError(line, `unclosed "(" in argument ${key}`);
      const inner = text.slice(j + 1, close).trim();
      args.push({ key, vals: inner === '' ? [] : inner.split(',').map((v) => v.trim()) });
      i = close + 1;
    } else {
      let k = j;
      while (k < text.length && text[k] !== ' ') k++;
      args.push({ key, vals: [text.slice(j, k)] });
      i = k;
    }
  }
  return args;
}

export function parseScript(text: string): ScriptCase[] {
  const lines = text.split('\n');
  const cases: ScriptCase[] = [];
  let i = 0;
  while (i < lines.length) {
    const l = lines[i]!;
    if (l.trim() === '' || l.startsWith('#')) {
      i++;
      continue;
    }
    const cmdLine = i + 1;
    const sp = l.indexOf(' ');
    const cmd = sp < 0 ? l.trim() : l.slice(0, sp);
    const args = sp < 0 ? [] : parseArgs(cmdLine, l.slice(sp + 1));
    i++;
    const input: string[] = [];
    while (i < lines.length && lines[i] !== '----') {
      if (lines[i]!.trim() === '') throw new ScriptError(cmdLine, `command "${cmd}" has no "----" separator`);
      input.push(lines[i]!);
      i++;
    }
    if (i >= lines.length) throw new ScriptError(cmdLine, `command "${cmd}" has no "----" separator`);
    i++;
    const outFrom = i;
    while (i < lines.length && lines[i]!.trim() !== '') i++;
    cases.push({ line: cmdLine, cmd, args, input, expected: lines.slice(outFrom, i).join('\n'), outFrom, outTo: i });
  }
  return cases;
}

/** The script with each case's expected output replaced by `outputs[i]`. */
export function rewriteScript(text: string, cases: readonly ScriptCase[], outputs: readonly string[]): string {
  const lines = text.split('\n');
  const out: string[] = [];
  let pos = 0;
  cases.forEach((c, k) => {
    out.push(...lines.slice(pos, c.outFrom));
    const o = outputs[k]!;
    if (o !== '') out.push(...o.split('\n'));
    pos = c.outTo;
  });
  out.push(...lines.slice(pos));
  return out.join('\n');
}

/** Helpers for handlers reading arguments. */
export function argVal(c: ScriptCase, key: string): string | undefined {
  return c.args.find((a) => a.key === key)?.vals[0];
}

export function argInt(c: ScriptCase, key: string, dflt?: number): number {
  const v = argVal(c, key);
  if (v === undefined) {
    if (dflt !== undefined) return dflt;
    throw new ScriptError(c.line, `${c.cmd}: missing ${key}=`);
  }
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new ScriptError(c.line, `${c.cmd}: ${key}=${v} is not an integer`);
  return n;
}

export function argInts(c: ScriptCase, key: string): number[] {
  const a = c.args.find((x) => x.key === key);
  if (a === undefined) return [];
  return a.vals.map((v) => {
    const n = Number(v);
    if (!Number.isSafeInteger(n)) throw new ScriptError(c.line, `${c.cmd}: ${key} has a non-integer ${v}`);
    return n;
  });
}

export function argBool(c: ScriptCase, key: string): boolean {
  const a = c.args.find((x) => x.key === key);
  if (a === undefined) return false;
  return a.vals.length === 0 || a.vals[0] === 'true';
}

/** Positional (value-less) arguments that are integers, e.g. node ids. */
export function positionalInts(c: ScriptCase): number[] {
  return c.args.filter((a) => a.vals.length === 0 && /^\d+$/.test(a.key)).map((a) => Number(a.key));
}

/** Positional arguments as strings. */
export function positionals(c: ScriptCase): string[] {
  return c.args.filter((a) => a.vals.length === 0).map((a) => a.key);
}
