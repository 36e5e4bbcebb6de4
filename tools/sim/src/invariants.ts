/**
 * The simulator's safety invariants, checked while the cluster runs (FoundationDB / TigerBeetle
 * style: a run fails at the first event that breaks one).
 *
 * - **Election safety**: at most one leader per (region, term) — from role-change hooks, and by a
 *   sweep over every running peer.
 * - **Replica agreement on applied entries**: every peer keeps a chained checksum over what it
 *   applies, `chain(i) = H(chain(i−1), index, term, type, data, took-effect)` (vraft remu's
 *   "execution history checksum"); the first replica to apply index `i` of a region sets the
 *   region's checksum there, every other one must reach the same value. A peer that restarts, or
 *   starts from a snapshot or a split, continues from the region's checksum at its applied index.
 * - **Committed prefixes agree**: a term seen at a committed index (`index ≤ commit`) of any peer is
 *   the only term any peer may ever show at that index while it is committed there — across
 *   replicas and across crashes (an acknowledged entry must not vanish or change).
 * - **Region ranges**: the regions of each store never overlap; the newest version of every region
 *   the running stores know tiles the key space (no gap, no overlap).
 * - **Epochs only grow**, per (store, region), across restarts too.
 *
 * Hooks run on the raftstore's thread and must not throw (the registry would swallow it): a
 * broken invariant is recorded as a `Violation` and the driver stops the run after the event.
 */
import { compareBytes } from '@mrkv/common';
import type { Entry } from '@mrkv/raft';
import { StateRole } from '@mrkv/raft';
import type { Region } from '@mrkv/proto';
import type { Raftstore, RaftstoreObserver } from '@mrkv/raftstore';

/** What broke, where, and when. */
export interface Violation {
  /** Which invariant (stable names, used in reports and tests). */
  readonly kind: 'two-leaders' | 'apply-divergence' | 'committed-divergence' | 'region-overlap' | 'tiling' | 'epoch-regress' | 'liveness' | 'linearizability';
  readonly message: string;
  /** Virtual time (ms) and event number when it was detected. */
  readonly atMs: number;
  readonly event: number;
}

/** The raft log index a region's log starts after (TiKV RAFT_INIT_LOG_INDEX). */
const INIT_INDEX = 5;

/** A 53-bit FNV-1a–style mix (deterministic, fast, good enough to tell replicas apart). */
function mix(h: number, x: number): number {
  let lo = (h ^ x) >>> 0;
  lo = Math.imul(lo, 0x01000193) >>> 0;
  const hi = Math.floor(h / 0x1_0000_0000) ^ (x >>> 11);
  return ((Math.imul(hi, 0x9e3779b1) >>> 0) % 0x20_0000) * 0x1_0000_0000 + lo;
}

function mixBytes(h: number, b: Uint8Array | undefined): number {
  if (b === undefined) return mix(h, 0xfffffff);
  let x = mix(h, b.length);
  for (let i = 0; i < b.length; i++) x = mix(x, b[i]!);
  return x;
}

/** The checksum contribution of one applied entry. */
export function entryDigest(e: Entry, ok: boolean): number {
  let h = mix(0x811c9dc5, e.index);
  h = mix(h, e.term);
  h = mix(h, e.entryType);
  h = mixBytes(h, e.data);
  h = mixBytes(h, e.context);
  return mix(h, ok ? 1 : 2);
}

/** Extends a chained checksum by one entry digest. */
export function chainNext(prev: number, digest: number): number {
  return mix(mix(prev, digest), 0x5bd1e995);
}

/** The checksum a region's chain starts from at its initial log index (bootstrap or split). */
function chainSeed(regionId: number): number {
  return mix(0x2545f491, regionId);
}

interface PeerChain {
  index: number;
  chain: number;
}

/** Optional fault injection for tests of the checker itself (a deliberately broken replica). */
export interface ChainTamper {
  /** Returns a digest to use instead of the real one (e.g. for one store at one index). */
  (storeId: number, regionId: number, e: Entry, digest: number): number;
}

/** A store's peer as the sweep reads it. */
type SweptPeer = Raftstore['peers'] extends Map<number, infer P> ? P : never;

