/**
 * InteractionEnv: a cluster of RawNodes under manual control, for the datadriven interaction
 * scripts in packages/raft/testdata (after etcd's `rafttest` InteractionEnv). Nothing happens on
 * its own: scripts tick nodes, take and handle Readies, deliver (or drop) queued messages, and
 * run the append and apply "threads" of nodes that persist asynchronously. Every step prints
 * what it did, together with the nodes' log lines, and that transcript is the expected output.
 *
 * Each node has a MemoryLogStorage and a toy state machine: the list of applied normal entry
 * payloads. After each apply the storage gets a snapshot of that state, so `compact` followed by
 * replication exercises snapshot sending.
 */
import { confChangeFromEntry } from '../../conf-change.js';
import type { Config } from '../../config.js';
import {
  describeConfState,
  describeEntry,
  describeHardState,
  describeMessage,
  describeReadState,
  describeSnapshot,
  describeSoftState,
} from '../../describe.js';
import { isRaftError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { RawNode } from '../../raw-node.js';
import type { LightReady, Ready } from '../../raw-node.js';
import type { ConfState, Entry, Message } from '../../types.js';
import { EntryType, isEmptySnapshot } from '../../types.js';
import { MemoryLogStorage } from '../memory-storage.js';
import { SeededRng } from '../rng.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'none';
const LEVELS: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3, none: 4 };

/** One node of the environment. */
export interface EnvNode {
  id: number;
  rn: RawNode;
  storage: MemoryLogStorage;
  config: Config;
  /** Persist asynchronously: writes become durable only when the append thread runs. */
  asyncWrites: boolean;
  /** Async: Readies written (visible) but not durable yet, with the messages they hold back. */
  appendWork: { number: number; persistedMessages: Message[] }[];
  /** Async: committed entries handed out but not applied yet. */
  applyWork: Entry[][];
  /** The toy state machine: payloads of applied normal entries. */
  state: string[];
  confState: ConfState;
}

const dec = new TextDecoder();
const enc = new TextEncoder();

export class InteractionEnv {
  readonly nodes: EnvNode[] = [];
  /** Messages sent and not yet delivered, in send order. */
  messages: Message[] = [];
  private out: string[] = [];
  private indent = 0;
  private level: LogLevel = 'info';
  readonly logger: Logger;

  constructor() {
    const log = (lvl: LogLevel, label: string) => (_obj: Record<string, unknown>, msg?: string) => {
      if (LEVELS[lvl] >= LEVELS[this.level]) this.line(`${label} ${msg ?? ''}`);
    };
    const logger: Logger = {
      debug: log('debug', 'DEBUG'),
      info: log('info', 'INFO'),
      warn: log('warn', 'WARN'),
      error: log('error', 'ERROR'),
      child: () => logger,
      isLevelEnabled: (l) => LEVELS[l] >= LEVELS[this.level],
    };
    this.logger = logger;
  }

  // ---------------------------------------------------------------------------------------------
  // Output.

  line(s: string): void {
    this.out.push('  '.repeat(this.indent) + s);
  }

  withIndent(f: () => void): void {
    this.indent++;
    try {
      f();
    } finally {
      this.indent--;
    }
  }

  /** Takes everything printed since the last call. */
  takeOutput(): string {
    const s = this.out.join('\n');
    this.out = [];
    this.indent = 0;
    return s;
  }

  setLogLevel(l: LogLevel): void {
    this.level = l;
  }

  node(id: number): EnvNode {
    const n = this.nodes[id - 1];
    if (n === undefined) throw new Error(`no node ${id} (there are ${this.nodes.length})`);
    return n;
  }

  // ---------------------------------------------------------------------------------------------
  // Nodes.

  /** Creates the next node (id = count + 1) on `storage`. */
  addNode(storage: MemoryLogStorage, cfg: Omit<Config, 'id' | 'rng' | 'logger'>, asyncWrites: boolean): EnvNode {
    const id = this.nodes.length + 1;
    const config: Config = { ...cfg, id, rng: new SeededRng(id), logger: this.logger };
    const rn = new RawNode(config, storage);
    const snap = storage.latestSnapshot();
    const node: EnvNode = {
      id,
      rn,
      storage,
      config,
      asyncWrites,
      appendWork: [],
      applyWork: [],
      state: decodeState(snap.data),
      confState: storage.initialState().confState,
    };
    this.nodes.push(node);
    return node;
  }

