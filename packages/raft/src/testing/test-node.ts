/**
 * A raft node for tests that handles its Readies synchronously and completely: it persists to a
 * MemoryLogStorage, applies committed entries (conf changes included) to a list, and returns
 * every message to send. Unit and paper tests drive nodes with it; `Network` connects several.
 */
import type { AnyConfChange } from '../conf-change.js';
import { confChangeFromEntry } from '../conf-change.js';
import type { Config } from '../config.js';
import { RawNode } from '../raw-node.js';
import type { Ready } from '../raw-node.js';
import type { ConfState, Entry, Message, ReadState } from '../types.js';
import { EntryType, emptyConfState, isEmptySnapshot } from '../types.js';
import { MemoryLogStorage } from './memory-storage.js';
import { SeededRng } from './rng.js';

export interface TestNodeOptions extends Partial<Omit<Config, 'id'>> {
  /** The storage to start from (default: a bootstrapped one with `peers` as voters at index 0). */
  storage?: MemoryLogStorage;
  /** Seed for the election-timeout randomness (default: the id). */
  seed?: number;
}

export class TestNode {
  readonly rn: RawNode;
  readonly storage: MemoryLogStorage;
  /** Entries applied so far, in order. */
  readonly applied: Entry[] = [];
  /** Read states received so far. */
  readonly readStates: ReadState[] = [];
  /** The configuration after the last applied conf change or snapshot. */
  confState: ConfState;

  constructor(
    readonly id: number,
    peers: readonly number[],
    opts: TestNodeOptions = {},
  ) {
    const { storage, seed, ...cfg } = opts;
    this.storage = storage ?? MemoryLogStorage.bootstrap({ ...emptyConfState(), voters: [...peers] }, 0);
    this.confState = this.storage.initialState().confState;
    this.rn = new RawNode(
      { id, electionTick: 10, heartbeatTick: 1, rng: new SeededRng(seed ?? id), maxInflightMsgs: 256, maxSizePerMsg: Infinity, ...cfg },
      this.storage,
    );
  }

  /** Handles one Ready completely (sync flow) and returns all messages it produced. */
  handleReady(): Message[] {
    const rd = this.rn.ready();
    const out: Message[] = [...rd.messages];
    this.persist(rd);
    this.apply(rd.committedEntries);
    for (const rs of rd.readStates) this.readStates.push(rs);
    out.push(...rd.persistedMessages);
    const light = this.rn.advance(rd);
    if (light.commitIndex !== undefined) this.storage.setHardState({ ...this.storage.getHardState(), commit: light.commitIndex });
    this.apply(light.committedEntries);
    out.push(...light.messages);
    this.rn.advanceApply();
    return out;
  }

  /** Handles Readies until there are none; returns every message. */
  readMessages(): Message[] {
    const out: Message[] = [];
    while (this.rn.hasReady()) out.push(...this.handleReady());
    return out;
  }

  private persist(rd: Ready): void {
    if (rd.snapshot !== undefined && !isEmptySnapshot(rd.snapshot)) {
      this.storage.applySnapshot(rd.snapshot);
      this.confState = rd.snapshot.metadata.confState;
    }
    if (rd.entries.length > 0) this.storage.append(rd.entries);
    if (rd.hardState !== undefined) this.storage.setHardState(rd.hardState);
  }

  private apply(ents: readonly Entry[]): void {
    for (const e of ents) {
      this.applied.push(e);
      if (e.entryType !== EntryType.EntryNormal) {
        const cc: AnyConfChange = confChangeFromEntry(e);
        this.confState = this.rn.applyConfChange(cc);
        this.storage.setConfState(this.confState);
      }
    }
  }
}