/** The last region object a check saw, with the parts of it the check read (identity compared). */
interface SeenRegion {
  region: Region;
  epoch: Region['regionEpoch'];
  startKey: Uint8Array;
  endKey: Uint8Array;
}

function sameRegion(seen: SeenRegion | undefined, r: Region): boolean {
  return seen !== undefined && seen.region === r && seen.epoch === r.regionEpoch && seen.startKey === r.startKey && seen.endKey === r.endKey;
}

function seenRegion(r: Region): SeenRegion {
  return { region: r, epoch: r.regionEpoch, startKey: r.startKey, endKey: r.endKey };
}

/** The highest epoch seen of one (store, region); updated in place. */
interface EpochSeen {
  version: number;
  confVer: number;
}

/**
 * What the sweep already checked for one peer object, so that an unchanged peer costs a few
 * field reads per event:
 * - `leaderTerm`: the term in which it was last seen leading ((region, term, peer) is recorded);
 * - `commitChecked`: the highest committed index already compared;
 * - `epochRegion`/`epochOf`/`epochSeen`: the region object and epoch object last compared, and
 *   the (store, region) record they were compared with. Comparing the same epoch values again
 *   against a record that still holds exactly them cannot fail and changes nothing.
 */
interface PeerSweep {
  leaderTerm: number;
  commitChecked: number;
  epochRegion: Region | undefined;
  epochOf: Region['regionEpoch'] | undefined;
  epochSeen: EpochSeen | undefined;
}

export class InvariantChecker {
  readonly violations: Violation[] = [];
  /** region → term → the peer that led it. */
  private readonly leaders = new Map<number, Map<number, number>>();
  /** What the sweep already checked per live peer object (see `PeerSweep`). */
  private readonly swept = new WeakMap<object, PeerSweep>();
  /** Per region: index → chained checksum of the first replica that applied it. */
  private readonly chains = new Map<number, Map<number, number>>();
  /** Per (store, region): the peer's own chain. */
  private readonly peerChains = new Map<string, PeerChain>();
  /** Per region: index → term of a committed entry. */
  private readonly committed = new Map<number, Map<number, number>>();
  /** store → region → the highest epoch seen. */
  private readonly epochs = new Map<number, Map<number, EpochSeen>>();
  /**
   * Per store object: its region index as last checked for overlaps (the regions in order). The
   * check is skipped while the index holds the same region objects with the same epoch and key
   * objects (regions are replaced, not edited, when they change).
   */
  private readonly rangesChecked = new WeakMap<object, SeenRegion[]>();
  /** The newest regions of the last tiling check (by id); skipped while the same ones are newest. */
  private tilingChecked = new Map<number, SeenRegion>();
  /** Entries applied (all replicas), for the report. */
  applied = 0;

  constructor(
    private readonly now: () => { atMs: number; event: number },
    private readonly tamper?: ChainTamper,
  ) {}

  get failed(): boolean {
    return this.violations.length > 0;
  }

  /** Records a violation (the driver stops the run after the current event). */
  fail(kind: Violation['kind'], message: string): void {
    const { atMs, event } = this.now();
    this.violations.push({ kind, message, atMs, event });
  }

  /** Registers the hooks on a (re)started store. Returns the function that unregisters them. */
  attach(storeId: number, store: Raftstore): () => void {
    const observer: RaftstoreObserver = {
      postApply: (regionId, entry, ok) => this.onApply(storeId, regionId, entry, ok),
      onRoleChange: (regionId, peerId, role, term) => {
        if (role === StateRole.Leader) this.onLeader(regionId, peerId, term);
      },
      onRegionChange: (region, event) => {
        if (event !== 'destroy') this.onEpoch(storeId, region);
      },
    };
    const off = store.observe(observer);
    // Regions recovered during start were announced before the hooks existed: compare them now.
    for (const p of store.peers.values()) if (p.isInitialized) this.onEpoch(storeId, p.region);
    return off;
  }

  private onLeader(regionId: number, peerId: number, term: number): void {
    let terms = this.leaders.get(regionId);
    if (terms === undefined) {
      terms = new Map();
      this.leaders.set(regionId, terms);
    }
    const prev = terms.get(term);
    if (prev === undefined) terms.set(term, peerId);
    else if (prev !== peerId) this.fail('two-leaders', `region ${regionId} has two leaders in term ${term}: peers ${prev} and ${peerId}`);
  }

