/**
 * Durability of the raft-log engine on RocksDB against real crashes:
 * - kill -9 of a child process in the middle of synced, group-committed appends, three times
 *   over: after each, every acknowledged index is there, byte for byte;
 * - a torn tail written by the test, in both senses our layout has: records beyond the durable
 *   last index (never acknowledged) are deleted at open, and a WAL file cut in the middle of its
 *   last record reopens at the previous write;
 * - a corrupted (or missing) record in the middle of a log refuses the open with
 *   `KV:Engine:Corruption` naming the region, the index and the directory.
 */
import { spawn } from 'node:child_process';
import { readdirSync, rmSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { crashEntry } from '../__tests__/crash-entries.js';
import { tempDir } from '../contract/fixture.js';
import { EngineErrorCodes } from '../errors.js';
import { raftLogKey, raftStateKey } from '../keys.js';
import { openRocksRaftLogEngine } from '../rocks/open.js';
import { RocksKvEngine } from '../rocks/rocks-kv-engine.js';
import type { RaftEntry } from '../traits/index.js';
import type { KvRaftLogEngine } from './raft-log-engine.js';
import { encodeEntry } from './record.js';

const WRITER = fileURLToPath(new URL('../__tests__/crash-writer.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const REGIONS = 8;

/** Runs the writer until it has acknowledged at least `minAcks` indexes, then kill -9s it. */
function runAndKill(dir: string, minAcks: number, deadlineMs = 15_000): Promise<{ start: number; acked: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=@mrkv/source', '--import', 'tsx', WRITER, dir, String(REGIONS)], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let start = -1;
    let acked = 0;
    let acks = 0;
    let buf = '';
    let stderr = '';
    let killed = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`writer made ${acks} acks before the deadline; stderr: ${stderr}`));
    }, deadlineMs);
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const line of lines) {
        const [word, n] = line.split(' ');
        if (word === 'start') start = Number(n);
        if (word === 'ack' && !killed) {
          acked = Math.max(acked, Number(n));
          if (++acks >= minAcks) {
            killed = true;
            // Mid-write: more batches are in flight when the signal lands.
            child.kill('SIGKILL');
          }
        }
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL' && killed) resolve({ start, acked });
      else reject(new Error(`writer exited (code ${String(code)}, signal ${String(signal)}) before being killed; stderr: ${stderr}`));
    });
  });
}

function hex(e: RaftEntry): string {
  return Buffer.from(e.data).toString('hex');
}

