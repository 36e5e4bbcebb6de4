import { describe, expect, it } from 'vitest';
import { store } from '../__tests__/fixtures.js';
import { DEFAULT_SCHEDULE_CONFIG } from '../config.js';
import { acceptsNewPeers, needsReplacement, storeStatus, type StoreInfo } from './store-info.js';

describe('storeStatus', () => {
  const cfg = { ...DEFAULT_SCHEDULE_CONFIG, storeDisconnectMs: 20_000, maxStoreDownMs: 60_000 };
  const at = (state: 'Up' | 'Offline' | 'Tombstone', last: number): StoreInfo => ({ meta: store(1, state), stats: undefined, lastHeartbeatMs: last });

  it('goes Up → Disconnected → Down with heartbeat silence', () => {
    expect(storeStatus(at('Up', 0), 20_000, cfg)).toBe('Up');
    expect(storeStatus(at('Up', 0), 20_001, cfg)).toBe('Disconnected');
    expect(storeStatus(at('Up', 0), 60_001, cfg)).toBe('Down');
    expect(storeStatus(at('Up', 60_000), 60_001, cfg)).toBe('Up');
  });

  it('keeps Offline and Tombstone whatever the heartbeats say', () => {
    expect(storeStatus(at('Offline', 0), 1, cfg)).toBe('Offline');
    expect(storeStatus(at('Offline', 0), 999_999, cfg)).toBe('Offline');
    expect(storeStatus(at('Tombstone', 0), 1, cfg)).toBe('Tombstone');
  });

  it('says where peers may go and which must move', () => {
    expect(acceptsNewPeers('Up')).toBe(true);
    for (const s of ['Disconnected', 'Down', 'Offline', 'Tombstone'] as const) expect(acceptsNewPeers(s)).toBe(false);
    expect(needsReplacement('Disconnected')).toBe(false);
    for (const s of ['Down', 'Offline', 'Tombstone'] as const) expect(needsReplacement(s)).toBe(true);
  });
});
