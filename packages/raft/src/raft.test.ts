/**
 * Protocol scenarios beyond the paper tests (the highlights of etcd's raft_test.go), each on a
 * small in-process network of TestNodes. Scenario scripts in testdata/ cover the rest.
 */
import { describe, expect, it } from 'vitest';
import { MemoryLogStorage } from './testing/memory-storage.js';
import { Network } from './testing/network.js';
import { TestNode } from './testing/test-node.js';
import type { TestNodeOptions } from './testing/test-node.js';
import type { Entry, Message } from './types.js';
import { ConfChangeType, EntryType, MessageType, StateRole, emptyConfState, newMessage } from './types.js';
import { ProgressState } from './tracker/progress.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const msg = (t: MessageType, from: number, to: number, f: Partial<Message> = {}): Message => Object.assign(newMessage(t, to, from, 0), f);
const ent = (term: number, index: number, d = ''): Entry => ({ entryType: EntryType.EntryNormal, term, index, data: enc.encode(d) });
const ids = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

/** A node whose storage holds entries of `terms` (at indexes 1..) and the given hard state. */
function nodeWith(id: number, peers: number[], terms: number[], hs: { term: number; vote: number }, opts: TestNodeOptions = {}): TestNode {
  const s = MemoryLogStorage.bootstrap({ ...emptyConfState(), voters: peers }, 0);
  s.append(terms.map((t, i) => ent(t, i + 1)));
  s.setHardState({ ...hs, commit: 0 });
  return new TestNode(id, peers, { ...opts, storage: s });
}

function cluster(n: number, opts: TestNodeOptions = {}): { net: Network; nodes: TestNode[] } {
  const nodes = ids(n).map((id) => new TestNode(id, ids(n), opts));
  return { net: new Network(nodes), nodes };
}

const logTerms = (n: TestNode) => n.storage.allEntries().map((e) => e.term);

