/**
 * Scattering the pre-split regions (step 5 of start-up): a fresh split leaves every new region on
 * the stores of the region it came from, with its leader on the same store, so with `--regions K`
 * the playground asks PD to scatter them (mrkv.pdadmin ScatterRegions over the whole key space,
 * group `playground`): peers and leaders spread evenly over the stores before the cluster is
 * declared ready.
 *
 * Right after the split PD's own checkers and schedulers are still at work on the new regions
 * (the replica checker completing replicas, balance schedulers moving peers and leaders), and a
 * scatter never replaces their operators, so regions skipped for a passing reason (see
 * {@link RETRYABLE_SKIPS}) are asked for again until they are placed; then start-up waits for
 * the scatter operators to end, so a benchmark or a test does not start in the middle of the
 * moves. Both waits share `settleMs` and neither fails the start: what did not happen is in the
 * report.
 */
import type { Logger } from '@mrkv/common';
import type { ClusterView } from './cluster-view.js';

/** The scatter group the playground uses. */
export const PLAYGROUND_SCATTER_GROUP = 'playground';

/** Skip codes worth asking again for (they clear on their own within heartbeats). */
export const RETRYABLE_SKIPS: readonly string[] = ['no-leader', 'pending-peer', 'down-peer', 'learner', 'replica-count', 'has-operator', 'limit'];

/** What the scatter of the pre-split regions did. */
export interface ScatterReport {
  /** Regions PD was asked to scatter. */
  readonly regions: number;
  /** Scatter operators PD added. */
  readonly operators: number;
  /** Regions already where the scatter puts them. */
  readonly inPlace: number;
  /** Regions left alone for another reason, with PD's reason. */
  readonly skipped: ReadonlyArray<{ readonly regionId: string; readonly code: string; readonly reason: string }>;
  /** True if every scatter operator had ended when start-up went on. */
  readonly finished: boolean;
}

export interface ScatterOptions {
  /** How long to wait for the scatter operators to end. */
  readonly settleMs: number;
  /** Waits a little between polls; throws if start-up must stop (a child died, cancelled). */
  readonly pause: () => Promise<void>;
  readonly logger: Logger;
}

/** Scatters every region and waits for the operators (module comment). */
export async function scatterPresplit(view: ClusterView, opts: ScatterOptions): Promise<ScatterReport> {
  const added: string[] = [];
  const skipped: Array<{ regionId: string; code: string; reason: string }> = [];
  let regions = 0;
  let inPlace = 0;
  const until = Date.now() + opts.settleMs;
  let ids: string[] = []; // none: every region
  for (let round = 0; ; round++) {
    const res = await view.scatter(ids, PLAYGROUND_SCATTER_GROUP);
    if (round === 0) regions = res.operators.length + res.skipped.length;
    added.push(...res.operators.map((o) => String(o.id)));
    const last = Date.now() > until;
    const again: string[] = [];
    for (const s of res.skipped) {
      const skip = { regionId: String(s.regionId), code: s.code, reason: s.reason };
      if (s.code === 'in-place') inPlace++;
      else if (RETRYABLE_SKIPS.includes(s.code) && !last) again.push(skip.regionId);
      else skipped.push(skip);
    }
    if (again.length === 0) break;
    ids = again;
    await opts.pause();
  }
  opts.logger.info({ regions, operators: added.length, inPlace, skipped: skipped.length }, `scattering ${regions} regions: ${added.length} operator(s), ${inPlace} already in place, ${skipped.length} skipped`);
  let finished = false;
  for (;;) {
    const running = await view.runningOperatorIds();
    if (!added.some((id) => running.has(id))) {
      finished = true;
      break;
    }
    if (Date.now() > until) break;
    await opts.pause();
  }
  opts.logger.info({ finished }, finished ? 'scatter operators finished' : `scatter operators still running after ${opts.settleMs} ms; going on`);
  return { regions, operators: added.length, inPlace, skipped, finished };
}

/** One line for people: "scatter: 12 operator(s) finished, 4 region(s) already in place". */
export function formatScatterReport(r: ScatterReport): string {
  const parts = [`${r.operators} operator(s) ${r.finished ? 'finished' : 'still running'}`, `${r.inPlace} region(s) already in place`];
  if (r.skipped.length > 0) parts.push(`${r.skipped.length} skipped (${[...new Set(r.skipped.map((s) => s.code))].join(', ')})`);
  return `scatter of ${r.regions} regions: ${parts.join(', ')}`;
}
