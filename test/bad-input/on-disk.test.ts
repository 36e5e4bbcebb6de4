/**
 * Damaged data directories, against a real store process: the store is stopped, its files are
 * damaged the way a crash, a bad disk or an operator can damage them, and it is started again.
 * The outcome is the documented one (packages/engine/README.md "Records and the durability
 * contract", services/store/README.md "Data directory"):
 *
 * | damage | outcome |
 * | --- | --- |
 * | torn raft-log tail (a record past the durable last index) | repaired at open (dropped, logged); serves, nothing acknowledged lost |
 * | leftover `*.tmp` files of interrupted atomic writes | removed at open; serves |
 * | a corrupt record in the middle of a raft log | refuses to start: exit 1, `KV:Engine:Corruption` naming the region and index |
 * | a corrupt region state record | refuses to start with a typed error, no silent reset |
 * | a data directory of another cluster | refuses to start: exit 1, `KV:Server:StoreIdentMismatch` |
 *
 * After each refusal the damage is undone (the directory restored from a copy) and the store
 * serves every acknowledged write again: a refusal never repaired anything behind the operator's
 * back.
 */
import { cpSync, existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RocksKvEngine, raftLogRange, regionStateKey, type EngineKind } from '@mrkv/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PdProcess } from '../pd/pd-process.js';
import { tempDir } from '../harness/ports.js';
import type { StoreProcess } from '../harness/store.js';
import { Target } from './target.js';

let t: Target;
let regionId: number;
const backup = tempDir('mrkv-bad-disk-backup-');

/** Opens one engine of the (stopped) store's data directory, runs `fn`, closes it. */
async function withEngine<T>(kind: EngineKind, fn: (e: RocksKvEngine) => Promise<T>): Promise<T> {
  const path = kind === 'raft' ? join(t.store.dataDir, 'raft', '0') : join(t.store.dataDir, 'kv');
  const e = await RocksKvEngine.openKind({ path }, kind);
  try {
    return await fn(e);
  } finally {
    await e.close();
  }
}

/** The raft log records of the region, in index order. */
async function logRecords(): Promise<Array<{ key: Uint8Array; value: Uint8Array }>> {
  return withEngine('raft', async (e) => {
    const { start, end } = raftLogRange(regionId);
    return e.scan({ start, end });
  });
}

/** Stops the store (SIGTERM), waiting for the exit. */
async function stopStore(): Promise<void> {
  const exit = await t.store.stop();
  expect(exit.code, `store stop:\n${t.store.tail()}`).toBe(0);
}

/** Starts the store again and waits for /ready. */
async function startStore(): Promise<StoreProcess> {
  const s = await t.respawn();
  await s.waitReady(60_000);
  return s;
}

/** Starts the store and expects it to refuse: exit code 1 with `code` in its output. */
async function expectRefusal(code: string, pd?: readonly string[]): Promise<string> {
  const s = await t.respawn(pd);
  const exit = await Promise.race([s.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 60_000))]);
  if (exit === undefined) {
    await s.kill();
    throw new Error(`the store did not refuse to start within 60 s:\n${s.tail()}`);
  }
  expect(exit.code, `exit of a refused start:\n${s.tail()}`).toBe(1);
  const text = s.lines.join('\n');
  expect(text, `the refusal names ${code}:\n${s.tail()}`).toContain(code);
  return text;
}

function saveDir(): void {
  rmSync(backup.path, { recursive: true, force: true });
  cpSync(t.store.dataDir, backup.path, { recursive: true });
}

function restoreDir(): void {
  rmSync(t.store.dataDir, { recursive: true, force: true });
  cpSync(backup.path, t.store.dataDir, { recursive: true });
}

beforeAll(async () => {
  t = await Target.start();
  await t.seed('disk', 30);
  // Separate writes, so the raft log holds several records.
  for (let i = 0; i < 8; i++) {
    await t.client.put(`disk/single/${i}`, `s${i}`);
    t.seeded.set(`disk/single/${i}`, `s${i}`);
  }
  regionId = Number((await t.region('disk/')).region.id);
  await stopStore();
}, 120_000);
afterAll(async () => {
  await t?.stop();
  backup.cleanup();
});

