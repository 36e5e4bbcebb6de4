#!/usr/bin/env node
/**
 * `mrkv-ctl`: the admin CLI. `pnpm ctl --pd 127.0.0.1:2379 <command>` from sources, or the
 * `mrkv-ctl` bin. See README.md for every command; exit codes in errors.ts.
 */
import { runCtl } from './commands.js';

process.exitCode = await runCtl(process.argv.slice(2));
