/**
 * Child process of the kill -9 crash test (crash.test.ts): opens the RocksDB raft-log engine in
 * `argv[2]` and appends forever, one entry per region per batch with `sync: true`, several
 * batches in flight (so they group-commit). After each write resolves it prints `ack <index>`:
 * from then on the index is acknowledged and must survive the kill.
 *
 * Usage: node --conditions=@mrkv/source --import tsx crash-writer.ts <dir> <regions>
 */
import { openRocksRaftLogEngine } from '../rocks/open.js';
import { crashEntry } from './crash-entries.js';

const [dir, regionsArg] = process.argv.slice(2);
if (dir === undefined) throw new Error('usage: crash-writer <dir> <regions>');
const regions = Number(regionsArg ?? '8');
const engine = await openRocksRaftLogEngine({ path: dir });
let next = (engine.state(1)?.lastIndex ?? 0) + 1;
process.stdout.write(`start ${next}\n`);
const INFLIGHT = 4;

async function writeOne(index: number): Promise<void> {
  const b = engine.newBatch();
  for (let r = 1; r <= regions; r++) {
    b.append(r, [crashEntry(r, index)]).setHardState(r, { term: 1, vote: 1, commit: index });
    if (index % 64 === 0) b.compact(r, index - 32);
  }
  await engine.write(b, { sync: true });
  process.stdout.write(`ack ${index}\n`);
}

async function lane(): Promise<never> {
  for (;;) await writeOne(next++);
}

await Promise.all(Array.from({ length: INFLIGHT }, () => lane()));
