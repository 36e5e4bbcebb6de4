import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadConfig } from './config.js';
import { CommonCodes, MrkvError } from './errors.js';

const schema = z.object({
  addr: z.string().default('127.0.0.1:20160'),
  raftstore: z
    .object({
      electionTicks: z.number().int().positive().default(10),
      heartbeatTicks: z.number().int().positive().default(2),
    })
    .default({ electionTicks: 10, heartbeatTicks: 2 }),
});

describe('loadConfig', () => {
  it('applies defaults, then the file, then flags', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mrkv-config-'));
    const file = join(dir, 'store.toml');
    writeFileSync(file, 'addr = "0.0.0.0:1"\n[raftstore]\nelection-ticks = 20\n');
    const cfg = loadConfig(schema, { file, flags: { 'raftstore.heartbeat-ticks': '3' } });
    expect(cfg).toEqual({ addr: '0.0.0.0:1', raftstore: { electionTicks: 20, heartbeatTicks: 3 } });
    expect(loadConfig(schema)).toEqual({ addr: '127.0.0.1:20160', raftstore: { electionTicks: 10, heartbeatTicks: 2 } });
  });

  it('names the bad field in the error', () => {
    try {
      loadConfig(schema, { flags: { 'raftstore.election-ticks': '-5' } });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(MrkvError);
      expect((e as MrkvError).code).toBe(CommonCodes.INVALID_CONFIG);
      expect((e as MrkvError).message).toMatch(/raftstore\.election-ticks/);
    }
  });

  it('reports an unreadable or malformed file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mrkv-config-'));
    const file = join(dir, 'bad.toml');
    writeFileSync(file, 'addr = = 1');
    expect(() => loadConfig(schema, { file })).toThrow(/cannot parse config file/);
    expect(() => loadConfig(schema, { file: join(dir, 'missing.toml') })).toThrow(/cannot read config file/);
  });
});
