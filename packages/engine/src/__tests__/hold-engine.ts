/**
 * Child process of the data-dir tests: opens a RocksDB kv engine in `argv[2]`, prints `open`,
 * and holds it until killed.
 */
import { openRocksKvEngine } from '../rocks/open.js';

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: hold-engine <dir>');
await openRocksKvEngine({ path: dir });
process.stdout.write('open\n');
setInterval(() => undefined, 60_000);
