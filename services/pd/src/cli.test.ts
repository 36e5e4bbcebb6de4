import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { parsePdArgs } from './cli.js';
import { scheduleOverrides } from './config.js';

const quiet = { writeOut: () => undefined, writeErr: () => undefined };

describe('mrkv-pd flags and config', () => {
  it('maps flags onto config keys, with --status-port as a shortcut', () => {
    const a = parsePdArgs(['--name', 'pd7', '--data-dir', '/tmp/x', '--client-urls', 'http://127.0.0.1:2399', '--status-port', '2400'], quiet);
    expect(a.config).toMatchObject({ name: 'pd7', dataDir: '/tmp/x', clientUrls: '127.0.0.1:2399', statusAddr: '127.0.0.1:2400' });
    expect(a.printConfig).toBe(false);
  });

  it('validates schedule overrides with the config-set rules', () => {
    const a = parsePdArgs(['--schedule', 'max-store-down-time=5s', '--schedule', 'max-replicas=5'], quiet);
    expect(scheduleOverrides(a.config)).toEqual({ maxStoreDownMs: 5000, maxReplicas: 5 });
    expect(() => parsePdArgs(['--schedule', 'max-replicas=lots'], quiet)).toThrow(/schedule\.max-replicas: invalid value "lots"/);
    expect(() => parsePdArgs(['--schedule', 'no-such=1'], quiet)).toThrow(/unknown config key/);
    expect(() => parsePdArgs(['--schedule', 'oops'], quiet)).toThrow(CommanderError);
  });

  it('names the bad key for bad values and refuses unknown flags', () => {
    expect(() => parsePdArgs(['--client-urls', 'nowhere'], quiet)).toThrow(/client-urls: expected host:port/);
    expect(() => parsePdArgs(['--tick-interval-ms', '1'], quiet)).toThrow(/tick-interval-ms/);
    expect(() => parsePdArgs(['--set', 'bogus-key=1'], quiet)).toThrow(/bogus/i);
    expect(() => parsePdArgs(['--status-port', 'x'], quiet)).toThrow(CommanderError);
    expect(() => parsePdArgs(['--frobnicate'], quiet)).toThrow(CommanderError);
  });
});
