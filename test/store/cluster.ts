/**
 * Helpers of the cross-process store tests. The cluster itself (one `mrkv-pd`, N `mrkv-store`
 * processes) is `E2eCluster` in test/harness/cluster.ts; the store tests start it with
 * `pdTimings: 'default'`, so that PD schedules at its own pace behind a failover test.
 */
import { ClientErrorCodes, isClientError } from '@mrkv/client';
import { RegionErrorCodes } from '@mrkv/proto';
import { E2E_STORE_ARGS } from '../harness/cluster.js';
import { waitFor as waitWithOptions } from '../harness/wait.js';

/** Store flags used by every cluster test (fast raft ticks, frequent PD heartbeats): {@link E2E_STORE_ARGS}. */
export const FAST_STORE_ARGS: readonly string[] = E2E_STORE_ARGS;

/**
 * Polls `probe` until it returns a value other than undefined; throws `what` past the deadline.
 * The positional form of test/harness/wait.ts's `waitFor` (30 s by default), kept for the chaos
 * and bad-input tests.
 */
export function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000, intervalMs = 100): Promise<T> {
  return waitWithOptions(what, probe, { timeoutMs, intervalMs });
}

/**
 * Runs an idempotent call (a read, a put, a range delete) again when its outcome was
 * undetermined. The raftstore answers UndeterminedResult when a proposal or a ReadIndex is not
 * done within twice the election timeout (2 s with these test ticks); on a loaded box the first
 * requests to freshly split regions can take that long (the followers' new peers exist only once
 * they applied the split). The SDK does not retry it, since a write may have been applied; these
 * calls can simply be repeated. At most 5 attempts, so a region that stays stuck still fails.
 */
export async function idempotent<T>(write: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (e) {
      const undetermined = isClientError(e, ClientErrorCodes.REGION_ERROR) && (e.details as { regionError?: string }).regionError === RegionErrorCodes.UNDETERMINED_RESULT;
      if (!undetermined || attempt >= 5) throw e;
    }
  }
}
