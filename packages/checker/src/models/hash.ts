/** Small, fast 32-bit hashes for model states (FNV-1a; Fowler, Noll, Vo). */

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a over the UTF-16 code units of `s`. */
export function hashString(s: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
  return h | 0;
}

/** A mix of an integer (any safe integer) into 32 bits. */
export function hashNumber(n: number): number {
  let h = Math.imul((n | 0) ^ Math.floor(n / 0x1_0000_0000), 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  return (h ^ (h >>> 13)) | 0;
}

/** Hash of a value that is `null` or a string. */
export function hashNullableString(s: string | null): number {
  return s === null ? 0x6e756c6c : hashString(s);
}

/** Quotes a string value for reports; `null` stays `null`. */
export function quote(v: string | number | null): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}
