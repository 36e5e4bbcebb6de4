/**
 * Watches the region layout of a `TestCluster` while splits and merges run, and records every
 * breach of the layout invariants (TiKV's region-epoch rules, reference §2.9, §3, §4):
 *
 * 1. on every store the initialized regions never overlap (the store's range index);
 * 2. per store and region id the epoch never goes back, and the range changes only with a
 *    strictly higher `version` (also across a restart: admin results are synced);
 * 3. across stores, one region id at one `version` has one range;
 * 4. the cluster view — every running store's regions, the newest epoch of each id winning, and a
 *    region overlapped by a newer one (a split parent, a merged source) dropped — tiles the whole
 *    key space: no gap, no overlap.
 *
 * Checks run on every region change a store reports (its observer hook) and on a poll every few
 * milliseconds; each reads all in-process stores in one synchronous step, so it sees one instant.
 */
import { compareBytes } from '@mrkv/common';
import type { Region } from '@mrkv/proto';
import type { TestCluster } from './cluster.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex') || '∞';
const describe = (r: Region): string => `${r.id}[${hex(r.startKey)},${hex(r.endKey)})v${r.regionEpoch.version}c${r.regionEpoch.confVer}`;
const rangeOf = (r: Region): string => `${hex(r.startKey)}-${hex(r.endKey)}`;

interface Seen {
  version: number;
  confVer: number;
  range: string;
}

export class TopologyMonitor {
  /** Breaches found so far (empty when every check passed). */
  readonly violations: string[] = [];
  /** Checks run (polls and observer events), to show the monitor was awake. */
  checks = 0;
  private readonly perStore = new Map<number, Map<number, Seen>>();
  private readonly rangeAt = new Map<string, string>();
  private readonly unobserve = new Map<number, () => void>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly maxViolations = 20;

  constructor(
    private readonly cluster: TestCluster,
    private readonly pollMs = 5,
  ) {}

  /** Hooks every running store and starts polling. */
  start(): this {
    for (const id of this.cluster.running()) this.attach(id);
    this.timer = setInterval(() => this.checkNow(), this.pollMs);
    return this;
  }

  /** Hooks a (re)started store: call after `cluster.restart(id)`. */
  attach(storeId: number): void {
    this.unobserve.get(storeId)?.();
    const off = this.cluster.store(storeId).observe({ onRegionChange: () => this.checkStore(storeId) });
    this.unobserve.set(storeId, off);
  }

  /** Stops polling and unhooks the stores (after a last check). */
  stop(): void {
    this.checkNow();
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    for (const off of this.unobserve.values()) off();
    this.unobserve.clear();
  }

  /** Runs every check once. */
  checkNow(): void {
    const running = this.cluster.running();
    for (const id of running) this.checkStore(id);
    this.checkTiling(running);
  }

  /** The cluster view (see the module comment, rule 4) in key order. */
  clusterView(): Region[] {
    return newestView(this.cluster.running().flatMap((id) => [...this.cluster.store(id).ctx.meta.index.all()]));
  }

  private report(msg: string): void {
    if (this.violations.length < this.maxViolations) this.violations.push(msg);
  }

  private checkStore(storeId: number): void {
    this.checks++;
    // A store that crashed meanwhile has nothing to look at.
    if (!this.cluster.running().includes(storeId)) return;
    const store = this.cluster.store(storeId);
    const regions = store.ctx.meta.index.all();
    const seen = this.perStore.get(storeId) ?? new Map<number, Seen>();
    this.perStore.set(storeId, seen);
    for (let i = 0; i < regions.length; i++) {
      const r = regions[i]!;
      const next = regions[i + 1];
      if (next !== undefined && (r.endKey.length === 0 || compareBytes(r.endKey, next.startKey) > 0)) {
        this.report(`store ${storeId}: ${describe(r)} overlaps ${describe(next)}`);
      }
      this.checkEpoch(storeId, seen, r);
    }
  }

  private checkEpoch(storeId: number, seen: Map<number, Seen>, r: Region): void {
    const e = r.regionEpoch;
    const range = rangeOf(r);
    const prev = seen.get(r.id);
    if (prev !== undefined) {
      if (e.version < prev.version || e.confVer < prev.confVer) {
        this.report(`store ${storeId}: region ${r.id} epoch went back from v${prev.version}c${prev.confVer} to v${e.version}c${e.confVer}`);
      } else if (range !== prev.range && e.version <= prev.version) {
        this.report(`store ${storeId}: region ${r.id} changed range ${prev.range} → ${range} without a higher version (v${e.version})`);
      }
    }
    seen.set(r.id, { version: e.version, confVer: e.confVer, range });
    const at = `${r.id}@${e.version}`;
    const known = this.rangeAt.get(at);
    if (known === undefined) this.rangeAt.set(at, range);
    else if (known !== range) this.report(`region ${r.id} at version ${e.version} has two ranges: ${known} and ${range} (store ${storeId})`);
  }

  private checkTiling(running: readonly number[]): void {
    if (running.length === 0) return;
    const view = newestView(running.flatMap((id) => [...this.cluster.store(id).ctx.meta.index.all()]));
    let expect: Uint8Array = new Uint8Array();
    for (const r of view) {
      if (compareBytes(r.startKey, expect) !== 0) {
        this.report(`the regions do not tile the key space at ${hex(expect)}: next is ${describe(r)} (view ${view.map(describe).join(' ')})`);
        return;
      }
      if (r.endKey.length === 0) return;
      expect = r.endKey;
    }
    this.report(`the regions do not reach the end of the key space (view ${view.map(describe).join(' ')})`);
  }
}

/** The newest epoch of each region id wins; a region overlapped by a newer one is dropped. */
function newestView(all: readonly Region[]): Region[] {
  const byId = new Map<number, Region>();
  for (const r of all) {
    const cur = byId.get(r.id);
    if (cur === undefined || r.regionEpoch.version > cur.regionEpoch.version || (r.regionEpoch.version === cur.regionEpoch.version && r.regionEpoch.confVer > cur.regionEpoch.confVer)) byId.set(r.id, r);
  }
  const newestFirst = [...byId.values()].sort((a, b) => b.regionEpoch.version - a.regionEpoch.version);
  const kept: Region[] = [];
  for (const r of newestFirst) if (!kept.some((k) => overlaps(k, r))) kept.push(r);
  return kept.sort((a, b) => compareBytes(a.startKey, b.startKey));
}

function overlaps(a: Region, b: Region): boolean {
  const aBeforeB = a.endKey.length > 0 && compareBytes(a.endKey, b.startKey) <= 0;
  const bBeforeA = b.endKey.length > 0 && compareBytes(b.endKey, a.startKey) <= 0;
  return !aBeforeB && !bBeforeA;
}
