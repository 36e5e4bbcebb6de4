/**
 * Child process of the crash-failpoint test (rocks/failpoints.test.ts): opens the RocksDB
 * raft-log engine in `argv[2]` with a crash failpoint (`argv[3]`: `before` or `after`, at the
 * `argv[4]`-th synced write) and appends one entry per synced batch, printing `ack <index>` after
 * each write resolves. The failpoint's SIGKILL ends it.
 *
 * Usage: node --conditions=@mrkv/source --import tsx failpoint-writer.ts <dir> before|after <n>
 */
import { DiskFailpoints } from '../rocks/failpoints.js';
import { openRocksRaftLogEngine } from '../rocks/open.js';
import { crashEntry } from './crash-entries.js';

const [dir, where, nArg] = process.argv.slice(2);
if (dir === undefined || (where !== 'before' && where !== 'after')) throw new Error('usage: failpoint-writer <dir> before|after <n>');
const n = Number(nArg ?? '1');
const failpoints = new DiskFailpoints(where === 'before' ? { crashBeforeSync: n } : { crashAfterSync: n });
const engine = await openRocksRaftLogEngine({ path: dir, failpoints });
for (let index = 1; ; index++) {
  await engine.write(engine.newBatch().append(1, [crashEntry(1, index)]).setHardState(1, { term: 1, vote: 1, commit: index }), { sync: true });
  process.stdout.write(`ack ${index}\n`);
}