describe('elections', () => {
  for (const preVote of [false, true]) {
    it(`a new leader may overwrite newer but uncommitted entries (preVote=${preVote})`, () => {
      // 1 won term 1 and replicated 1/1 to 2 only; 3 won term 2 and wrote 2/1 alone; 4 and 5
      // voted for 3 in term 2 but got nothing.
      const opts = { preVote };
      const nodes = [
        nodeWith(1, ids(5), [1], { term: 1, vote: 1 }, opts),
        nodeWith(2, ids(5), [1], { term: 1, vote: 1 }, opts),
        nodeWith(3, ids(5), [2], { term: 2, vote: 3 }, opts),
        nodeWith(4, ids(5), [], { term: 2, vote: 3 }, opts),
        nodeWith(5, ids(5), [], { term: 2, vote: 3 }, opts),
      ];
      const net = new Network(nodes);
      // A quorum knows about term 2: 1's first election fails and pushes it to term 2.
      nodes[0]!.rn.campaign();
      net.stabilize();
      expect([nodes[0]!.rn.raftState, nodes[0]!.rn.term]).toEqual([StateRole.Follower, 2]);
      // The second attempt wins term 3; its log replaces 3's uncommitted 2/1.
      nodes[0]!.rn.campaign();
      net.stabilize();
      expect([nodes[0]!.rn.raftState, nodes[0]!.rn.term]).toEqual([StateRole.Leader, 3]);
      for (const n of nodes) expect(logTerms(n)).toEqual([1, 3]);
    });
  }

  it('stale-term messages are ignored, logs stay intact', () => {
    const { net, nodes } = cluster(3);
    nodes[0]!.rn.campaign();
    net.stabilize();
    nodes[1]!.rn.campaign();
    net.stabilize();
    nodes[0]!.rn.campaign();
    net.stabilize();
    expect([nodes[0]!.rn.raftState, nodes[0]!.rn.term]).toEqual([StateRole.Leader, 3]);
    // An append from the leader of term 2 arrives late.
    net.send(msg(MessageType.MsgApp, 2, 1, { term: 2, logTerm: 2, index: 2, entries: [ent(2, 3, 'old')] }));
    nodes[0]!.rn.propose(enc.encode('somedata'));
    net.stabilize();
    for (const n of nodes) {
      expect(logTerms(n)).toEqual([1, 2, 3, 3]);
      expect(dec.decode(n.storage.allEntries()[3]!.data)).toBe('somedata');
    }
  });

  it('with PreVote, a node with a smaller term can still complete an election after a crash', () => {
    const { net, nodes } = cluster(3, { preVote: true });
    const [a, b, c] = nodes as [TestNode, TestNode, TestNode];
    net.cut(1, 3);
    net.cut(2, 3);
    a.rn.campaign();
    net.stabilize();
    c.rn.campaign(); // isolated: its pre-election fails, its term stays
    net.stabilize();
    b.rn.campaign();
    net.stabilize();
    expect([a.rn.raftState, b.rn.raftState, c.rn.raftState]).toEqual([StateRole.Follower, StateRole.Leader, StateRole.PreCandidate]);
    expect([a.rn.term, b.rn.term, c.rn.term]).toEqual([2, 2, 0]);
    // b crashes; c comes back with a smaller term. The group must still elect a leader.
    net.recover();
    net.isolate(2);
    c.rn.campaign();
    net.stabilize();
    a.rn.campaign();
    net.stabilize();
    expect(a.rn.raftState === StateRole.Leader || c.rn.raftState === StateRole.Leader).toBe(true);
  });

  it('with PreVote, a split vote is resolved by the next election', () => {
    const { net, nodes } = cluster(3, { preVote: true });
    const [, b, c] = nodes as [TestNode, TestNode, TestNode];
    nodes[0]!.rn.campaign();
    net.stabilize();
    net.isolate(1);
    b.rn.campaign();
    c.rn.campaign();
    net.stabilize();
    expect([b.rn.raftState, c.rn.raftState]).toEqual([StateRole.Candidate, StateRole.Candidate]);
    expect([b.rn.term, c.rn.term]).toEqual([2, 2]);
    b.rn.campaign();
    net.stabilize();
    expect([b.rn.raftState, c.rn.raftState, b.rn.term]).toEqual([StateRole.Leader, StateRole.Follower, 3]);
  });

  it('CheckQuorum: a stuck candidate is freed by answering the leader at its higher term', () => {
    const { net, nodes } = cluster(3, { checkQuorum: true });
    const [a, b, c] = nodes as [TestNode, TestNode, TestNode];
    a.rn.campaign();
    net.stabilize();
    net.isolate(1);
    // 2 still honours 1's lease: 3's elections go nowhere, only its own term grows.
    c.rn.campaign();
    net.stabilize();
    c.rn.campaign();
    net.stabilize();
    expect([c.rn.raftState, c.rn.term, b.rn.term]).toEqual([StateRole.Candidate, 3, 1]);
    net.recover();
    // The leader's heartbeat is answered at term 3: the leader steps down.
    a.rn.tick();
    net.stabilize();
    expect([a.rn.raftState, a.rn.term]).toEqual([StateRole.Follower, 3]);
    // Once 2's lease ran out, 3 wins.
    for (let i = 0; i < 10; i++) b.rn.tick();
    net.stabilize();
    c.rn.campaign();
    net.stabilize();
    expect(c.rn.raftState === StateRole.Leader || b.rn.raftState === StateRole.Leader).toBe(true);
  });

  it('CheckQuorum: a voter that is not in its own configuration never campaigns', () => {
    const a = new TestNode(1, [1, 2], { checkQuorum: true });
    const b = new TestNode(2, [1], { checkQuorum: true });
    const net = new Network([a, b]);
    a.rn.campaign();
    net.stabilize();
    for (let i = 0; i < 40; i++) {
      b.rn.tick();
      net.stabilize();
    }
    expect([a.rn.raftState, b.rn.raftState, b.rn.lead]).toEqual([StateRole.Leader, StateRole.Follower, 1]);
  });

  it('MsgTimeoutNow at a node outside the configuration does nothing', () => {
    const n = new TestNode(1, [2, 3, 4]);
    n.rn.step(msg(MessageType.MsgTimeoutNow, 2, 1, { term: 1 }));
    n.rn.step(msg(MessageType.MsgTimeoutNow, 3, 1, { term: 1 }));
    expect(n.rn.raftState).toBe(StateRole.Follower);
  });
});

