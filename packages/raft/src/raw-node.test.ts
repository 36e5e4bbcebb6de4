import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeConfChangeV2 } from './codec.js';
import { RaftCodes, isRaftError } from './errors.js';
import { RawNode } from './raw-node.js';
import { MemoryLogStorage } from './testing/memory-storage.js';
import { Network } from './testing/network.js';
import { SeededRng } from './testing/rng.js';
import { TestNode } from './testing/test-node.js';
import type { ConfChangeV2, Entry, Message } from './types.js';
import {
  ConfChangeTransition,
  ConfChangeType,
  EntryType,
  MessageType,
  ReadOnlyOption,
  SnapshotStatus,
  StateRole,
  emptyConfState,
  newMessage,
} from './types.js';
import { ProgressState } from './tracker/progress.js';

const enc = new TextEncoder();
const data = (s: string) => enc.encode(s);
const msg = (t: MessageType, from: number, to: number, f: Partial<Message> = {}): Message => Object.assign(newMessage(t, to, from, 0), f);
const voters = (...v: number[]) => ({ ...emptyConfState(), voters: v });

function cluster(n: number, opts = {}): { net: Network; nodes: TestNode[] } {
  const ids = Array.from({ length: n }, (_, i) => i + 1);
  const nodes = ids.map((id) => new TestNode(id, ids, opts));
  return { net: new Network(nodes), nodes };
}

function electFirst(net: Network, nodes: TestNode[]): TestNode {
  nodes[0]!.rn.campaign();
  net.stabilize();
  expect(nodes[0]!.rn.raftState).toBe(StateRole.Leader);
  return nodes[0]!;
}

