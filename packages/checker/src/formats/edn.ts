/**
 * A reader for the one-line EDN maps of Jepsen histories, e.g.
 * `{:process 0, :type :ok, :f :get, :key "7", :value ""}`. It reads maps of scalars (keywords,
 * strings, integers, nil, booleans) and vectors of scalars: exactly what history lines hold, not
 * general EDN. Errors are `EdnError`s with a column, for the caller to wrap with the line.
 */

/** A keyword such as `:ok`, kept apart from strings. */
export interface EdnKeyword {
  readonly keyword: string;
}

export type EdnValue = null | boolean | number | string | EdnKeyword | readonly EdnValue[];

/** A syntax error in one EDN line; `column` is 1-based. */
export class EdnSyntaxError extends Error {
  readonly column: number;
  constructor(message: string, column: number) {
    super(`${message} at column ${column}`);
    this.name = 'EdnSyntaxError';
    this.column = column;
  }
}

const SYMBOL_CHAR = /[A-Za-z0-9*+!\-_?<>=./]/;

class Reader {
  pos = 0;
  constructor(private readonly text: string) {}

  fail(message: string): never {
    throw new EdnSyntaxError(message, this.pos + 1);
  }

  skipSpace(): void {
    while (this.pos < this.text.length && /[\s,]/.test(this.text[this.pos]!)) this.pos++;
  }

  peek(): string | undefined {
    this.skipSpace();
    return this.text[this.pos];
  }

  symbol(): string {
    const start = this.pos;
    while (this.pos < this.text.length && SYMBOL_CHAR.test(this.text[this.pos]!)) this.pos++;
    return this.text.slice(start, this.pos);
  }

  string(): string {
    this.pos++; // opening quote
    let out = '';
    for (;;) {
      const c = this.text[this.pos++];
      if (c === undefined) this.fail('unterminated string');
      if (c === '"') return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = this.text[this.pos++];
      switch (e) {
        case '"':
        case '\\':
          out += e;
          break;
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case 'u': {
          const hex = this.text.slice(this.pos, this.pos + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('bad \\u escape');
          out += String.fromCharCode(parseInt(hex, 16));
          this.pos += 4;
          break;
        }
        default:
          this.fail(`unknown escape \\${e ?? ''}`);
      }
    }
  }

  value(): EdnValue {
    const c = this.peek();
    if (c === undefined) this.fail('unexpected end of line');
    if (c === '"') return this.string();
    if (c === ':') {
      this.pos++;
      const name = this.symbol();
      if (name === '') this.fail('empty keyword');
      return { keyword: name };
    }
    if (c === '[') {
      this.pos++;
      const items: EdnValue[] = [];
      while (this.peek() !== ']') {
        if (this.peek() === undefined) this.fail('unterminated vector');
        items.push(this.value());
      }
      this.pos++;
      return items;
    }
    if (c === '{') this.fail('nested maps are not supported');
    const start = this.pos;
    const sym = this.symbol();
    if (sym === '') this.fail(`unexpected character ${JSON.stringify(c)}`);
    if (sym === 'nil') return null;
    if (sym === 'true') return true;
    if (sym === 'false') return false;
    if (/^-?\d+$/.test(sym)) {
      const n = Number(sym);
      if (!Number.isSafeInteger(n)) {
        this.pos = start;
        this.fail(`integer ${sym} out of range`);
      }
      return n;
    }
    this.pos = start;
    return this.fail(`unsupported token ${JSON.stringify(sym)}`);
  }
}

/** Reads one EDN map whose keys are keywords; returns keyword name → value. */
export function readEdnMap(text: string): Map<string, EdnValue> {
  const r = new Reader(text);
  if (r.peek() !== '{') r.fail('expected a map starting with {');
  r.pos++;
  const map = new Map<string, EdnValue>();
  while (r.peek() !== '}') {
    if (r.peek() === undefined) r.fail('unterminated map');
    const k = r.value();
    if (k === null || typeof k !== 'object' || Array.isArray(k)) r.fail('map keys must be keywords');
    const key = (k as EdnKeyword).keyword;
    if (map.has(key)) r.fail(`duplicate key :${key}`);
    if (r.peek() === '}') r.fail(`key :${key} has no value`);
    map.set(key, r.value());
  }
  r.pos++;
  if (r.peek() !== undefined) r.fail('trailing characters after the map');
  return map;
}

/** The keyword name of `v`, or `undefined` if it is not a keyword. */
export function keywordOf(v: EdnValue | undefined): string | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as EdnKeyword).keyword : undefined;
}