describe('replication', () => {
  it('reordered acknowledgements are harmless', () => {
    const { net, nodes } = cluster(3);
    const leader = nodes[0]!;
    leader.rn.campaign();
    net.stabilize();
    for (const d of ['a', 'b', 'c']) leader.rn.propose(enc.encode(d));
    const apps = leader.readMessages();
    const replies: Message[] = [];
    for (const m of apps) {
      nodes[m.to - 1]!.rn.step(m);
      replies.push(...nodes[m.to - 1]!.readMessages());
    }
    replies.reverse();
    for (const r of replies) leader.rn.step(r);
    net.stabilize();
    for (const n of nodes) expect(n.applied.map((e) => dec.decode(e.data)).filter((s) => s !== '')).toEqual(['a', 'b', 'c']);
    expect(leader.rn.status().progress.get(2)).toMatchObject({ state: ProgressState.Replicate, match: 4, next: 5 });
  });

  it('an acknowledgement ends the probe wait of that follower only', () => {
    const leader = new TestNode(1, [1, 2, 3], { electionTick: 5 });
    leader.rn.campaign();
    leader.readMessages();
    leader.rn.step(msg(MessageType.MsgVoteResp, 2, 1, { term: 1 }));
    leader.readMessages(); // the first probes, carrying the no-op 1/1
    leader.rn.step(msg(MessageType.MsgAppResp, 2, 1, { term: 1, index: 1 }));
    expect(leader.rn.commitIndex).toBe(1);
    leader.readMessages();
    leader.rn.propose(enc.encode('x'));
    let ms = leader.readMessages();
    expect(ms.map((m) => [m.msgType, m.to, m.entries.map((e) => e.index)])).toEqual([[MessageType.MsgApp, 2, [2]]]);
    leader.rn.step(msg(MessageType.MsgAppResp, 3, 1, { term: 1, index: 1 }));
    ms = leader.readMessages();
    expect(ms.map((m) => [m.msgType, m.to, m.entries.map((e) => e.index)])).toEqual([[MessageType.MsgApp, 3, [2]]]);
  });

  it('an unreachable follower in Replicate goes back to Probe', () => {
    const { net, nodes } = cluster(2);
    const leader = nodes[0]!;
    leader.rn.campaign();
    net.stabilize();
    net.isolate(2);
    leader.rn.propose(enc.encode('x'));
    leader.rn.propose(enc.encode('y'));
    net.stabilize();
    expect(leader.rn.status().progress.get(2)).toMatchObject({ state: ProgressState.Replicate, match: 1, next: 4 });
    leader.rn.reportUnreachable(2);
    expect(leader.rn.status().progress.get(2)).toMatchObject({ state: ProgressState.Probe, match: 1, next: 2 });
  });

  it("removing a node shrinks the quorum, which commits what was waiting for it", () => {
    const { net, nodes } = cluster(2);
    const [a] = nodes as [TestNode, TestNode];
    a.rn.campaign();
    net.stabilize();
    net.isolate(2);
    a.rn.proposeConfChange({ id: 0, changeType: ConfChangeType.RemoveNode, nodeId: 2, context: new Uint8Array() });
    a.rn.propose(enc.encode('hello'));
    a.readMessages();
    const ccIndex = a.rn.basicStatus().lastIndex - 1;
    // 2 acknowledges only the conf change: it commits (and is applied), 'hello' does not wait.
    a.rn.step(msg(MessageType.MsgAppResp, 2, 1, { term: 1, index: ccIndex }));
    a.readMessages();
    expect(a.confState.voters).toEqual([1]);
    expect(a.rn.commitIndex).toBe(ccIndex + 1);
    expect(a.applied.map((e) => dec.decode(e.data))).toContain('hello');
  });

  it('a voter accepts a snapshot in which it is a learner, and then cannot campaign', () => {
    const n = new TestNode(3, [1, 2, 3]);
    const snap = { data: new Uint8Array(), metadata: { index: 11, term: 11, confState: { ...emptyConfState(), voters: [1, 2], learners: [3] } } };
    n.rn.step(msg(MessageType.MsgSnap, 1, 3, { term: 11, snapshot: snap }));
    n.readMessages();
    expect(n.rn.status().config).toEqual({ voters: [1, 2], learners: [3], votersOutgoing: [], learnersNext: [], autoLeave: false });
    expect(n.rn.commitIndex).toBe(11);
    n.rn.campaign();
    expect(n.rn.raftState).toBe(StateRole.Follower);
  });

  it('a snapshot with a joint configuration restores both halves', () => {
    const n = new TestNode(2, [1, 2, 3]);
    const cs = { voters: [1, 2, 4], learners: [], votersOutgoing: [1, 2, 3], learnersNext: [3], autoLeave: true };
    n.rn.step(msg(MessageType.MsgSnap, 1, 2, { term: 5, snapshot: { data: new Uint8Array(), metadata: { index: 9, term: 5, confState: cs } } }));
    n.readMessages();
    expect(n.rn.status().config).toEqual(cs);
  });

  it('a snapshot that does not include the node is refused', () => {
    const n = new TestNode(3, [1, 2, 3]);
    const cs = { ...emptyConfState(), voters: [1, 2] };
    n.rn.step(msg(MessageType.MsgSnap, 1, 3, { term: 2, snapshot: { data: new Uint8Array(), metadata: { index: 9, term: 2, confState: cs } } }));
    n.readMessages();
    expect(n.rn.commitIndex).toBe(0);
    expect(n.rn.status().config.voters).toEqual([1, 2, 3]);
  });

  it('a leader transfer to a follower that needs a snapshot completes after the snapshot', () => {
    const { net, nodes } = cluster(3);
    const [a, , c] = nodes as [TestNode, TestNode, TestNode];
    a.rn.campaign();
    net.stabilize();
    net.isolate(3);
    a.rn.propose(enc.encode('x'));
    net.stabilize();
    a.storage.createSnapshot(a.rn.appliedIndex, a.confState, new Uint8Array());
    a.storage.compact(a.rn.appliedIndex);
    net.recover();
    a.rn.transferLeader(3);
    expect(a.rn.basicStatus().leadTransferee).toBe(3);
    net.stabilize();
    a.rn.reportSnapshot(3, 0);
    net.stabilize();
    expect(c.rn.raftState).toBe(StateRole.Leader);
    expect(a.rn.lead).toBe(3);
  });
});

