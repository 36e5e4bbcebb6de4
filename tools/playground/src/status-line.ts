/** The playground's live one-line status. */
import type { PlaygroundStatus } from './playground.js';

/** `PD up · stores 3/3 ready · regions 4, 4 with leader`. */
export function formatStatus(s: PlaygroundStatus): string {
  const ready = s.stores.filter((x) => x.ready).length;
  const down = s.stores.filter((x) => !x.running).map((x) => x.name);
  const regions = s.regions === undefined ? 'regions ?' : `regions ${s.regions}, ${s.leaders ?? 0} with leader`;
  return [`PD ${s.pdUp ? 'up' : 'DOWN'}`, `stores ${ready}/${s.stores.length} ready${down.length ? ` (down: ${down.join(', ')})` : ''}`, regions].join(' · ');
}