  // ---------------------------------------------------------------------------------------------
  // Ready handling.

  /** Takes and handles one Ready of node `id`. */
  processReady(id: number): void {
    const n = this.node(id);
    const rd = n.rn.ready();
    this.line(`> ${id} handling Ready`);
    this.withIndent(() => this.printReady(rd));
    // Make the writes visible (the storage answers raft's reads from them right away).
    if (rd.snapshot !== undefined && !isEmptySnapshot(rd.snapshot)) {
      n.storage.applySnapshot(rd.snapshot);
      n.state = decodeState(rd.snapshot.data);
      n.confState = rd.snapshot.metadata.confState;
    }
    if (rd.entries.length > 0) n.storage.append(rd.entries);
    if (rd.hardState !== undefined) n.storage.setHardState(rd.hardState);
    this.messages.push(...rd.messages);
    if (n.asyncWrites) {
      n.appendWork.push({ number: rd.number, persistedMessages: rd.persistedMessages });
      if (rd.committedEntries.length > 0) n.applyWork.push(rd.committedEntries);
      n.rn.advanceAppendAsync(rd);
      return;
    }
    // Synchronous: the writes are durable now.
    this.messages.push(...rd.persistedMessages);
    this.withIndent(() => this.apply(n, rd.committedEntries));
    let light: LightReady | undefined;
    this.withIndent(() => (light = n.rn.advance(rd)));
    this.handleLight(n, light!);
    this.withIndent(() => n.rn.advanceApply());
  }

  private handleLight(n: EnvNode, light: LightReady): void {
    if (light.commitIndex === undefined && light.committedEntries.length === 0 && light.messages.length === 0) return;
    this.line(`> ${n.id} handling LightReady`);
    this.withIndent(() => {
      if (light.commitIndex !== undefined) this.line(`commit=${light.commitIndex}`);
      this.printEntries('committed:', light.committedEntries);
      this.printMessages('send:', light.messages);
    });
    if (light.commitIndex !== undefined) n.storage.setHardState({ ...n.storage.getHardState(), commit: light.commitIndex });
    this.messages.push(...light.messages);
    this.withIndent(() => this.apply(n, light.committedEntries));
  }

  /** Async: makes the oldest written Ready durable and releases the messages it held back. */
  processAppendThread(id: number): void {
    const n = this.node(id);
    const w = n.appendWork.shift();
    if (w === undefined) return;
    this.line(`persisted Ready #${w.number}`);
    this.withIndent(() => this.printMessages('send:', w.persistedMessages));
    this.messages.push(...w.persistedMessages);
    this.withIndent(() => n.rn.onPersistReady(w.number));
  }

  /** Async: applies every handed-out batch of committed entries. */
  processApplyThread(id: number): void {
    const n = this.node(id);
    const work = n.applyWork;
    if (work.length === 0) return;
    n.applyWork = [];
    for (const ents of work) {
      this.printEntries('applying:', ents);
      this.withIndent(() => {
        this.apply(n, ents);
        n.rn.advanceApplyTo(ents[ents.length - 1]!.index);
      });
    }
  }

  private apply(n: EnvNode, ents: readonly Entry[]): void {
    if (ents.length === 0) return;
    for (const e of ents) {
      if (e.entryType === EntryType.EntryNormal) {
        if (e.data.length > 0) n.state.push(dec.decode(e.data));
        continue;
      }
      try {
        n.confState = n.rn.applyConfChange(confChangeFromEntry(e));
        n.storage.setConfState(n.confState);
      } catch (err) {
        if (!isRaftError(err)) throw err;
        this.line(`error applying ${describeEntry(e)}: ${err.message}`);
      }
    }
    const last = ents[ents.length - 1]!.index;
    if (last > n.storage.latestSnapshot().metadata.index) n.storage.createSnapshot(last, n.confState, encodeState(n.state));
  }