  private onApply(storeId: number, regionId: number, e: Entry, ok: boolean): void {
    this.applied++;
    let region = this.chains.get(regionId);
    if (region === undefined) {
      region = new Map([[INIT_INDEX, chainSeed(regionId)]]);
      this.chains.set(regionId, region);
    }
    const key = `${storeId}:${regionId}`;
    const mine = this.peerChains.get(key);
    let prev: number | undefined;
    if (mine !== undefined && mine.index === e.index - 1) prev = mine.chain;
    else prev = region.get(e.index - 1);
    let digest = entryDigest(e, ok);
    if (this.tamper !== undefined) digest = this.tamper(storeId, regionId, e, digest);
    if (prev === undefined) {
      // No replica was seen at the previous index (history before the simulator attached): the
      // chain restarts here from this entry alone; other replicas are compared from the next one.
      this.peerChains.set(key, { index: e.index, chain: chainNext(0, digest) });
      if (!region.has(e.index)) region.set(e.index, chainNext(0, digest));
      return;
    }
    const chain = chainNext(prev, digest);
    this.peerChains.set(key, { index: e.index, chain });
    const canonical = region.get(e.index);
    if (canonical === undefined) region.set(e.index, chain);
    else if (canonical !== chain) {
      this.fail(
        'apply-divergence',
        `region ${regionId}: store ${storeId} applied index ${e.index} (term ${e.term}, ${e.data.length} bytes, took effect: ${ok}) ` +
          `with chained checksum ${chain.toString(16)}, another replica reached ${canonical.toString(16)}`,
      );
    }
  }

  /** Compares a region's epoch with the highest seen on that store; returns the record compared with. */
  private onEpoch(storeId: number, region: Region): EpochSeen | undefined {
    if (region.peers.length === 0) return undefined;
    let regions = this.epochs.get(storeId);
    if (regions === undefined) {
      regions = new Map();
      this.epochs.set(storeId, regions);
    }
    const e = region.regionEpoch;
    const prev = regions.get(region.id);
    if (prev === undefined) {
      const seen = { version: e.version, confVer: e.confVer };
      regions.set(region.id, seen);
      return seen;
    }
    if (e.version < prev.version || e.confVer < prev.confVer) {
      this.fail(
        'epoch-regress',
        `store ${storeId} region ${region.id}: epoch went back from (conf_ver ${prev.confVer}, version ${prev.version}) to (conf_ver ${e.confVer}, version ${e.version})`,
      );
    }
    prev.version = Math.max(e.version, prev.version);
    prev.confVer = Math.max(e.confVer, prev.confVer);
    return prev;
  }

  /**
   * The sweep over the running stores: leaders, committed prefixes, epochs, region ranges.
   * Cost: O(peers + newly committed entries), plus O(regions log regions) when the region
   * objects changed since the last sweep (what was checked for the same objects is not checked
   * again: the result could not differ).
   */
  sweep(stores: ReadonlyMap<number, Raftstore>): void {
    const newest = this.newest;
    newest.clear();
    for (const [storeId, store] of stores) {
      for (const p of store.peers.values()) {
        if (p.destroyed) continue;
        let done = this.swept.get(p);
        if (done === undefined) {
          done = { leaderTerm: -1, commitChecked: 0, epochRegion: undefined, epochOf: undefined, epochSeen: undefined };
          this.swept.set(p, done);
        }
        if (p.isLeader) {
          // (region, term, peer) is recorded once; seeing the same peer lead the same term again changes nothing.
          const term = p.term;
          if (done.leaderTerm !== term) {
            this.onLeader(p.regionId, p.peerId, term);
            done.leaderTerm = term;
          }
        }
        this.checkCommitted(storeId, p, done);
        if (!p.isInitialized) continue;
        const region = p.region;
        const seen = done.epochSeen;
        const e = region.regionEpoch;
        if (done.epochRegion !== region || done.epochOf !== e || seen === undefined || seen.version !== e.version || seen.confVer !== e.confVer) {
          done.epochSeen = this.onEpoch(storeId, region);
          done.epochRegion = region;
          done.epochOf = e;
        }
        const cur = newest.get(p.regionId);
        if (cur === undefined || newer(region, cur)) newest.set(p.regionId, region);
      }
      this.checkStoreRanges(storeId, store);
    }
    this.checkTiling(newest);
  }

