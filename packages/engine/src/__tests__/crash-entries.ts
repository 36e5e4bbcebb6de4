/** The deterministic entries the crash writer appends, so the test can check every byte. */
import type { RaftEntry } from '../traits/index.js';

/** The entry at `index` of region `regionId`: 64..319 bytes derived from both. */
export function crashEntry(regionId: number, index: number): RaftEntry {
  const data = Buffer.alloc(64 + ((index * 37 + regionId) % 256));
  for (let i = 0; i < data.length; i++) data[i] = (index * 131 + regionId * 7 + i) & 0xff;
  return { index, term: 1, entryType: 0, data };
}