  // ---------------------------------------------------------------------------------------------
  // Messages.

  /**
   * Delivers (or, with `drop`, drops) the queued messages to `to`, optionally only of one type.
   * Returns how many were handled.
   */
  deliverMsgs(to: number, opts: { drop?: boolean; msgType?: number } = {}): number {
    const mine: Message[] = [];
    const rest: Message[] = [];
    for (const m of this.messages) {
      if (m.to === to && (opts.msgType === undefined || m.msgType === opts.msgType)) mine.push(m);
      else rest.push(m);
    }
    this.messages = rest;
    const n = this.nodes[to - 1];
    for (const m of mine) {
      if (opts.drop || n === undefined) {
        this.line(`${describeMessage(m)} dropped`);
        continue;
      }
      this.line(describeMessage(m));
      this.withIndent(() => {
        try {
          n.rn.step(m);
        } catch (e) {
          if (!isRaftError(e)) throw e;
          this.line(`error: ${e.message}`);
        }
      });
    }
    return mine.length;
  }

  /** True when messages wait for node `id`. */
  hasMessagesFor(id: number): boolean {
    return this.messages.some((m) => m.to === id);
  }

  /**
   * Handles Readies, runs append/apply threads and delivers messages among `ids` until nothing
   * is left to do.
   */
  stabilize(ids: readonly number[]): void {
    for (;;) {
      let done = true;
      for (const id of ids) {
        if (this.node(id).rn.hasReady()) {
          done = false;
          this.processReady(id);
        }
      }
      for (const id of ids) {
        if (this.hasMessagesFor(id)) {
          done = false;
          this.line(`> ${id} receiving messages`);
          this.withIndent(() => this.deliverMsgs(id));
        }
      }
      for (const id of ids) {
        if (this.node(id).appendWork.length > 0) {
          done = false;
          this.line(`> ${id} processing append thread`);
          this.withIndent(() => {
            while (this.node(id).appendWork.length > 0) this.processAppendThread(id);
          });
        }
      }
      for (const id of ids) {
        if (this.node(id).applyWork.length > 0) {
          done = false;
          this.line(`> ${id} processing apply thread`);
          this.withIndent(() => this.processApplyThread(id));
        }
      }
      if (done) return;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Printing.

  private printReady(rd: Ready): void {
    this.line(`Ready #${rd.number}${rd.mustSync ? ' mustSync' : ''}:`);
    if (rd.softState !== undefined) this.line(`soft: ${describeSoftState(rd.softState)}`);
    if (rd.hardState !== undefined) this.line(`hard: ${describeHardState(rd.hardState)}`);
    this.printEntries('entries:', rd.entries);
    if (rd.snapshot !== undefined && !isEmptySnapshot(rd.snapshot)) this.line(`snapshot ${describeSnapshot(rd.snapshot)}`);
    this.printEntries('committed:', rd.committedEntries);
    if (rd.readStates.length > 0) {
      this.line('read states:');
      this.withIndent(() => rd.readStates.forEach((rs) => this.line(describeReadState(rs))));
    }
    this.printMessages('send:', rd.messages);
    this.printMessages('send after persisting:', rd.persistedMessages);
  }

  private printEntries(title: string, ents: readonly Entry[]): void {
    if (ents.length === 0) return;
    this.line(title);
    this.withIndent(() => ents.forEach((e) => this.line(describeEntry(e))));
  }

  private printMessages(title: string, msgs: readonly Message[]): void {
    if (msgs.length === 0) return;
    this.line(title);
    this.withIndent(() => msgs.forEach((m) => this.line(describeMessage(m))));
  }

  describeConfState(n: EnvNode): string {
    return describeConfState(n.confState);
  }
}

function encodeState(state: readonly string[]): Uint8Array {
  return enc.encode(state.join(','));
}

function decodeState(data: Uint8Array): string[] {
  const s = dec.decode(data);
  return s === '' ? [] : s.split(',');
}
