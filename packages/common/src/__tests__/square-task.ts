// A piscina task file in TypeScript (loaded through tsx's CommonJS hook from sources).
import { readU64BE, encodeU64BE } from '@mrkv/common';

export default function square(n: number): number {
  return readU64BE(encodeU64BE(n * n), 0);
}
