/**
 * The store's version, read once from this package's package.json (which sits one level above
 * both `src/` and `dist/`). Registered with PD (`Store.version`) and shown on /status.
 */
import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function storeVersion(): string {
  if (cached === undefined) {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    cached = typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  }
  return cached;
}