describe('reads', () => {
  it('a request duplicated while pending is answered once; a later duplicate is a new request', () => {
    const { net, nodes } = cluster(3);
    const a = nodes[0]!;
    a.rn.campaign();
    net.stabilize();
    a.rn.readIndex(enc.encode('x'));
    a.rn.readIndex(enc.encode('x'));
    net.stabilize();
    expect(a.readStates.map((r) => [r.index, dec.decode(r.requestCtx)])).toEqual([[1, 'x']]);
    a.rn.propose(enc.encode('w'));
    net.stabilize();
    a.rn.readIndex(enc.encode('x'));
    net.stabilize();
    expect(a.readStates.map((r) => r.index)).toEqual([1, 2]);
    expect(a.rn.raft.pendingReadCount()).toBe(0);
  });

  it('a follower (or learner) read is forwarded and answered at the leader commit index', () => {
    const a = new TestNode(1, [1, 2], { storage: MemoryLogStorage.bootstrap({ ...emptyConfState(), voters: [1, 2], learners: [3] }, 0) });
    const b = new TestNode(2, [1, 2], { storage: MemoryLogStorage.bootstrap({ ...emptyConfState(), voters: [1, 2], learners: [3] }, 0) });
    const l = new TestNode(3, [], { storage: MemoryLogStorage.bootstrap({ ...emptyConfState(), voters: [1, 2], learners: [3] }, 0) });
    const net = new Network([a, b, l]);
    a.rn.campaign();
    net.stabilize();
    l.rn.readIndex(enc.encode('from-learner'));
    net.stabilize();
    expect(l.readStates.map((r) => [r.index, dec.decode(r.requestCtx)])).toEqual([[1, 'from-learner']]);
  });

  it('a read without a leader is dropped, and nothing is held for it', () => {
    const n = new TestNode(2, [1, 2, 3]);
    n.rn.readIndex(enc.encode('x'));
    expect(n.readMessages()).toEqual([]);
    expect(n.readStates).toEqual([]);
  });
});