describe('damaged data directories', () => {
  it('a torn raft-log tail and leftover temp files are repaired at start; nothing acknowledged is lost', async () => {
    const records = await logRecords();
    expect(records.length, 'raft log records to work with').toBeGreaterThan(1);
    const last = records[records.length - 1]!;
    const tornKey = Buffer.from(last.key);
    tornKey.writeUInt32BE(tornKey.readUInt32BE(tornKey.length - 4) + 1, tornKey.length - 4); // index + 1
    await withEngine('raft', async (e) => e.write(e.newWriteBatch().put(tornKey, Buffer.from(last.value).subarray(0, Math.floor(last.value.length / 2))), { sync: true }));
    const temps = [join(t.store.dataDir, 'kv', 'FORMAT.4242.tmp'), join(t.store.dataDir, 'raft', '0', 'FORMAT.4242.tmp')];
    for (const f of temps) writeFileSync(f, 'half-written');

    await startStore();
    await t.store.waitForLog((l) => typeof l.msg === 'string' && /torn/.test(l.msg), 10_000);
    for (const f of temps) expect(existsSync(f), `${f} left behind`).toBe(false);
    await t.expectAlive('a torn raft-log tail and leftover temp files');
    await stopStore();
    const after = await logRecords();
    expect(after.some((r) => Buffer.compare(Buffer.from(r.key), tornKey) === 0 && Buffer.compare(Buffer.from(r.value), Buffer.from(last.value).subarray(0, Math.floor(last.value.length / 2))) === 0), 'the torn record survived').toBe(false);
  }, 90_000);

  it('a corrupt record in the middle of the raft log refuses the start, naming region and index', async () => {
    saveDir();
    const records = await logRecords();
    expect(records.length).toBeGreaterThan(2);
    const victim = records[Math.floor(records.length / 2)]!;
    const damaged = Buffer.from(victim.value);
    damaged[damaged.length - 1]! ^= 0xff; // a bit flip in the payload: the CRC no longer matches
    await withEngine('raft', async (e) => e.write(e.newWriteBatch().put(victim.key, damaged), { sync: true }));
    const out = await expectRefusal('KV:Engine:Corruption');
    const index = Buffer.from(victim.key).readUInt32BE(victim.key.length - 4);
    expect(out, 'the refusal names the index').toContain(String(index));
    restoreDir();
    await startStore();
    await t.expectAlive('a corrupt raft-log record (restored)');
    await stopStore();
  }, 120_000);

  it('a corrupt region state refuses the start with a typed error', async () => {
    saveDir();
    await withEngine('kv', async (e) => e.write(e.newWriteBatch().put(regionStateKey(regionId), Buffer.from([0x0a, 0xff, 0x13, 0x37])), { sync: true }));
    const s = await t.respawn();
    const exit = await Promise.race([s.exited, s.waitReady(60_000).then(() => 'ready' as const)]);
    if (exit === 'ready') {
      // Serving on a region state it cannot read would be a silent reset; see README "Findings".
      await s.kill();
      throw new Error(`the store started on a corrupt region state:\n${s.tail()}`);
    }
    expect(exit.code, s.tail()).toBe(1);
    const code = /KV:[A-Za-z]+:[A-Za-z]+/.exec(s.lines.join('\n'));
    expect(code, `a typed error:\n${s.tail()}`).not.toBeNull();
    console.log(`[bad-input] corrupt region state: the store refused to start with ${code![0]}`);
    restoreDir();
    await startStore();
    await t.expectAlive('a corrupt region state (restored)');
    await stopStore();
  }, 120_000);

  it("another cluster's PD: the store refuses to join it with its data", async () => {
    const other = await PdProcess.start();
    try {
      await expectRefusal('KV:Server:StoreIdentMismatch', [other.addr]);
    } finally {
      await other.kill();
      other.cleanup();
    }
    // Untouched: it still starts in its own cluster with everything it had.
    await startStore();
    await t.expectAlive("a start against another cluster's PD");
    expect(readdirSync(t.store.dataDir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  }, 120_000);
});
