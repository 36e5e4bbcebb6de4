/**
 * Waiting on conditions in cross-process tests: poll with a deadline, never sleep a fixed time.
 */

/**
 * Polls `probe` until it returns a value other than undefined and resolves with it. A probe that
 * throws counts as "not yet" (a process is restarting, a region has no leader); past the deadline
 * the wait fails naming `what` and the last thing the probe said (its error, or `describe()`).
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  opts: { timeoutMs?: number; intervalMs?: number; describe?: () => string | Promise<string> } = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
      last = undefined;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
  const why = last instanceof Error ? ` (last error: ${last.message})` : opts.describe ? ` (last state: ${await Promise.resolve(opts.describe()).catch((e: unknown) => String(e))})` : '';
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
}
