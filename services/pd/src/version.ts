/** The PD version, read once from this package's package.json (one level above src/ and dist/). */
import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function pdVersion(): string {
  if (cached === undefined) {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    cached = typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  }
  return cached;
}
