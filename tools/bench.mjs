#!/usr/bin/env node
// `pnpm bench <name> [args…]`: runs one benchmark from sources. Each benchmark prints a
// human-readable report and, as its LAST line, one JSON object (name, parameters, results).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const benches = {
  raft: 'packages/raft/bench/raft-bench.ts',
  engine: 'packages/engine/bench/engine-bench.ts',
  store: 'packages/raftstore/bench/store-bench.ts',
  pd: 'packages/pd/bench/pd-bench.ts',
  cluster: 'tools/bench/src/main.ts',
};
const [name, ...args] = process.argv.slice(2);
const entry = name && benches[name];
if (!entry) {
  console.error(`usage: pnpm bench <${Object.keys(benches).join('|')}> [args…]`);
  process.exit(2);
}
const runTs = fileURLToPath(new URL('./run-ts.mjs', import.meta.url));
const child = spawn(process.execPath, [runTs, entry, ...args], { stdio: 'inherit' });
child.on('exit', (code) => process.exit(code ?? 1));
