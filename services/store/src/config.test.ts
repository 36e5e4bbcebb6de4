/**
 * Config and flags: defaults, file < flags precedence, sizes and labels, cross-field rules, and a
 * bad field named by its kebab-case key, whether it came from the file or a flag.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { isMrkvError } from '@mrkv/common';
import { parseStoreArgs, STORE_FLAGS } from './cli.js';
import { defaultStoreConfig, loadStoreConfig, raftstoreConfigOf, storeConfigToFileForm } from './config.js';

function tempFile(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'mrkv-store-config-'));
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

function failure(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isMrkvError(e)) {
      expect(e.code).toBe('KV:Common:InvalidConfig');
      return e.message;
    }
    throw e;
  }
  throw new Error('expected a config error');
}

describe('store config', () => {
  it('has TiKV-like defaults', () => {
    const c = defaultStoreConfig();
    expect(c.server.addr).toBe('127.0.0.1:20160');
    expect(c.server.statusAddr).toBe('127.0.0.1:20180');
    expect(c.pd.endpoints).toEqual(['127.0.0.1:2379']);
    expect(c.limits).toEqual({
      maxKeySize: 8192,
      maxValueSize: 8 * 1024 * 1024,
      maxBatchKeys: 10_000,
      maxBatchBytes: 16 * 1024 * 1024,
      maxScanLimit: 100_000,
      raftEntryMaxSize: 8 * 1024 * 1024,
    });
    expect(c.transport.maxBatchMessages).toBe(256);
    expect(c.transport.maxBatchBytes).toBe(10 * 1024 * 1024);
    expect(raftstoreConfigOf(c).raftEntryMaxSize).toBe(c.limits.raftEntryMaxSize);
    expect(raftstoreConfigOf(c).raftBaseTickMs).toBe(1000);
  });

  it('layers defaults < file < flags, with sizes and labels in their readable forms', () => {
    const file = tempFile(
      'store.toml',
      [
        '[server]',
        'addr = "127.0.0.1:30160"',
        'labels = "zone=z1,host=h-1"',
        '[limits]',
        'max-key-size = "4KiB"',
        '[raftstore]',
        'raft-base-tick-ms = 100',
        'max-leader-lease-ms = 800',
        '[pd]',
        'endpoints = ["10.0.0.1:2379", "10.0.0.2:2379"]',
      ].join('\n'),
    );
    const c = loadStoreConfig({ file, flags: { 'server.addr': '127.0.0.1:40160', 'limits.max-value-size': '1MiB' } });
    expect(c.server.addr).toBe('127.0.0.1:40160');
    expect(c.server.labels).toEqual({ zone: 'z1', host: 'h-1' });
    expect(c.limits.maxKeySize).toBe(4096);
    expect(c.limits.maxValueSize).toBe(1024 * 1024);
    expect(c.raftstore.raftBaseTickMs).toBe(100);
    expect(c.pd.endpoints).toEqual(['10.0.0.1:2379', '10.0.0.2:2379']);
  });

  it('names a bad field from a flag, from a file, and an unknown key', () => {
    expect(failure(() => loadStoreConfig({ flags: { 'limits.max-key-size': '-3' } }))).toMatch(/limits\.max-key-size/);
    expect(failure(() => loadStoreConfig({ flags: { 'server.addr': 'nowhere' } }))).toMatch(/server\.addr: expected host:port/);
    expect(failure(() => loadStoreConfig({ flags: { 'limits.max-value-size': '12 parsecs' } }))).toMatch(/limits\.max-value-size: expected a size/);
    const file = tempFile('bad.toml', '[transport]\nqueue-max-messages = "many"\n');
    expect(failure(() => loadStoreConfig({ file }))).toMatch(/transport\.queue-max-messages/);
    const typo = tempFile('typo.toml', '[server]\nadress = "127.0.0.1:1"\n');
    expect(failure(() => loadStoreConfig({ file: typo }))).toMatch(/server.*adress/);
    expect(failure(() => loadStoreConfig({ flags: { 'server.labels': 'zone' } }))).toMatch(/server\.labels: expected key=value/);
    expect(failure(() => loadStoreConfig({ flags: { 'pd.endpoints': '' } }))).toMatch(/pd\.endpoints/);
  });

  it('prints a file form (kebab-case JSON) that loads back to the same config', () => {
    const c = loadStoreConfig({ flags: { 'server.labels': 'zone=z1,host=h1', 'transport.queue-max-messages': 99 } });
    const form = storeConfigToFileForm(c);
    expect(form.server).toMatchObject({ 'max-inflight-requests': 8192, labels: 'zone=z1,host=h1' });
    expect(form.raftstore).toHaveProperty('raft-base-tick-ms', 1000);
    const file = tempFile('printed.json', JSON.stringify(form));
    expect(loadStoreConfig({ file })).toEqual(c);
  });

  it('storage.reserve-space / almost-full-space: sizes (0 disables), absent = the raftstore default, handed to the raftstore', () => {
    const d = defaultStoreConfig();
    expect(d.storage.reserveSpace).toBeUndefined();
    expect(raftstoreConfigOf(d)).not.toHaveProperty('diskReserveSpace');
    const c = loadStoreConfig({ file: tempFile('s.toml', '[storage]\nreserve-space = "2GiB"\nalmost-full-space = "512MiB"\n') });
    expect(raftstoreConfigOf(c)).toMatchObject({ diskReserveSpace: 2 * 1024 ** 3, diskAlmostFullSpace: 512 * 1024 ** 2 });
    expect(raftstoreConfigOf(loadStoreConfig({ flags: { 'storage.reserve-space': 0 } })).diskReserveSpace).toBe(0);
    expect(failure(() => loadStoreConfig({ flags: { 'storage.reserve-space': '-1GiB' } }))).toMatch(/storage\.reserve-space/);
    expect(failure(() => loadStoreConfig({ flags: { 'raftstore.disk-reserve-space': 5 } }))).toMatch(/raftstore: Unrecognized key.*disk/);
  });

  it('applies cross-field rules, naming the fields', () => {
    expect(failure(() => loadStoreConfig({ flags: { 'server.grpc-max-message-size': '8MiB' } }))).toMatch(/server\.grpc-max-message-size/);
    expect(failure(() => loadStoreConfig({ flags: { 'limits.max-value-size': '16MiB' } }))).toMatch(/limits\.max-value-size/);
    expect(failure(() => loadStoreConfig({ flags: { 'server.addr': '0.0.0.0:20160' } }))).toMatch(/server\.advertise-addr: must be set/);
    expect(loadStoreConfig({ flags: { 'server.addr': '0.0.0.0:20160', 'server.advertise-addr': '10.1.1.1:20160' } }).server.advertiseAddr).toBe('10.1.1.1:20160');
    // The raftstore's own rule: lease ≤ election timeout − 1 tick.
    expect(failure(() => loadStoreConfig({ flags: { 'raftstore.max-leader-lease-ms': 20_000 } }))).toMatch(/raftstore\.max-leader-lease-ms/);
  });
});

describe('mrkv-store flags', () => {
  it('map onto config keys, above the config file', () => {
    const file = tempFile('s.toml', '[storage]\ndata-dir = "/from/file"\n[log]\nlevel = "debug"\n');
    const args = parseStoreArgs([
      '--config',
      file,
      '--addr',
      '127.0.0.1:1234',
      '--pd',
      'h1:2379,h2:2379',
      '--data-dir',
      '/from/flag',
      '--labels',
      'zone=z2',
      '--max-key-size',
      '1KiB',
      '--raft-pool-size',
      '2',
      '--set',
      'transport.queue-max-messages=77',
      '--set',
      'server.max-inflight-per-stream=9',
    ]);
    expect(args.configFile).toBe(file);
    expect(args.config.server.addr).toBe('127.0.0.1:1234');
    expect(args.config.pd.endpoints).toEqual(['h1:2379', 'h2:2379']);
    expect(args.config.storage.dataDir).toBe('/from/flag');
    expect(args.config.log.level).toBe('debug');
    expect(args.config.server.labels).toEqual({ zone: 'z2' });
    expect(args.config.limits.maxKeySize).toBe(1024);
    expect(args.config.raftstore.raftPoolSize).toBe(2);
    expect(args.config.transport.queueMaxMessages).toBe(77);
    expect(args.config.server.maxInflightPerStream).toBe(9);
  });

  it('documents every flag in --help', () => {
    let help = '';
    try {
      parseStoreArgs(['--help'], { writeOut: (s) => (help += s), writeErr: (s) => (help += s) });
      expect.unreachable();
    } catch (e) {
      expect((e as CommanderError).code).toBe('commander.helpDisplayed');
    }
    for (const f of STORE_FLAGS) {
      expect(help).toContain(f.flag.split(' ')[0]);
      expect(help).toContain(`[${f.key}]`);
    }
    for (const flag of ['--config', '--set', '--print-config', '--status-addr', '--advertise-addr', '--log-level', '--log-file']) expect(help).toContain(flag);
  });

  it('rejects unknown flags and bad values with clear errors', () => {
    const sink = { writeOut: () => {}, writeErr: () => {} };
    expect(() => parseStoreArgs(['--no-such-flag'], sink)).toThrow(CommanderError);
    expect(() => parseStoreArgs(['--set', 'novalue'], sink)).toThrow(/--set expects key=value/);
    expect(failure(() => parseStoreArgs(['--raft-pool-size', 'two'], sink))).toMatch(/raftstore\.raft-pool-size/);
    expect(failure(() => parseStoreArgs(['--log-level', 'chatty'], sink))).toMatch(/log\.level/);
    expect(failure(() => parseStoreArgs(['--raftstore-thread', 'both'], sink))).toMatch(/raftstore\.thread/);
  });

  it('chooses where the raftstore runs (raftstore.thread), which the raftstore config does not carry', () => {
    const sink = { writeOut: () => {}, writeErr: () => {} };
    expect(defaultStoreConfig().raftstore.thread).toBe('main');
    const c = parseStoreArgs(['--raftstore-thread', 'worker'], sink).config;
    expect(c.raftstore.thread).toBe('worker');
    expect(raftstoreConfigOf(c)).not.toHaveProperty('thread');
    expect(loadStoreConfig({ file: tempFile('s.toml', '[raftstore]\nthread = "worker"\n') }).raftstore.thread).toBe('worker');
  });
});
