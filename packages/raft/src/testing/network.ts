/**
 * An in-process network of TestNodes for unit tests (etcd raft_test.go's `network`): delivers
 * messages breadth-first until quiet, with link cuts, isolation, dropped message types and
 * random drops.
 */
import { isRaftError } from '../errors.js';
import type { Message, MessageType } from '../types.js';
import { SeededRng } from './rng.js';
import type { TestNode } from './test-node.js';

export class Network {
  readonly nodes = new Map<number, TestNode>();
  private readonly dropRates = new Map<string, number>();
  private readonly ignored = new Set<MessageType>();
  private readonly rng: SeededRng;
  /** Called for every message about to be delivered; return false to drop it. */
  msgHook: ((m: Message) => boolean) | undefined;

  constructor(nodes: readonly TestNode[], seed = 1) {
    for (const n of nodes) this.nodes.set(n.id, n);
    this.rng = new SeededRng(seed);
  }

  get(id: number): TestNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  /** Delivers `msgs` and everything they cause, until no messages are left. */
  send(...msgs: Message[]): void {
    const queue = [...msgs];
    for (const n of this.nodes.values()) queue.push(...this.filter(n.readMessages()));
    while (queue.length > 0) {
      const m = queue.shift()!;
      const n = this.nodes.get(m.to);
      if (n === undefined) continue;
      try {
        n.rn.step(m);
      } catch (e) {
        // Refusals (dropped proposals, responses from removed peers) are outcomes, not failures.
        if (!isRaftError(e)) throw e;
      }
      queue.push(...this.filter(n.readMessages()));
    }
  }

  /** Settles every node's pending Readies (and whatever they cause). */
  stabilize(): void {
    this.send();
  }

  /** Drops a fraction `rate` of messages from `from` to `to`. */
  drop(from: number, to: number, rate: number): void {
    this.dropRates.set(`${from}-${to}`, rate);
  }

  /** Cuts the link between two nodes both ways. */
  cut(a: number, b: number): void {
    this.drop(a, b, 1);
    this.drop(b, a, 1);
  }

  /** Cuts every link of `id`. */
  isolate(id: number): void {
    for (const other of this.nodes.keys()) if (other !== id) this.cut(id, other);
  }

  /** Drops every message of type `t`. */
  ignore(t: MessageType): void {
    this.ignored.add(t);
  }

  /** Restores every link and message type. */
  recover(): void {
    this.dropRates.clear();
    this.ignored.clear();
  }

  private filter(msgs: Message[]): Message[] {
    return msgs.filter((m) => {
      if (this.ignored.has(m.msgType)) return false;
      const rate = this.dropRates.get(`${m.from}-${m.to}`) ?? 0;
      if (rate > 0 && (rate >= 1 || this.rng.chance(rate))) return false;
      return this.msgHook === undefined || this.msgHook(m);
    });
  }
}