describe('RawNode: input checks', () => {
  it('refuses local message types and responses from non-members, changing nothing', () => {
    const n = new TestNode(1, [1, 2]);
    for (const t of [MessageType.MsgHup, MessageType.MsgBeat, MessageType.MsgUnreachable, MessageType.MsgSnapStatus, MessageType.MsgCheckQuorum]) {
      expect(() => n.rn.step(msg(t, 2, 1, { term: 1 }))).toThrow(expect.objectContaining({ code: RaftCodes.STEP_LOCAL_MSG }));
    }
    expect(() => n.rn.step(msg(MessageType.MsgAppResp, 9, 1, { term: 1 }))).toThrow(expect.objectContaining({ code: RaftCodes.STEP_PEER_NOT_FOUND }));
    expect(n.rn.term).toBe(0);
    expect(n.rn.hasReady()).toBe(false);
  });

  it('refuses malformed messages with INVALID_MESSAGE', () => {
    const n = new TestNode(1, [1, 2]);
    const bad: Partial<Message>[] = [
      { msgType: 99 as MessageType },
      { to: 2 },
      { term: -1 },
      { term: 1.5 },
      { msgType: MessageType.MsgVote, term: 0 },
      { msgType: MessageType.MsgApp, term: 2, index: 0, entries: [{ entryType: 0, term: 1, index: 2, data: new Uint8Array() }] },
      { msgType: MessageType.MsgApp, term: 1, index: 0, entries: [{ entryType: 0, term: 2, index: 1, data: new Uint8Array() }] },
      { msgType: MessageType.MsgApp, term: 2, index: 0, entries: [{ entryType: 7 as EntryType, term: 1, index: 1, data: new Uint8Array() }] },
      { msgType: MessageType.MsgSnap, term: 2 },
      { msgType: MessageType.MsgReadIndex, entries: [] },
      { msgType: MessageType.MsgProp, entries: [] },
      { msgType: MessageType.MsgHeartbeat, term: 1, from: 0 },
    ];
    for (const f of bad) {
      const m = Object.assign(msg(MessageType.MsgApp, 2, 1, { term: 1 }), f);
      expect(() => n.rn.step(m), JSON.stringify(f)).toThrow(expect.objectContaining({ code: RaftCodes.INVALID_MESSAGE }));
    }
    expect(n.rn.term).toBe(0);
  });

  it('never crashes on random messages: every refusal is a typed RaftError (fuzz)', () => {
    const arbMsg = fc.record({
      msgType: fc.integer({ min: -1, max: 20 }),
      to: fc.constantFrom(1, 2),
      from: fc.integer({ min: 0, max: 4 }),
      term: fc.integer({ min: 0, max: 4 }),
      logTerm: fc.integer({ min: 0, max: 4 }),
      index: fc.integer({ min: 0, max: 6 }),
      commit: fc.integer({ min: 0, max: 3 }),
      reject: fc.boolean(),
      rejectHint: fc.integer({ min: 0, max: 6 }),
      nEntries: fc.integer({ min: 0, max: 3 }),
    });
    fc.assert(
      fc.property(fc.array(arbMsg, { maxLength: 25 }), (ms) => {
        const n = new TestNode(1, [1, 2, 3]);
        for (const r of ms) {
          const m = newMessage(r.msgType as MessageType, r.to, r.from, r.term);
          Object.assign(m, { logTerm: r.logTerm, index: r.index, commit: Math.min(r.commit, r.index), reject: r.reject, rejectHint: r.rejectHint });
          m.entries = Array.from({ length: r.nEntries }, (_, i) => ({ entryType: EntryType.EntryNormal, term: Math.min(r.logTerm + 1, r.term), index: r.index + 1 + i, data: new Uint8Array() }));
          try {
            n.rn.step(m);
          } catch (e) {
            if (!isRaftError(e)) throw e;
          }
          n.readMessages();
        }
      }),
      { numRuns: 300 },
    );
  });

  it('validates the config with typed errors', () => {
    const s = MemoryLogStorage.bootstrap(voters(1), 0);
    const rng = new SeededRng(1);
    const bad = [
      { id: 0, electionTick: 10, heartbeatTick: 1, rng },
      { id: 1, electionTick: 1, heartbeatTick: 1, rng },
      { id: 1, electionTick: 10, heartbeatTick: 0, rng },
      { id: 1, electionTick: 10, heartbeatTick: 1, rng, maxInflightMsgs: 0 },
      { id: 1, electionTick: 10, heartbeatTick: 1, rng, readOnlyOption: ReadOnlyOption.LeaseBased },
      { id: 1, electionTick: 10, heartbeatTick: 1, rng, maxSizePerMsg: -1 },
      { id: 1, electionTick: 10, heartbeatTick: 1, rng, applied: 5 },
      { id: 1, electionTick: 10, heartbeatTick: 1, rng: {} as SeededRng },
    ];
    for (const c of bad) expect(() => new RawNode(c, s), JSON.stringify({ ...c, rng: undefined })).toThrow(expect.objectContaining({ code: RaftCodes.CONFIG_INVALID }));
  });

  it('refuses an inconsistent initial state', () => {
    const s = MemoryLogStorage.bootstrap(voters(1, 2), 0);
    s.setHardState({ term: 1, vote: 0, commit: 5 });
    expect(() => new RawNode({ id: 1, electionTick: 10, heartbeatTick: 1, rng: new SeededRng(1) }, s)).toThrow(expect.objectContaining({ code: RaftCodes.STORE_INCONSISTENT }));
    const s2 = MemoryLogStorage.bootstrap({ ...emptyConfState(), voters: [1], learners: [1] }, 0);
    expect(() => new RawNode({ id: 1, electionTick: 10, heartbeatTick: 1, rng: new SeededRng(1) }, s2)).toThrow(expect.objectContaining({ code: RaftCodes.STORE_INCONSISTENT }));
  });
});