  /** Scratch map of the sweep: region id → the newest region the running stores know. */
  private readonly newest = new Map<number, Region>();

  private checkCommitted(storeId: number, p: SweptPeer, done: PeerSweep): void {
    const commit = p.rawNode.commitIndex;
    // Nothing committed past what was compared (the common case): nothing to read.
    if (commit <= done.commitChecked) return;
    const upTo = Math.min(commit, p.storage.lastIndex());
    const from = Math.max(done.commitChecked, p.storage.firstIndex() - 1);
    if (upTo <= from) return;
    let terms = this.committed.get(p.regionId);
    if (terms === undefined) {
      terms = new Map();
      this.committed.set(p.regionId, terms);
    }
    for (let i = from + 1; i <= upTo; i++) {
      const t = p.storage.term(i);
      const seen = terms.get(i);
      if (seen === undefined) terms.set(i, t);
      else if (seen !== t) {
        this.fail('committed-divergence', `region ${p.regionId}: store ${storeId} has term ${t} at committed index ${i}, where term ${seen} was committed`);
        break;
      }
    }
    done.commitChecked = upTo;
  }

  private checkStoreRanges(storeId: number, store: Raftstore): void {
    const all = store.ctx.meta.index.all();
    const seen = this.rangesChecked.get(store);
    if (seen !== undefined && seen.length === all.length && all.every((r, i) => sameRegion(seen[i], r))) return;
    this.rangesChecked.set(store, all.map(seenRegion));
    for (let i = 1; i < all.length; i++) {
      const a = all[i - 1]!;
      const b = all[i]!;
      if (a.endKey.length === 0 || compareBytes(a.endKey, b.startKey) > 0) {
        this.fail('region-overlap', `store ${storeId}: regions ${describe(a)} and ${describe(b)} overlap`);
        return;
      }
    }
  }

  private checkTiling(newest: ReadonlyMap<number, Region>): void {
    const seen = this.tilingChecked;
    if (seen.size === newest.size) {
      let same = true;
      for (const [id, r] of newest) {
        if (!sameRegion(seen.get(id), r)) {
          same = false;
          break;
        }
      }
      if (same) return;
    }
    this.tilingChecked = new Map([...newest].map(([id, r]) => [id, seenRegion(r)]));
    const regions = [...newest.values()];
    if (regions.length === 0) return;
    regions.sort((a, b) => compareBytes(a.startKey, b.startKey));
    if (regions[0]!.startKey.length !== 0) {
      this.fail('tiling', `no region covers the start of the key space; the first is ${describe(regions[0]!)}`);
      return;
    }
    for (let i = 1; i < regions.length; i++) {
      const a = regions[i - 1]!;
      const b = regions[i]!;
      if (a.endKey.length === 0 || compareBytes(a.endKey, b.startKey) !== 0) {
        const what = a.endKey.length === 0 || compareBytes(a.endKey, b.startKey) > 0 ? 'overlap' : 'leave a gap';
        this.fail('tiling', `the newest regions ${describe(a)} and ${describe(b)} ${what}`);
        return;
      }
    }
    const last = regions[regions.length - 1]!;
    if (last.endKey.length !== 0) this.fail('tiling', `no region covers the end of the key space; the last is ${describe(last)}`);
  }
}

function newer(a: Region, b: Region): boolean {
  const x = a.regionEpoch;
  const y = b.regionEpoch;
  return x.version > y.version || (x.version === y.version && x.confVer > y.confVer);
}

/** `#id [start, end) v<version>` with printable keys. */
export function describe(r: Region): string {
  const start = r.startKey.length === 0 ? '-∞' : showKey(r.startKey);
  const end = r.endKey.length === 0 ? '+∞' : showKey(r.endKey);
  return `#${r.id} [${start}, ${end}) v${r.regionEpoch.version}`;
}

/** A key as text when printable, else hex. */
export function showKey(k: Uint8Array): string {
  if (k.length === 0) return '""';
  const printable = k.every((c) => c >= 0x20 && c < 0x7f);
  return printable ? JSON.stringify(Buffer.from(k).toString('latin1')) : `0x${Buffer.from(k).toString('hex')}`;
}
