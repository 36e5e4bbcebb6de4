/**
 * A deterministic simulation of a raft group (after FoundationDB's and TigerBeetle's simulators):
 * N nodes over a simulated network that drops, duplicates and reorders messages, partitions
 * links, crashes nodes (losing everything not yet durable) and restarts them from what they
 * persisted. Every choice comes from one seeded RNG, so a seed replays exactly.
 *
 * Each node persists asynchronously: a Ready's writes become visible in its storage at once and
 * durable when the simulation flushes them (then `onPersistReady` runs and the messages the
 * Ready held back are sent). Committed entries are applied later too, and logs are compacted
 * behind the applied index, so snapshots travel.
 *
 * After every step the safety properties of the Raft paper (Figure 3) are checked:
 * - election safety: at most one leader per term;
 * - log matching: two logs with an entry of the same index and term agree on everything up to it
 *   (checked incrementally: every (index, term) ever written maps to one payload and one
 *   previous term);
 * - leader completeness: a new leader's log holds every entry applied anywhere;
 * - state machine safety: no two nodes apply different entries at one index;
 * - durability: an entry is applied only once a majority of nodes hold it durably;
 * - linearizable reads: a ReadIndex answer covers everything applied before the request.
 * After the faults stop, liveness: a leader emerges and commits within a bounded number of ticks.
 */
