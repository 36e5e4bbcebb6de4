/**
 * One chaos scenario on a shared cluster: start the workload, let it reach a steady state, inject
 * the fault (the scenario's body), wait for writes to be acknowledged again, stop the workload,
 * wait for the cluster to be whole, then judge: every acknowledged append is readable, the
 * recorded history is linearizable, and the time to recover is printed.
 *
 * Profiles: quick (default, a few seconds of fault per scenario) and long (`MRKV_CHAOS_LONG=1`:
 * longer fault windows, more clients, several rounds). `MRKV_CHAOS_HISTORY_DIR=<dir>` keeps every
 * history as `<dir>/<scenario>.jsonl` (for `pnpm check-history`); a failed check always writes it
 * to the OS temp dir and names the file.
 */
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeCheck, Workload } from './workload.js';
import type { ChaosCluster } from './chaos-cluster.js';

/** True for the long profile. */
export const LONG = process.env.MRKV_CHAOS_LONG === '1';

/** Profile-dependent durations and sizes. */
export const PROFILE = LONG
  ? { faultMs: 15_000, pauseMs: 12_000, rounds: 3, clients: 8, warmAcks: 200, settleAcks: 200 }
  : { faultMs: 2_500, pauseMs: 3_500, rounds: 1, clients: 4, warmAcks: 30, settleAcks: 30 };

/** What the body reports: when the fault began and when it was healed (ms, `performance.now()`). */
export interface FaultTimes {
  readonly faultAt: number;
  readonly healAt: number;
}

/** What a scenario measured, printed and returned for assertions. */
export interface ScenarioReport {
  readonly name: string;
  readonly ops: number;
  readonly ok: number;
  readonly info: number;
  readonly fail: number;
  /** Writes the SDK sent twice (recorded with an indeterminate second copy). */
  readonly resent: number;
  readonly acked: number;
  readonly missing: string[];
  readonly verdict: string;
  readonly explanation: string;
  /** From the fault to the first acknowledged write after it. */
  readonly firstAckAfterFaultMs: number | undefined;
  /** From the heal (restart, resume, partition healed) to the first acknowledged write after it. */
  readonly recoveryMs: number | undefined;
  /** Longest stretch without an acknowledged write from the fault to the end. */
  readonly longestGapMs: number;
  readonly historyFile: string | undefined;
}

/** Runs `body` as a scenario under a fresh workload on `cluster`. */
export async function runScenario(
  cluster: ChaosCluster,
  name: string,
  body: (w: Workload) => Promise<FaultTimes>,
  opts: { clients?: number; heavyWriters?: number; strict?: boolean } = {},
): Promise<ScenarioReport> {
  const w = new Workload({ pdAddr: cluster.pd.addr, prefix: name, clients: opts.clients ?? PROFILE.clients, heavyWriters: opts.heavyWriters ?? 0, ...(opts.strict === undefined ? {} : { strict: opts.strict }) }).start();
  let times: FaultTimes;
  let end: number;
  try {
    await w.waitAcks(PROFILE.warmAcks, 30_000);
    times = await body(w);
    await w.waitAcks(PROFILE.settleAcks, 30_000);
    end = performance.now();
  } finally {
    await w.stop();
  }
  await cluster.waitHealthy(30_000);
  const missing = await w.finalReads();
  const result = w.check();
  const ops = w.history.operations().length;
  let historyFile: string | undefined;
  const dir = process.env.MRKV_CHAOS_HISTORY_DIR ?? (result.verdict !== 'linearizable' ? tmpdir() : undefined);
  if (dir !== undefined) {
    mkdirSync(dir, { recursive: true });
    historyFile = join(dir, `${name}.jsonl`);
    await w.history.writeJsonl(historyFile);
  }
  const firstAck = w.firstAckAfter(times.faultAt);
  const recovered = w.firstAckAfter(times.healAt);
  const report: ScenarioReport = {
    name,
    ops,
    ok: w.counts.ok,
    info: w.counts.info,
    fail: w.counts.fail,
    resent: w.counts.resent,
    acked: w.acked.size,
    missing,
    verdict: result.verdict,
    explanation: result.verdict === 'linearizable' ? '' : describeCheck(result),
    firstAckAfterFaultMs: firstAck === undefined ? undefined : Math.round(firstAck - times.faultAt),
    recoveryMs: recovered === undefined ? undefined : Math.round(recovered - times.healAt),
    longestGapMs: Math.round(w.longestGap(times.faultAt, end)),
    historyFile,
  };
  console.log(
    `[chaos] ${name}: ${ops} register ops (ok ${report.ok}, indeterminate ${report.info}, failed ${report.fail}, re-sent by the SDK ${report.resent}), ${report.acked} appends acked, ` +
      `${missing.length} missing; ${report.verdict}; first ack after fault ${fmt(report.firstAckAfterFaultMs)}, recovery after heal ${fmt(report.recoveryMs)}, ` +
      `longest write gap ${report.longestGapMs} ms${historyFile ? `; history ${historyFile}` : ''}${w.errors.size > 0 ? `; errors: ${w.errorSummary()}` : ''}`,
  );
  return report;
}

function fmt(ms: number | undefined): string {
  return ms === undefined ? 'never' : `${ms} ms`;
}

/** Resolves after `ms` (fault windows only: waiting for a condition uses deadlines instead). */
export function hold(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
