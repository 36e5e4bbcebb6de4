#!/usr/bin/env node
/**
 * `mrkv-pd`: the placement driver process. Flags: `mrkv-pd --help` and the README.
 *
 * From sources: `pnpm dev:pd --name pd1 --data-dir ./data/pd --client-urls 127.0.0.1:2379
 * --status-port 2380`; compiled: `pnpm start:pd …` (or the `mrkv-pd` bin).
 */
import { pdMain } from './main-flow.js';

await pdMain(process.argv.slice(2));