describe('configuration knobs', () => {
  it('maxSizePerMsg cuts MsgApp payloads (at least one entry per message)', () => {
    const { net, nodes } = cluster(2, { maxSizePerMsg: 250 });
    const leader = nodes[0]!;
    leader.rn.campaign();
    net.stabilize();
    net.isolate(2);
    for (let i = 0; i < 6; i++) leader.rn.propose(new Uint8Array(100));
    leader.rn.propose(new Uint8Array(1000));
    net.stabilize();
    net.recover();
    leader.rn.reportUnreachable(2); // probe again from the match
    const sizes: number[][] = [];
    net.msgHook = (m) => {
      if (m.msgType === MessageType.MsgApp && m.entries.length > 0) sizes.push(m.entries.map((e) => e.data.length));
      return true;
    };
    leader.rn.tick();
    net.stabilize();
    expect(sizes).toEqual([[100, 100], [100, 100], [100, 100], [1000]]);
    expect(nodes[1]!.storage.lastIndex()).toBe(leader.storage.lastIndex());
  });

  it('maxInflightBytes pauses replication by bytes in flight', () => {
    const { net, nodes } = cluster(2, { maxInflightBytes: 250 });
    const leader = nodes[0]!;
    leader.rn.campaign();
    net.stabilize();
    // Everything to 2 is lost (and counted).
    let sent = 0;
    net.msgHook = (m) => {
      if (m.msgType === MessageType.MsgApp && m.entries.length > 0 && m.to === 2) sent++;
      return m.to !== 2;
    };
    for (let i = 0; i < 5; i++) {
      leader.rn.propose(new Uint8Array(100));
      net.stabilize();
    }
    // 100 + 100 + 100 ≥ 250: the third message fills the window, the rest wait.
    expect(sent).toBe(3);
    expect(leader.rn.status().progress.get(2)).toMatchObject({ paused: true, inflight: 3 });
  });

  it('a voter with a higher priority refuses a lower-priority candidate with the same log', () => {
    const high = new TestNode(1, [1, 2, 3], { priority: 5 });
    const low = new TestNode(2, [1, 2, 3], { priority: 1 });
    low.rn.campaign();
    const [vote] = low.readMessages().filter((m) => m.to === 1);
    expect(vote).toMatchObject({ msgType: MessageType.MsgVote, priority: 1 });
    high.rn.step(vote!);
    expect(high.readMessages().map((m) => [m.msgType, m.reject])).toEqual([[MessageType.MsgVoteResp, true]]);
    // The other way round, the vote is granted.
    high.rn.campaign();
    const [v2] = high.readMessages().filter((m) => m.to === 2);
    low.rn.step(v2!);
    expect(low.readMessages().map((m) => [m.msgType, m.reject])).toEqual([[MessageType.MsgVoteResp, false]]);
  });

  it('skipBcastCommit leaves the new commit index for the next append or heartbeat', () => {
    const { net, nodes } = cluster(3, { skipBcastCommit: true });
    const leader = nodes[0]!;
    leader.rn.campaign();
    net.stabilize();
    let commitOnly = 0;
    net.msgHook = (m) => {
      if (m.msgType === MessageType.MsgApp && m.entries.length === 0) commitOnly++;
      return true;
    };
    leader.rn.propose(enc.encode('x'));
    net.stabilize();
    expect(commitOnly).toBe(0);
    expect(nodes[1]!.rn.commitIndex).toBeLessThan(leader.rn.commitIndex);
    leader.rn.tick();
    net.stabilize();
    expect(nodes[1]!.rn.commitIndex).toBe(leader.rn.commitIndex);
    // Turned off at run time, commits are broadcast again.
    leader.rn.setSkipBcastCommit(false);
    leader.rn.propose(enc.encode('y'));
    net.stabilize();
    expect(commitOnly).toBeGreaterThan(0);
    expect(nodes[1]!.rn.commitIndex).toBe(leader.rn.commitIndex);
  });
});