describe('RawNode: the Ready protocol', () => {
  it('a single node elects itself, persists, then commits and hands out its entries', () => {
    const n = new TestNode(1, [1]);
    n.rn.campaign();
    const rd1 = n.rn.ready();
    expect(rd1.number).toBe(1);
    expect(rd1.softState).toEqual({ lead: 1, raftState: StateRole.Leader });
    expect(rd1.hardState).toEqual({ term: 1, vote: 1, commit: 0 });
    expect(rd1.entries.map((e) => e.index)).toEqual([1]);
    expect(rd1.mustSync).toBe(true);
    expect(rd1.committedEntries).toEqual([]);
    n.storage.append(rd1.entries);
    n.storage.setHardState(rd1.hardState!);
    const light = n.rn.advanceAppend(rd1);
    expect(light.commitIndex).toBe(1);
    expect(light.committedEntries.map((e) => e.index)).toEqual([1]);
    n.rn.advanceApply();
    n.rn.propose(data('foo'));
    const rd2 = n.rn.ready();
    expect(rd2.number).toBe(2);
    expect(rd2.hardState).toBeUndefined(); // the commit index came with the LightReady
    expect(rd2.entries.map((e) => [e.index, new TextDecoder().decode(e.data)])).toEqual([[2, 'foo']]);
    n.storage.append(rd2.entries);
    const light2 = n.rn.advance(rd2);
    expect(light2.committedEntries.map((e) => e.index)).toEqual([2]);
    n.rn.advanceApply();
    expect(n.rn.hasReady()).toBe(false);
    expect(n.rn.basicStatus()).toMatchObject({ commit: 2, applied: 2, persisted: 2, committedEntryInCurrentTerm: true });
  });

  it('mustSync is false when only the commit index changed', () => {
    const s = MemoryLogStorage.bootstrap(voters(1, 2, 3), 0);
    s.append([{ entryType: 0, term: 1, index: 1, data: data('x') }]);
    s.setHardState({ term: 1, vote: 1, commit: 0 });
    const f = new TestNode(2, [1, 2, 3], { storage: s });
    f.rn.step(msg(MessageType.MsgHeartbeat, 1, 2, { term: 1, commit: 1 }));
    const rd = f.rn.ready();
    expect(rd.hardState?.commit).toBe(1);
    expect(rd.mustSync).toBe(false);
  });

  it('a follower holds its responses until persisted; a leader sends appends at once', () => {
    const { net, nodes } = cluster(3);
    const leader = electFirst(net, nodes);
    leader.rn.propose(data('x'));
    const lrd = leader.rn.ready();
    expect(lrd.messages.map((m) => m.msgType)).toEqual([MessageType.MsgApp, MessageType.MsgApp]);
    expect(lrd.persistedMessages).toEqual([]);
    const f = nodes[1]!;
    f.rn.step(lrd.messages[0]!);
    const frd = f.rn.ready();
    expect(frd.messages).toEqual([]);
    expect(frd.persistedMessages.map((m) => m.msgType)).toEqual([MessageType.MsgAppResp]);
  });

  it('async flow: several Readies in flight, acknowledged together; commit waits for durability', () => {
    const n = new TestNode(1, [1]);
    n.rn.campaign();
    const rds = [];
    for (let i = 0; i < 3; i++) {
      if (i > 0) n.rn.propose(data(`p${i}`));
      const rd = n.rn.ready();
      n.storage.append(rd.entries);
      if (rd.hardState) n.storage.setHardState(rd.hardState);
      n.rn.advanceAppendAsync(rd);
      rds.push(rd);
    }
    expect(rds.map((r) => r.number)).toEqual([1, 2, 3]);
    expect(n.rn.commitIndex).toBe(0); // nothing durable yet
    n.rn.onPersistReady(2);
    expect(n.rn.commitIndex).toBe(2);
    const rd4 = n.rn.ready();
    expect(rd4.committedEntries.map((e) => e.index)).toEqual([1, 2]);
    n.rn.advanceAppendAsync(rd4);
    n.rn.onPersistReady(4);
    expect(n.rn.commitIndex).toBe(3);
    n.rn.advanceApplyTo(2);
    expect(n.rn.appliedIndex).toBe(2);
    const rd5 = n.rn.ready();
    expect(rd5.committedEntries.map((e) => e.index)).toEqual([3]);
  });

  it('a stale persistence acknowledgement does not count entries that were since replaced (ABA)', () => {
    const n = new TestNode(2, [1, 2, 3]);
    n.rn.step(msg(MessageType.MsgApp, 1, 2, { term: 1, entries: [{ entryType: 0, term: 1, index: 1, data: data('a') }], commit: 0 }));
    const rd1 = n.rn.ready();
    n.storage.append(rd1.entries);
    n.rn.advanceAppendAsync(rd1);
    // A new leader replaces index 1 before the first write is durable.
    n.rn.step(msg(MessageType.MsgApp, 3, 2, { term: 2, entries: [{ entryType: 0, term: 2, index: 1, data: data('b') }], commit: 0 }));
    const rd2 = n.rn.ready();
    n.storage.append(rd2.entries);
    n.rn.advanceAppendAsync(rd2);
    n.rn.onPersistReady(1);
    expect(n.rn.basicStatus().persisted).toBe(0);
    n.rn.onPersistReady(2);
    expect(n.rn.basicStatus().persisted).toBe(1);
  });

  it('paginates committed entries by maxCommittedSizePerReady, without skipping any after a restart', () => {
    const s = MemoryLogStorage.bootstrap(voters(1), 0);
    s.append(Array.from({ length: 5 }, (_, i): Entry => ({ entryType: 0, term: 1, index: i + 1, data: new Uint8Array(100) })));
    s.setHardState({ term: 1, vote: 1, commit: 5 });
    const rn = new RawNode({ id: 1, electionTick: 10, heartbeatTick: 1, rng: new SeededRng(1), maxCommittedSizePerReady: 250, applied: 1 }, s);
    const seen: number[] = [];
    while (rn.hasReady()) {
      const rd = rn.ready();
      seen.push(...rd.committedEntries.map((e) => e.index));
      // The LightReady carries the next page: it must be applied too.
      const light = rn.advance(rd);
      seen.push(...light.committedEntries.map((e) => e.index));
      rn.advanceApply();
    }
    expect(seen).toEqual([2, 3, 4, 5]);
  });

  it('restarts from storage with its log, hard state and applied index', () => {
    const { net, nodes } = cluster(3);
    const leader = electFirst(net, nodes);
    for (let i = 0; i < 5; i++) leader.rn.propose(data(`e${i}`));
    net.stabilize();
    const f = nodes[1]!;
    const applied = f.rn.appliedIndex;
    expect(applied).toBe(6);
    const again = new RawNode({ id: 2, electionTick: 10, heartbeatTick: 1, rng: new SeededRng(2), applied }, f.storage);
    expect(again.basicStatus()).toMatchObject({ term: 1, commit: 6, applied: 6, lastIndex: 6, raftState: StateRole.Follower, lead: 0 });
    expect(again.hasReady()).toBe(false);
  });

  it('restarts from a snapshot', () => {
    const s = MemoryLogStorage.bootstrap(voters(1, 2, 3), 10, 3);
    s.setHardState({ term: 3, vote: 0, commit: 10 });
    s.append([{ entryType: 0, term: 3, index: 11, data: data('x') }]);
    const rn = new RawNode({ id: 1, electionTick: 10, heartbeatTick: 1, rng: new SeededRng(1), applied: 10 }, s);
    expect(rn.basicStatus()).toMatchObject({ commit: 10, applied: 10, lastIndex: 11 });
    expect(rn.status().config.voters).toEqual([1, 2, 3]);
  });
});

