#!/usr/bin/env node
/**
 * Entry point of `mrkv-check-history` / `pnpm check-history <file…>`; see `cli-program.ts`.
 */
import { runCli } from './cli-program.js';

const code = await runCli(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
});
process.exitCode = code;
