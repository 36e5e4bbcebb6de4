#!/usr/bin/env node
// Runs a TypeScript entry point of this repo from sources: `node tools/run-ts.mjs <file.ts> [args…]`.
// Used by the root `pnpm bench|sim|ctl|…` scripts, so they work right after `pnpm install`,
// without a build step. Production deployments run the compiled `dist/` entry points instead.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node tools/run-ts.mjs <entry.ts> [args…]');
  process.exit(2);
}
const require = createRequire(import.meta.url);
const tsxCli = join(dirname(require.resolve('tsx/package.json')), 'dist', 'cli.mjs');
const child = spawn(process.execPath, [tsxCli, '--conditions=@mrkv/source', entry, ...args], { stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