import { isRaftError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { noopLogger } from '../../logger.js';
import { RawNode } from '../../raw-node.js';
import type { Entry, HardState, Message, Snapshot } from '../../types.js';
import { MessageType, SnapshotStatus, StateRole, emptyConfState, messageTypeName } from '../../types.js';
import { MemoryLogStorage } from '../memory-storage.js';
import { SeededRng } from '../rng.js';

export interface SimOptions {
  /** Steps with faults. */
  steps: number;
  /** Ticks allowed, after healing, for a leader to commit a new entry on every node. */
  livenessTicks: number;
  /** Keep a trace of every step (for replaying a failing seed). */
  trace: boolean;
}

export interface SimResult {
  seed: number;
  /** The first violated property, or undefined. */
  violation: string | undefined;
  /** What the schedule exercised. */
  stats: Record<string, number>;
  /** Step-by-step trace (when requested). */
  trace: string[];
  /** The configuration drawn for this seed. */
  config: string;
}

type Action = 'tick' | 'deliver' | 'ready' | 'flush' | 'apply' | 'propose' | 'partition' | 'crash' | 'compact' | 'transfer' | 'read' | 'round';

interface PendingWrite {
  number: number;
  entries: Entry[];
  hardState: HardState | undefined;
  snapshot: Snapshot | undefined;
  persistedMessages: Message[];
}

interface SimNode {
  id: number;
  rn: RawNode;
  /** What raft reads: everything written, durable or not. */
  visible: MemoryLogStorage;
  /** What survives a crash. */
  durable: MemoryLogStorage;
  pending: PendingWrite[];
  applyQueue: Entry[][];
  /** The last index applied by this node's state machine. */
  applied: number;
  /** The last Ready handled, used to detect when a node became leader. */
  wasLeader: boolean;
  /** A slow disk: its writes stay pending longer (leaders ahead of their own log, etc.). */
  slowDisk: boolean;
}

class Violation extends Error {}

const enc = new TextEncoder();
const dec = new TextDecoder();

export class ClusterSim {
  private readonly rng: SeededRng;
  private readonly nodes: SimNode[] = [];
  private network: Message[] = [];
  /** Links cut, as "from-to". */
  private readonly cut = new Set<string>();
  private readonly down = new Set<number>();
  private readonly leaders = new Map<number, number>();
  /** Read requests: context → the highest index applied anywhere when it was issued. */
  private readonly reads = new Map<string, number>();
  /** (index/term) → payload and previous term, over every log write ever seen. */
  private readonly written = new Map<string, { data: string; prevTerm: number }>();
  /** index → "term/payload" of what was applied there. */
  private readonly appliedAt = new Map<number, string>();
  private maxApplied = 0;
  private proposals = 0;
  /** The payload proposed once healed, and the index where it was applied (-1: not yet). */
  private livenessTag = '';
  private livenessIndex = -1;
  private readonly trace: string[] = [];
  readonly stats: Record<string, number> = {};
  readonly config: string;
  private readonly size: number;
  private readonly preVote: boolean;
  private readonly checkQuorum: boolean;
  private readonly maxInflight: number;
  private readonly maxSizePerMsg: number;
  private readonly dropRate: number;
  private readonly dupRate: number;
  private readonly slowDisks = new Set<number>();
  /** How often each action is picked; the fault actions scale with the schedule's intensity. */
  private readonly weights: [Action, number][];
  private readonly totalWeight: number;
  /** Probability that a leader dies right after proposing. */
  private readonly churn: number;
  private maxInFlight = 0;

  constructor(
    readonly seed: number,
    private readonly opts: SimOptions,
  ) {
    this.rng = new SeededRng(seed);
    this.size = this.rng.chance(0.5) ? 3 : 5;
    this.preVote = this.rng.chance(0.5);
    this.checkQuorum = this.rng.chance(0.5);
    this.maxInflight = 1 + this.rng.nextInt(5);
    this.maxSizePerMsg = this.rng.chance(0.5) ? 0 : 64;
    this.dropRate = this.rng.nextInt(4) * 0.05;
    this.dupRate = this.rng.nextInt(3) * 0.05;
    // Calm schedules keep a leader long enough to replicate a lot between rare faults; stormy
    // ones change everything all the time.
    const intensity = [0.2, 1, 3][this.rng.nextInt(3)]!;
    this.weights = [
      ['tick', 15],
      ['deliver', 30],
      ['ready', 12],
      ['flush', 10],
      ['apply', 6],
      ['propose', 10],
      ['partition', 2 * intensity],
      ['crash', 2 * intensity],
      ['compact', 3],
      ['transfer', 1 * intensity],
      ['read', 2],
      ['round', 7],
    ];
    this.totalWeight = this.weights.reduce((t, [, w]) => t + w, 0);
    this.churn = this.rng.chance(0.3) ? 0.3 : 0;
    const voters = Array.from({ length: this.size }, (_, i) => i + 1);
    for (const id of voters) if (this.rng.chance(0.4)) this.slowDisks.add(id);
    this.config = `nodes=${this.size} intensity=${intensity} churn=${this.churn} slowDisks=(${[...this.slowDisks].join(',')}) preVote=${this.preVote} checkQuorum=${this.checkQuorum} maxInflight=${this.maxInflight} maxSizePerMsg=${this.maxSizePerMsg} drop=${this.dropRate.toFixed(2)} dup=${this.dupRate.toFixed(2)}`;
    for (const id of voters) {
      const durable = MemoryLogStorage.bootstrap({ ...emptyConfState(), voters }, 1, 1);
      this.nodes.push(this.start(id, durable));
    }
  }

  private log(s: string): void {
    if (this.opts.trace) this.trace.push(s);
  }

  private count(what: string): void {
    this.stats[what] = (this.stats[what] ?? 0) + 1;
  }

  /** Starts node `id` from what `durable` holds (its visible storage begins as a copy). */
  private start(id: number, durable: MemoryLogStorage): SimNode {
    const visible = durable.clone();
    const applied = durable.latestSnapshot().metadata.index;
    const logger: Logger = this.opts.trace
      ? {
          debug: () => {},
          info: (_o, m) => this.log(`    ${m ?? ''}`),
          warn: (_o, m) => this.log(`    WARN ${m ?? ''}`),
          error: (_o, m) => this.log(`    ERROR ${m ?? ''}`),
          child: () => logger,
        }
      : noopLogger;
    const rn = new RawNode(
      {
        id,
        electionTick: 10,
        heartbeatTick: 2,
        applied,
        rng: this.rng.fork(),
        preVote: this.preVote,
        checkQuorum: this.checkQuorum,
        maxInflightMsgs: this.maxInflight,
        maxSizePerMsg: this.maxSizePerMsg,
        logger,
      },
      visible,
    );
    return { id, rn, visible, durable, pending: [], applyQueue: [], applied, wasLeader: false, slowDisk: this.slowDisks.has(id) };
  }

  // ---------------------------------------------------------------------------------------------
  // Running.

  run(): SimResult {
    let violation: string | undefined;
    try {
      for (let i = 0; i < this.opts.steps; i++) {
        this.step(i);
        this.checkSafety();
      }
      this.liveness();
    } catch (e) {
      if (e instanceof Violation) violation = e.message;
      else violation = `unexpected ${(e as Error).name}: ${(e as Error).message}\n${(e as Error).stack ?? ''}`;
    }
    this.stats['max-in-flight'] = this.maxInFlight;
    return { seed: this.seed, violation, stats: this.stats, trace: this.trace, config: this.config };
  }

  private up(): SimNode[] {
    return this.nodes.filter((n) => !this.down.has(n.id));
  }

  private pick<T>(xs: readonly T[]): T | undefined {
    return xs.length === 0 ? undefined : xs[this.rng.nextInt(xs.length)];
  }

  private step(i: number): void {
    const n = this.pick(this.up());
    if (n === undefined) return;
    switch (this.pickAction()) {
      case 'tick':
        this.log(`${i}: tick ${n.id}`);
        n.rn.tick();
        this.count('tick');
        return;
      case 'deliver':
        this.deliverOne(i);
        return;
      case 'ready':
        if (n.rn.hasReady()) this.processReady(n, i);
        return;
      case 'flush':
        if (!n.slowDisk || this.rng.chance(0.1)) this.flush(n, this.rng.chance(0.5), i);
        return;
      case 'apply':
        this.applySome(n, i);
        return;
      case 'propose':
        this.propose(n, i);
        return;
      case 'partition':
        this.partition(i);
        return;
      case 'crash': {
        const d = this.pick([...this.down]);
        const leader = this.up().find((m) => m.rn.raftState === StateRole.Leader);
        if (d !== undefined && this.rng.chance(0.7)) this.restart(d, i);
        else this.crash(leader !== undefined && this.rng.chance(0.5) ? leader : n, i);
        return;
      }
      case 'compact':
        this.compact(n, i);
        return;
      case 'transfer': {
        const to = 1 + this.rng.nextInt(this.size);
        this.log(`${i}: ${n.id} transfer leadership to ${to}`);
        n.rn.transferLeader(to);
        this.count('transfer');
        return;
      }
      case 'read':
        this.log(`${i}: ${n.id} read index r${i}`);
        this.reads.set(`r${i}`, this.maxApplied);
        n.rn.readIndex(enc.encode(`r${i}`));
        this.count('read');
        return;
      case 'round':
        // A burst: tick everyone, handle everything.
        this.log(`${i}: round`);
        for (const m of this.up()) m.rn.tick();
        this.round(i);
        return;
    }
  }

  private pickAction(): Action {
    let r = this.rng.next() * this.totalWeight;
    for (const [a, w] of this.weights) {
      r -= w;
      if (r < 0) return a;
    }
    return 'round';
  }

  private round(i: number): void {
    for (const m of this.up()) if (m.rn.hasReady()) this.processReady(m, i);
    for (const m of this.up()) this.flush(m, true, i);
    for (const m of this.up()) this.applySome(m, i);
    let budget = this.network.length;
    while (budget-- > 0 && this.network.length > 0) this.deliverOne(i);
  }

  // ---------------------------------------------------------------------------------------------
  // Node actions.

  private processReady(n: SimNode, i: number): void {
    const rd = n.rn.ready();
    this.count('ready');
    if (rd.snapshot !== undefined && rd.snapshot.metadata.index > 0) {
      this.checkSnapshot(n, rd.snapshot);
      n.visible.applySnapshot(rd.snapshot);
      this.count('snapshot-installed');
    }
    if (rd.entries.length > 0) {
      this.checkWrites(n, rd.entries);
      n.visible.append(rd.entries);
    }
    if (rd.hardState !== undefined) n.visible.setHardState(rd.hardState);
    this.send(n, rd.messages);
    n.pending.push({ number: rd.number, entries: rd.entries, hardState: rd.hardState, snapshot: rd.snapshot, persistedMessages: rd.persistedMessages });
    if (rd.committedEntries.length > 0) n.applyQueue.push(rd.committedEntries);
    for (const rs of rd.readStates) {
      // Linearizable reads: the read index covers everything committed before the request.
      const ctx = dec.decode(rs.requestCtx);
      const floor = this.reads.get(ctx);
      if (floor !== undefined && rs.index < floor) {
        throw new Violation(`read index: ${ctx} answered at ${rs.index} on node ${n.id}, but ${floor} was applied before it was issued`);
      }
      this.log(`${i}:   ${n.id} read state ${ctx} index=${rs.index}`);
      this.count('read-answered');
    }
    n.rn.advanceAppendAsync(rd);
    this.log(`${i}: ${n.id} ready #${rd.number} entries=${rd.entries.length} committed=${rd.committedEntries.length} msgs=${rd.messages.length}+${rd.persistedMessages.length}${rd.snapshot ? ' snapshot' : ''}`);
  }

  /** Makes the oldest (or all) pending writes of `n` durable. */
  private flush(n: SimNode, all: boolean, i: number): void {
    while (n.pending.length > 0) {
      const w = n.pending.shift()!;
      if (w.snapshot !== undefined && w.snapshot.metadata.index > 0 && w.snapshot.metadata.index > n.durable.latestSnapshot().metadata.index) {
        n.durable.applySnapshot(w.snapshot);
      }
      if (w.entries.length > 0) n.durable.append(w.entries);
      if (w.hardState !== undefined) n.durable.setHardState(w.hardState);
      n.rn.onPersistReady(w.number);
      this.send(n, w.persistedMessages);
      this.log(`${i}: ${n.id} persisted #${w.number}`);
      this.count('persist');
      if (!all) break;
    }
  }

  private applySome(n: SimNode, i: number): void {
    while (n.applyQueue.length > 0) {
      const ents = n.applyQueue.shift()!;
      for (const e of ents) {
        // After a snapshot, entries at or below its index are not re-applied.
        if (e.index <= n.applied) continue;
        if (e.index !== n.applied + 1) throw new Violation(`node ${n.id} applies ${e.index} after ${n.applied}`);
        this.recordApplied(n, e);
        n.applied = e.index;
      }
      const st = n.rn.basicStatus();
      const to = Math.min(n.applied, st.commit, st.persisted);
      if (to > st.applied) n.rn.advanceApplyTo(to);
      this.log(`${i}: ${n.id} applied up to ${n.applied}`);
    }
  }

  private recordApplied(n: SimNode, e: Entry): void {
    this.checkDurableOnQuorum(n, e);
    const v = `${e.term}/${dec.decode(e.data)}`;
    const prev = this.appliedAt.get(e.index);
    if (prev === undefined) this.appliedAt.set(e.index, v);
    else if (prev !== v) throw new Violation(`state machine safety: node ${n.id} applied ${v} at ${e.index}, another node applied ${prev}`);
    if (e.index > this.maxApplied) this.maxApplied = e.index;
    if (this.livenessTag !== '' && dec.decode(e.data) === this.livenessTag) this.livenessIndex = e.index;
    this.count('applied');
  }

  private propose(n: SimNode, i: number): void {
    const data = `p${this.proposals++}`;
    try {
      n.rn.propose(enc.encode(data));
      this.log(`${i}: ${n.id} propose ${data}`);
      this.count('proposed');
    } catch (e) {
      if (!isRaftError(e)) throw e;
      this.log(`${i}: ${n.id} propose ${data} dropped`);
      this.count('dropped');
      return;
    }
    // Figure-8 churn: the leader sends its new entry to some nodes and dies right away, leaving
    // entries of its term on a minority for later leaders to commit or overwrite.
    if (n.rn.raftState === StateRole.Leader && this.rng.chance(this.churn)) {
      this.processReady(n, i);
      for (let k = this.rng.nextInt(4); k > 0; k--) this.deliverOne(i);
      this.crash(n, i);
      this.count('churn');
    }
  }

  /**
   * Crashes `n`: whatever it had not made durable is lost, including the messages its pending
   * writes held back. It stays down until restarted, or restarts at once.
   */
  private crash(n: SimNode, i: number): void {
    const idx = this.nodes.indexOf(n);
    this.log(`${i}: ${n.id} crashed (lost ${n.pending.length} pending writes)`);
    this.count('crash');
    if (this.rng.chance(0.5) && this.down.size < Math.floor((this.size - 1) / 2)) {
      this.down.add(n.id);
      n.pending = [];
      n.applyQueue = [];
      return;
    }
    this.nodes[idx] = this.start(n.id, n.durable);
    this.log(`${i}: ${n.id} restarted`);
  }

  private restart(id: number, i: number): void {
    this.down.delete(id);
    this.nodes[id - 1] = this.start(id, this.nodes[id - 1]!.durable);
    this.log(`${i}: ${id} restarted`);
    this.count('restart');
  }

  private compact(n: SimNode, i: number): void {
    const applied = n.applied;
    const first = n.durable.firstIndex();
    if (applied < first || applied > n.durable.lastIndex() || applied > n.visible.lastIndex()) return;
    const cs = n.rn.status().config;
    for (const s of [n.visible, n.durable]) {
      if (applied <= s.latestSnapshot().metadata.index) continue;
      s.createSnapshot(applied, cs, enc.encode(String(applied)));
      s.compact(applied);
    }
    this.log(`${i}: ${n.id} compacted to ${applied}`);
    this.count('compact');
  }

  // ---------------------------------------------------------------------------------------------
  // Network.

  private send(from: SimNode, msgs: readonly Message[]): void {
    if (this.network.length > 20_000) throw new Violation(`message storm: ${this.network.length} messages in flight`);
    for (const m of msgs) {
      if (this.rng.chance(this.dropRate)) {
        this.count('lost');
        this.snapshotLost(m);
        continue;
      }
      this.network.push(m);
      if (this.network.length > this.maxInFlight) this.maxInFlight = this.network.length;
      if (this.rng.chance(this.dupRate)) {
        // A copy: raft owns a message it steps (it may forward it, or number its proposals).
        this.network.push({ ...m, entries: m.entries.map((e) => ({ ...e })) });
        this.count('duplicated');
      }
    }
    void from;
  }

  /**
   * The transport tells the sender how a snapshot send ended (a store's snapshot sender does):
   * without that report, a leader waits for the snapshot forever.
   */
  private snapshotLost(m: Message): void {
    if (m.msgType !== MessageType.MsgSnap) return;
    const from = this.nodes[m.from - 1];
    if (from !== undefined && !this.down.has(m.from)) from.rn.reportSnapshot(m.to, SnapshotStatus.Failure);
  }

  private snapshotDelivered(m: Message): void {
    if (m.msgType !== MessageType.MsgSnap) return;
    const from = this.nodes[m.from - 1];
    if (from !== undefined && !this.down.has(m.from)) from.rn.reportSnapshot(m.to, SnapshotStatus.Finish);
  }

  private deliverOne(i: number): void {
    if (this.network.length === 0) return;
    // Any message, not the oldest: the network reorders.
    const k = this.rng.nextInt(this.network.length);
    const m = this.network[k]!;
    this.network[k] = this.network[this.network.length - 1]!;
    this.network.pop();
    if (this.cut.has(`${m.from}-${m.to}`)) {
      this.count('partitioned');
      this.snapshotLost(m);
      return;
    }
    const to = this.nodes[m.to - 1];
    if (to === undefined || this.down.has(m.to)) {
      this.snapshotLost(m);
      return;
    }
    this.log(`${i}: deliver ${m.from}->${m.to} ${messageTypeName(m.msgType)} term=${m.term} index=${m.index} n=${m.entries.length}${m.reject ? ' reject' : ''}`);
    try {
      to.rn.step(m);
      this.count('delivered');
    } catch (e) {
      if (!isRaftError(e)) throw e;
      this.count(`refused:${e.code}`);
    }
    this.snapshotDelivered(m);
  }

  private partition(i: number): void {
    const r = this.rng.nextInt(3);
    if (r === 0) {
      this.cut.clear();
      this.log(`${i}: heal`);
    } else if (r === 1) {
      const a = 1 + this.rng.nextInt(this.size);
      for (let b = 1; b <= this.size; b++) {
        if (b === a) continue;
        this.cut.add(`${a}-${b}`);
        this.cut.add(`${b}-${a}`);
      }
      this.log(`${i}: isolate ${a}`);
    } else {
      const a = 1 + this.rng.nextInt(this.size);
      const b = 1 + this.rng.nextInt(this.size);
      if (a !== b) this.cut.add(`${a}-${b}`); // one way only: asymmetric
      this.log(`${i}: cut ${a}->${b}`);
    }
    this.count('partition');
  }

  // ---------------------------------------------------------------------------------------------
  // Checks.

  private checkWrites(n: SimNode, ents: readonly Entry[]): void {
    let prevTerm = ents[0]!.index - 1 >= n.visible.firstIndex() - 1 && ents[0]!.index - 1 <= n.visible.lastIndex() ? n.visible.term(ents[0]!.index - 1) : -1;
    for (const e of ents) {
      const key = `${e.index}/${e.term}`;
      const data = dec.decode(e.data);
      const seen = this.written.get(key);
      if (seen === undefined) this.written.set(key, { data, prevTerm });
      else if (seen.data !== data || (prevTerm >= 0 && seen.prevTerm >= 0 && seen.prevTerm !== prevTerm)) {
        throw new Violation(`log matching: node ${n.id} writes ${key} "${data}" after term ${prevTerm}, seen before as "${seen.data}" after term ${seen.prevTerm}`);
      }
      prevTerm = e.term;
    }
  }

  /**
   * Commit implies durability on a quorum: an entry may be applied only if a majority of nodes
   * hold it in what survives a crash (their durable log, or a durable snapshot covering it).
   * This is what makes committed entries survive any minority of crashes.
   */
  private checkDurableOnQuorum(n: SimNode, e: Entry): void {
    let holders = 0;
    for (const m of this.nodes) {
      const d = m.durable;
      if (e.index <= d.latestSnapshot().metadata.index) holders++;
      else if (e.index <= d.lastIndex() && e.index >= d.firstIndex() && d.term(e.index) === e.term) holders++;
    }
    if (holders <= this.size / 2) {
      throw new Violation(`durability: node ${n.id} applies ${e.term}/${e.index}, but only ${holders} of ${this.size} nodes hold it durably`);
    }
  }

  private checkSnapshot(n: SimNode, s: Snapshot): void {
    const at = this.appliedAt.get(s.metadata.index);
    if (at !== undefined && !at.startsWith(`${s.metadata.term}/`)) {
      throw new Violation(`node ${n.id} installs a snapshot at ${s.metadata.index} term ${s.metadata.term}, but ${at} was applied there`);
    }
    n.applied = Math.max(n.applied, s.metadata.index);
    n.applyQueue = [];
  }

  private checkSafety(): void {
    for (const n of this.up()) {
      const isLeader = n.rn.raftState === StateRole.Leader;
      if (isLeader) {
        const t = n.rn.term;
        const other = this.leaders.get(t);
        if (other === undefined) this.leaders.set(t, n.id);
        else if (other !== n.id) throw new Violation(`election safety: nodes ${other} and ${n.id} both lead term ${t}`);
        if (!n.wasLeader) this.checkLeaderCompleteness(n);
      }
      n.wasLeader = isLeader;
    }
  }

  private checkLeaderCompleteness(n: SimNode): void {
    this.count('elected');
    const i = this.maxApplied;
    if (i === 0) return;
    const log = n.rn.raft.log;
    if (i < log.firstIndex() - 1) return; // covered by a snapshot the node installed
    const t = log.maybeTerm(i);
    const want = this.appliedAt.get(i)!;
    if (t === undefined || !want.startsWith(`${t}/`)) {
      throw new Violation(`leader completeness: new leader ${n.id} (term ${n.rn.term}) has term ${t} at ${i}, where ${want} was applied`);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Liveness.

  private liveness(): void {
    this.cut.clear();
    for (const id of [...this.down]) this.restart(id, -1);
    this.log('heal: no more faults');
    const tag = `live${this.seed}`;
    this.livenessTag = tag;
    // Propose through the current leader; propose again if leadership moved before it applied
    // (a leader of a stale term may take a proposal that the next leader overwrites).
    let proposedVia = '';
    for (let t = 0; t < this.opts.livenessTicks; t++) {
      for (const n of this.nodes) n.rn.tick();
      for (let k = 0; k < 50; k++) {
        for (const n of this.nodes) if (n.rn.hasReady()) this.processReady(n, -1);
        for (const n of this.nodes) this.flush(n, true, -1);
        for (const n of this.nodes) this.applySome(n, -1);
        const batch = this.network;
        this.network = [];
        for (const m of batch) {
          const to = this.nodes[m.to - 1];
          if (to === undefined) continue;
          try {
            to.rn.step(m);
          } catch (e) {
            if (!isRaftError(e)) throw e;
          }
          this.snapshotDelivered(m);
        }
        this.checkSafety();
        if (batch.length === 0 && !this.nodes.some((n) => n.rn.hasReady() || n.pending.length > 0 || n.applyQueue.length > 0)) break;
      }
      if (this.livenessIndex >= 0) {
        if (this.nodes.every((n) => n.applied >= this.livenessIndex)) {
          this.stats['liveness-ticks'] = t;
          return;
        }
        continue;
      }
      const leader = this.nodes.find((n) => n.rn.raftState === StateRole.Leader && n.rn.committedEntryInCurrentTerm);
      if (leader === undefined || proposedVia === `${leader.id}@${leader.rn.term}`) continue;
      try {
        leader.rn.propose(enc.encode(tag));
        proposedVia = `${leader.id}@${leader.rn.term}`;
        this.log(`-1: ${leader.id} proposed ${tag}`);
      } catch (e) {
        if (!isRaftError(e)) throw e;
        this.log(`-1: ${leader.id} could not propose ${tag}: ${e.message}`);
      }
    }
    const states = this.nodes.map((n) => `${n.id}:${['F', 'C', 'L', 'P'][n.rn.raftState]}@${n.rn.term} c=${n.rn.commitIndex} a=${n.applied}`).join(' ');
    throw new Violation(`liveness: no entry committed on every node within ${this.opts.livenessTicks} ticks after healing [${states}]`);
  }
}

/** Runs one seeded schedule. */
export function runSchedule(seed: number, opts: Partial<SimOptions> = {}): SimResult {
  return new ClusterSim(seed, { steps: 1500, livenessTicks: 300, trace: false, ...opts }).run();
}