describe('RawNode: requests', () => {
  it('proposals on a follower are forwarded, or dropped without a leader or with forwarding disabled', () => {
    const n = new TestNode(2, [1, 2, 3]);
    expect(() => n.rn.propose(data('x'))).toThrow(expect.objectContaining({ code: RaftCodes.PROPOSAL_DROPPED }));
    n.rn.step(msg(MessageType.MsgHeartbeat, 1, 2, { term: 1 }));
    n.readMessages();
    n.rn.propose(data('x'));
    const [fwd] = n.readMessages();
    expect(fwd).toMatchObject({ msgType: MessageType.MsgProp, from: 2, to: 1, term: 0 });
    const off = new TestNode(2, [1, 2, 3], { disableProposalForwarding: true });
    off.rn.step(msg(MessageType.MsgHeartbeat, 1, 2, { term: 1 }));
    expect(() => off.rn.propose(data('x'))).toThrow(expect.objectContaining({ code: RaftCodes.PROPOSAL_DROPPED }));
  });

  it('a forwarded proposal reaches the leader and commits everywhere', () => {
    const { net, nodes } = cluster(3);
    electFirst(net, nodes);
    nodes[2]!.rn.propose(data('via follower'));
    net.stabilize();
    for (const n of nodes) expect(n.applied.map((e) => new TextDecoder().decode(e.data))).toContain('via follower');
  });

  it('bounds the uncommitted log under a partition; empty entries still fit', () => {
    const { net, nodes } = cluster(3, { maxUncommittedEntriesSize: 1000 });
    const leader = electFirst(net, nodes);
    net.isolate(1);
    let accepted = 0;
    let dropped = 0;
    for (let i = 0; i < 20; i++) {
      try {
        leader.rn.propose(new Uint8Array(100));
        accepted++;
      } catch (e) {
        expect(isRaftError(e, RaftCodes.PROPOSAL_DROPPED)).toBe(true);
        dropped++;
      }
      net.stabilize();
    }
    expect(accepted).toBe(10);
    expect(dropped).toBe(10);
    expect(leader.rn.basicStatus().uncommittedSize).toBe(1000);
    // Once the followers are back, committing frees the budget.
    net.recover();
    leader.rn.tick();
    net.stabilize();
    expect(leader.rn.basicStatus().uncommittedSize).toBe(0);
    leader.rn.propose(new Uint8Array(100));
  });

  it('ReadIndex on a single node answers at once; on three nodes after a heartbeat quorum', () => {
    const single = new TestNode(1, [1]);
    single.rn.campaign();
    single.readMessages();
    single.rn.readIndex(data('r1'));
    single.readMessages();
    expect(single.readStates).toEqual([{ index: 1, requestCtx: data('r1') }]);

    const { net, nodes } = cluster(3);
    const leader = electFirst(net, nodes);
    leader.rn.readIndex(data('r2'));
    const hb = leader.readMessages();
    expect(hb.map((m) => [m.msgType, m.to, new TextDecoder().decode(m.context ?? new Uint8Array())])).toEqual([
      [MessageType.MsgHeartbeat, 2, 'r2'],
      [MessageType.MsgHeartbeat, 3, 'r2'],
    ]);
    expect(leader.readStates).toEqual([]);
    net.send(...hb);
    expect(leader.readStates).toEqual([{ index: 1, requestCtx: data('r2') }]);
    // From a follower: forwarded, answered with MsgReadIndexResp.
    nodes[1]!.rn.readIndex(data('r3'));
    net.stabilize();
    expect(nodes[1]!.readStates).toEqual([{ index: 1, requestCtx: data('r3') }]);
  });

  it('proposes and applies simple and joint conf changes, leaving joint automatically or explicitly', () => {
    const { net, nodes } = cluster(3);
    const leader = electFirst(net, nodes);
    // Add learner 4 (simple). It starts empty and catches up by snapshot.
    leader.rn.proposeConfChange({ id: 0, changeType: ConfChangeType.AddLearnerNode, nodeId: 4, context: new Uint8Array() });
    net.stabilize();
    expect(leader.confState.learners).toEqual([4]);
    const applied = leader.rn.appliedIndex;
    leader.storage.createSnapshot(applied, leader.confState, new Uint8Array());
    leader.storage.compact(applied);
    const n4 = new TestNode(4, [], { storage: MemoryLogStorage.bootstrap(emptyConfState(), 0) });
    net.nodes.set(4, n4);
    leader.rn.tick();
    net.stabilize();
    expect(n4.confState.learners).toEqual([4]);
    // Promote 4 and demote 3 in one joint change that leaves automatically.
    const cc: ConfChangeV2 = {
      transition: ConfChangeTransition.Auto,
      changes: [
        { changeType: ConfChangeType.AddNode, nodeId: 4 },
        { changeType: ConfChangeType.AddLearnerNode, nodeId: 3 },
      ],
      context: new Uint8Array(),
    };
    leader.rn.proposeConfChange(cc);
    net.stabilize();
    expect(leader.confState).toEqual({ voters: [1, 2, 4], learners: [3], votersOutgoing: [], learnersNext: [], autoLeave: false });
    // Explicit: stays joint until the application proposes leaving.
    leader.rn.proposeConfChange({ ...cc, transition: ConfChangeTransition.Explicit, changes: [{ changeType: ConfChangeType.AddNode, nodeId: 3 }] });
    net.stabilize();
    expect(leader.confState.votersOutgoing).toEqual([1, 2, 4]);
    expect(leader.confState.autoLeave).toBe(false);
    // A second change while joint is refused (turned into an empty entry).
    leader.rn.proposeConfChange({ transition: ConfChangeTransition.Auto, changes: [{ changeType: ConfChangeType.RemoveNode, nodeId: 2 }], context: new Uint8Array() });
    net.stabilize();
    expect(leader.confState.voters).toEqual([1, 2, 3, 4]);
    leader.rn.proposeConfChange({ transition: ConfChangeTransition.Auto, changes: [], context: new Uint8Array() });
    net.stabilize();
    expect(leader.confState).toEqual({ voters: [1, 2, 3, 4], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false });
    for (const n of nodes) expect(n.confState).toEqual(leader.confState);
  });

  it('refuses a conf change with bad bytes as a whole, appending nothing', () => {
    const n = new TestNode(1, [1]);
    n.rn.campaign();
    n.readMessages();
    const last = n.rn.basicStatus().lastIndex;
    const m = newMessage(MessageType.MsgProp, 0, 1, 0);
    m.entries = [
      { entryType: EntryType.EntryNormal, term: 0, index: 0, data: data('ok') },
      { entryType: EntryType.EntryConfChangeV2, term: 0, index: 0, data: new Uint8Array([0x12, 0x09]) },
    ];
    expect(() => n.rn.raft.step(m)).toThrow(expect.objectContaining({ code: RaftCodes.CODEC_ERROR }));
    expect(n.rn.basicStatus().lastIndex).toBe(last);
  });

  it('applyConfChange refuses an invalid change without changing the configuration', () => {
    const n = new TestNode(1, [1, 2]);
    const before = n.rn.status().config;
    expect(() => n.rn.applyConfChange({ transition: 0, changes: [], context: new Uint8Array() })).toThrow(expect.objectContaining({ code: RaftCodes.CONF_CHANGE_ERROR }));
    expect(() =>
      n.rn.applyConfChange({
        transition: 0,
        changes: [
          { changeType: ConfChangeType.RemoveNode, nodeId: 1 },
          { changeType: ConfChangeType.RemoveNode, nodeId: 2 },
        ],
        context: new Uint8Array(),
      }),
    ).toThrow(expect.objectContaining({ code: RaftCodes.CONF_CHANGE_ERROR }));
    expect(n.rn.status().config).toEqual(before);
    // The encoding of the leave-joint change is empty bytes.
    expect(encodeConfChangeV2({ transition: 0, changes: [], context: new Uint8Array() }).length).toBe(0);
  });

  it('transfers leadership, and reports status of progress', () => {
    const { net, nodes } = cluster(3);
    const leader = electFirst(net, nodes);
    const st = leader.rn.status();
    expect([...st.progress.keys()]).toEqual([1, 2, 3]);
    expect(st.progress.get(2)).toMatchObject({ state: ProgressState.Replicate, match: 1, next: 2, recentActive: true });
    nodes[2]!.rn.transferLeader(3); // via a follower: forwarded to the leader
    net.stabilize();
    expect(nodes[2]!.rn.raftState).toBe(StateRole.Leader);
    expect(nodes[0]!.rn.lead).toBe(3);
  });

  it('reportUnreachable and reportSnapshot feed back into progress', () => {
    const { net, nodes } = cluster(3);
    const leader = electFirst(net, nodes);
    leader.rn.reportUnreachable(2);
    expect(leader.rn.status().progress.get(2)!.state).toBe(ProgressState.Probe);
    leader.rn.reportSnapshot(2, SnapshotStatus.Finish); // not in Snapshot state: ignored
    expect(leader.rn.status().progress.get(2)!.state).toBe(ProgressState.Probe);
  });

  it('holdAppends: a held follower gets no entries; released, it gets what it missed at once', () => {
    const { net, nodes } = cluster(3);
    const leader = electFirst(net, nodes);
    leader.rn.holdAppends(3, true);
    nodes[1]!.rn.holdAppends(3, true); // on a follower: nothing
    for (let i = 0; i < 3; i++) leader.rn.propose(data(`x${i}`));
    net.stabilize();
    expect(nodes[1]!.storage.lastIndex()).toBe(4);
    expect(nodes[2]!.storage.lastIndex()).toBe(1);
    expect(leader.rn.status().progress.get(3)!.paused).toBe(true);
    // heartbeats and their answers do not bring the entries either
    for (let i = 0; i < 5; i++) {
      leader.rn.tick();
      net.stabilize();
    }
    expect(nodes[2]!.storage.lastIndex()).toBe(1);
    expect(nodes[2]!.rn.lead).toBe(1);
    leader.rn.holdAppends(3, false);
    net.stabilize();
    expect(nodes[2]!.storage.lastIndex()).toBe(4);
    expect(leader.rn.status().progress.get(3)!.paused).toBe(false);
  });

  it('retries sends after the storage fetched entries asynchronously', () => {
    const { net, nodes } = cluster(3);
    const leader = electFirst(net, nodes);
    net.isolate(3);
    for (let i = 0; i < 3; i++) leader.rn.propose(data(`x${i}`));
    net.stabilize();
    net.recover();
    leader.storage.asyncFetch = true;
    leader.rn.tick();
    net.stabilize();
    expect(leader.storage.pendingFetches.length).toBeGreaterThan(0);
    expect(nodes[2]!.storage.lastIndex()).toBe(1);
    leader.storage.asyncFetch = false;
    for (const ctx of leader.storage.pendingFetches.splice(0)) leader.rn.onEntriesFetched(ctx);
    net.stabilize();
    expect(nodes[2]!.storage.lastIndex()).toBe(4);
    expect(() => leader.rn.onEntriesFetched({ kind: 'apply', canAsync: false })).toThrow(expect.objectContaining({ code: RaftCodes.INVALID_MESSAGE }));
  });

  it('retries a snapshot send once the storage generated it', () => {
    const { net, nodes } = cluster(3);
    const leader = electFirst(net, nodes);
    net.isolate(3);
    for (let i = 0; i < 3; i++) leader.rn.propose(data(`x${i}`));
    net.stabilize();
    leader.storage.createSnapshot(4, leader.confState, data('snap'));
    leader.storage.compact(4);
    leader.storage.snapshotUnavailable = true;
    net.recover();
    leader.rn.tick();
    net.stabilize();
    expect(nodes[2]!.storage.lastIndex()).toBe(1);
    leader.storage.snapshotUnavailable = false;
    leader.rn.onSnapshotGenerated(3);
    net.stabilize();
    expect(nodes[2]!.storage.latestSnapshot().metadata.index).toBe(4);
    // The follower's answer to the snapshot moves it back to Replicate.
    expect(leader.rn.status().progress.get(3)).toMatchObject({ state: ProgressState.Replicate, match: 4 });
  });
});