describe('raft-log engine on RocksDB: crashes', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir('mrkv-crash-');
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every acknowledged append across kill -9 mid-write (three rounds)', async () => {
    let expectedStart = 1;
    for (let round = 0; round < 3; round++) {
      const { start, acked } = await runAndKill(dir, 60 + 40 * round);
      expect(start).toBe(expectedStart);
      expect(acked).toBeGreaterThanOrEqual(start);
      const engine = await openRocksRaftLogEngine({ path: dir });
      try {
        expect(engine.regionIds()).toEqual(Array.from({ length: REGIONS }, (_, i) => i + 1));
        for (let r = 1; r <= REGIONS; r++) {
          const st = engine.state(r)!;
          expect(st.lastIndex).toBeGreaterThanOrEqual(acked);
          expect(st.hardState.commit).toBe(st.lastIndex);
          const from = Math.max(st.firstIndex, start);
          const got = await engine.entries(r, from, st.lastIndex + 1);
          expect(got.map((e) => e.index)).toEqual(Array.from({ length: st.lastIndex - from + 1 }, (_, i) => from + i));
          for (const e of got) expect(hex(e)).toBe(hex(crashEntry(r, e.index)));
        }
        expectedStart = engine.state(1)!.lastIndex + 1;
      } finally {
        await engine.close();
      }
    }
  }, 60_000);

  async function seed(n: number): Promise<void> {
    const engine = await openRocksRaftLogEngine({ path: dir });
    const b = engine.newBatch();
    for (let r = 1; r <= 3; r++) b.append(r, Array.from({ length: n }, (_, i) => crashEntry(r, i + 1))).setHardState(r, { term: 1, vote: 1, commit: n });
    await engine.write(b, { sync: true });
    await engine.close();
  }

  /** Edits the raw key-value store under the raft-log engine (what a torn write or bit rot leaves). */
  async function tamper(f: (kv: RocksKvEngine) => Promise<void>): Promise<void> {
    const kv = await RocksKvEngine.openKind({ path: dir }, 'raft');
    try {
      await f(kv);
    } finally {
      await kv.close();
    }
  }

  it('repairs a torn tail: records beyond the durable last index are deleted at open', async () => {
    await seed(10);
    await tamper(async (kv) => {
      const wb = kv.newWriteBatch();
      wb.put(raftLogKey(2, 11), encodeEntry(crashEntry(2, 11))); // a whole record, never acknowledged
      wb.put(raftLogKey(2, 12), encodeEntry(crashEntry(2, 12)).subarray(0, 40)); // a cut record
      wb.put(raftLogKey(3, 11), Buffer.from('garbage'));
      await kv.write(wb, { sync: true });
    });
    const engine: KvRaftLogEngine = await openRocksRaftLogEngine({ path: dir });
    try {
      expect(engine.recovery.repaired).toBe(true);
      expect(engine.recovery.torn).toEqual([
        { regionId: 2, boundary: 10, fromIndex: 11, toIndex: 12, count: 2 },
        { regionId: 3, boundary: 10, fromIndex: 11, toIndex: 11, count: 1 },
      ]);
      expect(engine.state(2)).toMatchObject({ lastIndex: 10 });
      // The log continues at the durable end.
      await engine.write(engine.newBatch().append(2, [crashEntry(2, 11)]), { sync: true });
      expect((await engine.entries(2, 9, 12)).map((e) => e.index)).toEqual([9, 10, 11]);
    } finally {
      await engine.close();
    }
    // The repair was durable: the next open finds nothing to drop.
    const again = await openRocksRaftLogEngine({ path: dir });
    expect(again.recovery.torn).toEqual([]);
    expect(again.state(3)).toMatchObject({ lastIndex: 10 });
    await again.close();
  });

  it('reopens at the previous write when the WAL is cut in the middle of its last record', async () => {
    const engine = await openRocksRaftLogEngine({ path: dir });
    await engine.write(engine.newBatch().append(1, [crashEntry(1, 1), crashEntry(1, 2)]), { sync: true });
    const wal = walFile(dir);
    const before = statSync(wal).size;
    await engine.write(engine.newBatch().append(1, [crashEntry(1, 3)]).setHardState(1, { term: 1, vote: 1, commit: 3 }), { sync: true });
    const after = statSync(wal).size;
    expect(after).toBeGreaterThan(before);
    await engine.close();
    // The power failed while the last record was being written: only part of it reached the disk.
    truncateSync(wal, before + Math.floor((after - before) / 2));
    const reopened = await openRocksRaftLogEngine({ path: dir });
    try {
      expect(reopened.state(1)).toMatchObject({ firstIndex: 1, lastIndex: 2, hardState: { commit: 0 } });
      expect((await reopened.entries(1, 1, 3)).map(hex)).toEqual([hex(crashEntry(1, 1)), hex(crashEntry(1, 2))]);
      await reopened.write(reopened.newBatch().append(1, [crashEntry(1, 3)]), { sync: true });
      expect(reopened.state(1)).toMatchObject({ lastIndex: 3 });
    } finally {
      await reopened.close();
    }
  });

  it('refuses to open on a corrupted record in the middle of a log, naming region, index and directory', async () => {
    await seed(20);
    await tamper(async (kv) => {
      const v = Buffer.from((await kv.get(raftLogKey(2, 7)))!);
      v[40] = v[40]! ^ 0x01; // one flipped bit in the data
      await kv.write(kv.newWriteBatch().put(raftLogKey(2, 7), v), { sync: true });
    });
    const err = await openRocksRaftLogEngine({ path: dir }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: EngineErrorCodes.CORRUPTION, details: { regionId: 2, index: 7, path: dir } });
    expect((err as Error).message).toContain('region 2, index 7');
    expect((err as Error).message).toContain(dir);
    expect((err as Error).message).toContain('checksum mismatch');
    // Nothing was "repaired": the damaged record is still there, and the lock was released.
    await tamper(async (kv) => expect(await kv.get(raftLogKey(2, 7))).toBeDefined());
    // With only the tail verified the open succeeds, and reading the record fails the same way.
    const tail = await openRocksRaftLogEngine({ path: dir, verify: 'tail' });
    try {
      await expect(tail.entries(2, 5, 10)).rejects.toMatchObject({ code: EngineErrorCodes.CORRUPTION, details: { regionId: 2, index: 7 } });
      expect((await tail.entries(2, 8, 21)).length).toBe(13);
    } finally {
      await tail.close();
    }
  });

  it('refuses to open on a missing middle record or a damaged state record', async () => {
    await seed(20);
    await tamper((kv) => kv.write(kv.newWriteBatch().delete(raftLogKey(1, 12)), { sync: true }));
    for (const verify of ['full', 'tail'] as const) {
      const err = await openRocksRaftLogEngine({ path: dir, verify }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: EngineErrorCodes.CORRUPTION, details: { regionId: 1, index: 12 } });
      expect((err as Error).message).toContain('entry is missing');
    }
    await tamper(async (kv) => {
      await kv.write(kv.newWriteBatch().put(raftLogKey(1, 12), encodeEntry(crashEntry(1, 12))), { sync: true });
      const st = Buffer.from((await kv.get(raftStateKey(3)))!);
      st[20] = st[20]! ^ 0x80;
      await kv.write(kv.newWriteBatch().put(raftStateKey(3), st), { sync: true });
    });
    const err = await openRocksRaftLogEngine({ path: dir }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: EngineErrorCodes.CORRUPTION, details: { regionId: 3 } });
    expect((err as Error).message).toContain('raft state record is unreadable');
  });

  it('refuses a record stored under the wrong index (a misplaced write)', async () => {
    await seed(5);
    await tamper((kv) => kv.write(kv.newWriteBatch().put(raftLogKey(1, 3), encodeEntry(crashEntry(1, 4))), { sync: true }));
    const err = await openRocksRaftLogEngine({ path: dir }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: EngineErrorCodes.CORRUPTION, details: { regionId: 1, index: 3 } });
    expect((err as Error).message).toContain('stored under index 3');
  });
});

/** The RocksDB write-ahead log file of an engine directory (the newest `*.log`). */
function walFile(dir: string): string {
  const db = join(dir, 'db');
  const logs = readdirSync(db)
    .filter((n) => n.endsWith('.log'))
    .sort();
  if (logs.length === 0) throw new Error(`no WAL file in ${db}`);
  return join(db, logs[logs.length - 1]!);
}
