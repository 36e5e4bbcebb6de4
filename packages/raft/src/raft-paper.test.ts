/**
 * One test per behaviour the Raft paper (§5.1–5.4) describes, in three parts each: init (a node
 * built from a storage, or driven there through the API), act (steps, ticks, proposals), check
 * (state, and what the Readies hand out). Tests reach the node through RawNode and the messages
 * and entries its Readies carry, not through internal shortcuts.
 */
import { describe, expect, it } from 'vitest';
import { MemoryLogStorage } from './testing/memory-storage.js';
import { Network } from './testing/network.js';
import { TestNode } from './testing/test-node.js';
import type { TestNodeOptions } from './testing/test-node.js';
import type { Entry, Message } from './types.js';
import { EntryType, MessageType, StateRole, emptyConfState, newMessage } from './types.js';

const enc = new TextEncoder();
const data = (s: string) => enc.encode(s);

function msg(msgType: MessageType, from: number, to: number, fields: Partial<Message> = {}): Message {
  return Object.assign(newMessage(msgType, to, from, 0), fields);
}

function ent(term: number, index: number, d = ''): Entry {
  return { entryType: EntryType.EntryNormal, term, index, data: data(d) };
}

function ids(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1);
}

/** A node whose storage holds `ents` and hard state `hs`. */
function nodeWith(id: number, peers: number[], ents: Entry[] = [], hs = { term: 0, vote: 0, commit: 0 }, opts: TestNodeOptions = {}): TestNode {
  const s = MemoryLogStorage.bootstrap({ ...emptyConfState(), voters: peers }, 0);
  s.append(ents);
  s.setHardState(hs);
  return new TestNode(id, peers, { ...opts, storage: s });
}

/** Campaigns and collects grants until leader; returns the leader's first messages. */
function elect(n: TestNode, voters: number[]): Message[] {
  n.rn.campaign();
  n.readMessages();
  for (const v of voters) {
    if (n.rn.raftState === StateRole.Leader) break;
    if (v === n.id) continue;
    n.rn.step(msg(MessageType.MsgVoteResp, v, n.id, { term: n.rn.term }));
  }
  expect(n.rn.raftState).toBe(StateRole.Leader);
  return n.readMessages();
}

/** Acknowledges the leader's log from every follower, committing its no-op entry. */
function commitNoop(n: TestNode, voters: number[]): void {
  const last = n.rn.basicStatus().lastIndex;
  for (const v of voters) if (v !== n.id) n.rn.step(msg(MessageType.MsgAppResp, v, n.id, { term: n.rn.term, index: last }));
  n.readMessages();
  expect(n.rn.commitIndex).toBe(last);
}

/** The reply of a follower that accepts a MsgApp. */
function acceptAndReply(m: Message): Message {
  expect(m.msgType).toBe(MessageType.MsgApp);
  return msg(MessageType.MsgAppResp, m.to, m.from, { term: m.term, index: m.index + m.entries.length });
}

const brief = (ms: Message[]) =>
  ms.map((m) => ({ type: m.msgType, from: m.from, to: m.to, term: m.term, index: m.index, logTerm: m.logTerm, commit: m.commit, reject: m.reject, n: m.entries.length }));

describe('§5.1 terms', () => {
  const higherTermMsgApp = (n: TestNode) => n.rn.step(msg(MessageType.MsgApp, 2, 1, { term: 2 }));

  it('a follower adopts a higher term from any message', () => {
    const n = new TestNode(1, [1, 2, 3]);
    higherTermMsgApp(n);
    expect([n.rn.term, n.rn.raftState, n.rn.lead]).toEqual([2, StateRole.Follower, 2]);
  });

  it('a candidate adopts a higher term and becomes follower', () => {
    const n = new TestNode(1, [1, 2, 3]);
    n.rn.campaign();
    expect(n.rn.raftState).toBe(StateRole.Candidate);
    higherTermMsgApp(n);
    expect([n.rn.term, n.rn.raftState, n.rn.lead]).toEqual([2, StateRole.Follower, 2]);
  });

  it('a leader adopts a higher term and becomes follower', () => {
    const n = new TestNode(1, [1, 2, 3]);
    elect(n, [1, 2, 3]);
    expect(n.rn.term).toBe(1);
    higherTermMsgApp(n);
    expect([n.rn.term, n.rn.raftState, n.rn.lead]).toEqual([2, StateRole.Follower, 2]);
  });

  it('a message with a stale term never reaches the role handler', () => {
    const n = nodeWith(1, [1, 2], [], { term: 2, vote: 0, commit: 0 });
    n.rn.step(msg(MessageType.MsgApp, 2, 1, { term: 1, entries: [ent(1, 1)] }));
    expect(n.rn.lead).toBe(0);
    expect(n.rn.term).toBe(2);
    expect(n.readMessages()).toEqual([]);
    expect(n.storage.lastIndex()).toBe(0);
  });
});

describe('§5.2 leader election', () => {
  it('a node starts as follower', () => {
    const n = new TestNode(1, [1, 2, 3]);
    expect(n.rn.raftState).toBe(StateRole.Follower);
  });

  it('the leader sends heartbeats with commit = min(match, committed) and no entries', () => {
    const n = new TestNode(1, [1, 2, 3]);
    elect(n, [1, 2, 3]);
    for (let i = 0; i < 10; i++) n.rn.propose(data('x'));
    n.readMessages();
    n.rn.tick(); // heartbeatTick = 1
    const ms = n.readMessages().sort((a, b) => a.to - b.to);
    expect(brief(ms)).toEqual([
      { type: MessageType.MsgHeartbeat, from: 1, to: 2, term: 1, index: 0, logTerm: 0, commit: 0, reject: false, n: 0 },
      { type: MessageType.MsgHeartbeat, from: 1, to: 3, term: 1, index: 0, logTerm: 0, commit: 0, reject: false, n: 0 },
    ]);
  });

  for (const role of ['follower', 'candidate'] as const) {
    it(`a ${role} starts an election after the election timeout: term+1, vote for self, MsgVote to all`, () => {
      const n = nodeWith(1, [1, 2, 3], [], { term: 1, vote: 0, commit: 0 });
      if (role === 'candidate') {
        n.rn.campaign();
        expect(n.rn.term).toBe(2);
      }
      n.readMessages();
      const before = n.rn.term;
      for (let i = 0; i < 20; i++) n.rn.tick();
      expect(n.rn.term).toBe(before + 1);
      expect(n.rn.raftState).toBe(StateRole.Candidate);
      expect(n.rn.basicStatus().vote).toBe(1);
      expect(brief(n.readMessages())).toEqual([
        { type: MessageType.MsgVote, from: 1, to: 2, term: before + 1, index: 0, logTerm: 0, commit: 0, reject: false, n: 0 },
        { type: MessageType.MsgVote, from: 1, to: 3, term: before + 1, index: 0, logTerm: 0, commit: 0, reject: false, n: 0 },
      ]);
    });
  }

  it('an election is decided in one round by a majority of grants or rejections', () => {
    const cases: [number, Record<number, boolean>, StateRole][] = [
      [1, {}, StateRole.Leader],
      [3, { 2: true, 3: true }, StateRole.Leader],
      [3, { 2: true }, StateRole.Leader],
      [5, { 2: true, 3: true, 4: true, 5: true }, StateRole.Leader],
      [5, { 2: true, 3: true, 4: true }, StateRole.Leader],
      [5, { 2: true, 3: true }, StateRole.Leader],
      [3, { 2: false, 3: false }, StateRole.Follower],
      [5, { 2: false, 3: false, 4: false, 5: false }, StateRole.Follower],
      [5, { 2: true, 3: false, 4: false, 5: false }, StateRole.Follower],
      [3, {}, StateRole.Candidate],
      [5, { 2: true }, StateRole.Candidate],
      [5, { 2: false, 3: false }, StateRole.Candidate],
      [5, {}, StateRole.Candidate],
    ];
    for (const [size, votes, want] of cases) {
      const n = new TestNode(1, ids(size));
      n.rn.campaign();
      for (const [id, granted] of Object.entries(votes)) {
        n.rn.step(msg(MessageType.MsgVoteResp, Number(id), 1, { term: 1, reject: !granted }));
      }
      expect({ size, votes, state: n.rn.raftState, term: n.rn.term }).toEqual({ size, votes, state: want, term: 1 });
    }
  });

  it('a follower votes at most once per term, first come first served', () => {
    const cases: [number, number, boolean][] = [
      [0, 2, false],
      [0, 3, false],
      [2, 2, false],
      [3, 3, false],
      [2, 3, true],
      [3, 2, true],
    ];
    for (const [vote, candidate, wantReject] of cases) {
      const n = nodeWith(1, [1, 2, 3], [], { term: 1, vote, commit: 0 });
      n.rn.step(msg(MessageType.MsgVote, candidate, 1, { term: 1 }));
      expect(brief(n.readMessages())).toEqual([
        { type: MessageType.MsgVoteResp, from: 1, to: candidate, term: 1, index: 0, logTerm: 0, commit: 0, reject: wantReject, n: 0 },
      ]);
    }
  });

  it('a candidate falls back to follower on an append of a term at least its own', () => {
    for (const term of [1, 2]) {
      const n = new TestNode(1, [1, 2, 3]);
      n.rn.campaign();
      n.rn.step(msg(MessageType.MsgApp, 2, 1, { term }));
      expect([n.rn.raftState, n.rn.term, n.rn.lead]).toEqual([StateRole.Follower, term, 2]);
    }
  });

  for (const role of ['follower', 'candidate'] as const) {
    it(`a ${role}'s election timeout is randomized over [et, 2et)`, () => {
      const et = 10;
      const n = new TestNode(1, [1, 2, 3], { electionTick: et });
      const seen = new Set<number>();
      for (let round = 0; round < 50 * et; round++) {
        if (role === 'follower') n.rn.step(msg(MessageType.MsgHeartbeat, 2, 1, { term: n.rn.term + 1 }));
        else n.rn.campaign();
        n.readMessages();
        let ticks = 0;
        while (n.readMessages().length === 0) {
          n.rn.tick();
          ticks++;
        }
        seen.add(ticks);
      }
      expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: et }, (_, i) => et + i));
    });
  }

  for (const role of ['followers', 'candidates'] as const) {
    it(`${role} rarely time out on the same tick (randomization avoids split votes)`, () => {
      const et = 10;
      const nodes = ids(5).map((id) => new TestNode(id, ids(5), { electionTick: et, seed: 1000 + id }));
      let conflicts = 0;
      const rounds = 1000;
      for (let round = 0; round < rounds; round++) {
        for (const n of nodes) {
          if (role === 'followers') n.rn.step(msg(MessageType.MsgHeartbeat, n.id === 1 ? 2 : 1, n.id, { term: n.rn.term + 1 }));
          else n.rn.campaign();
          n.readMessages();
        }
        let timeouts = 0;
        while (timeouts === 0) {
          for (const n of nodes) {
            n.rn.tick();
            if (n.readMessages().length > 0) timeouts++;
          }
        }
        if (timeouts > 1) conflicts++;
      }
      expect(conflicts / rounds).toBeLessThanOrEqual(0.3);
    });
  }
});

describe('§5.3 log replication', () => {
  function leader(size = 3): TestNode {
    const n = new TestNode(1, ids(size));
    elect(n, ids(size));
    commitNoop(n, ids(size));
    return n;
  }

  it('a proposal is appended at lastIndex+1, handed out to persist, and sent to every follower', () => {
    const n = leader();
    const li = n.rn.basicStatus().lastIndex;
    n.rn.propose(data('some data'));
    const rd = n.rn.ready();
    expect(rd.entries).toEqual([{ entryType: EntryType.EntryNormal, term: 1, index: li + 1, data: data('some data'), context: undefined }]);
    expect(n.rn.commitIndex).toBe(li);
    expect(rd.committedEntries).toEqual([]);
    expect(brief(rd.messages)).toEqual([
      { type: MessageType.MsgApp, from: 1, to: 2, term: 1, index: li, logTerm: 1, commit: li, reject: false, n: 1 },
      { type: MessageType.MsgApp, from: 1, to: 3, term: 1, index: li, logTerm: 1, commit: li, reject: false, n: 1 },
    ]);
    expect(rd.persistedMessages).toEqual([]);
  });

  it('once a quorum acknowledges, the entry commits, is handed out to apply, and the new commit is sent', () => {
    const n = leader();
    const li = n.rn.basicStatus().lastIndex;
    n.rn.propose(data('some data'));
    const sent = n.readMessages();
    for (const m of sent) n.rn.step(acceptAndReply(m));
    expect(n.rn.commitIndex).toBe(li + 1);
    const rd = n.rn.ready();
    expect(rd.committedEntries.map((e) => [e.index, new TextDecoder().decode(e.data)])).toEqual([[li + 1, 'some data']]);
    expect(brief(rd.messages).map((m) => [m.to, m.commit, m.n])).toEqual([
      [2, li + 1, 0],
      [3, li + 1, 0],
    ]);
  });

  it('an entry commits only once a majority including the leader has it', () => {
    const cases: [number, number[], boolean][] = [
      [1, [], true],
      [3, [], false],
      [3, [2], true],
      [3, [2, 3], true],
      [5, [], false],
      [5, [2], false],
      [5, [2, 3], true],
      [5, [2, 3, 4], true],
      [5, [2, 3, 4, 5], true],
    ];
    for (const [size, acceptors, wantAck] of cases) {
      const n = leader(size);
      const li = n.rn.basicStatus().lastIndex;
      n.rn.propose(data('some data'));
      for (const m of n.readMessages()) if (acceptors.includes(m.to)) n.rn.step(acceptAndReply(m));
      expect({ size, acceptors, committed: n.rn.commitIndex > li }).toEqual({ size, acceptors, committed: wantAck });
    }
  });

  it('committing an entry of the current term commits all preceding entries, applied in order', () => {
    const cases: Entry[][] = [[], [ent(2, 1)], [ent(1, 1), ent(2, 2)], [ent(1, 1)]];
    for (const prev of cases) {
      const n = nodeWith(1, [1, 2, 3], prev, { term: 2, vote: 0, commit: 0 });
      const first = elect(n, [1, 2, 3]);
      n.rn.propose(data('some data'));
      let out = [...first, ...n.readMessages()];
      while (out.length > 0) {
        const replies = out.filter((m) => m.msgType === MessageType.MsgApp).map(acceptAndReply);
        for (const r of replies) n.rn.step(r);
        out = n.readMessages();
      }
      const li = prev.length;
      expect(n.applied.map((e) => `${e.term}/${e.index}`)).toEqual([
        ...prev.map((e) => `${e.term}/${e.index}`),
        `3/${li + 1}`,
        `3/${li + 2}`,
      ]);
      expect(new TextDecoder().decode(n.applied[li + 1]!.data)).toBe('some data');
    }
  });

  it("a follower commits up to min(leader's commit, last new entry) and applies in order", () => {
    const cases: [Entry[], number][] = [
      [[ent(1, 1, 'some data')], 1],
      [[ent(1, 1, 'some data'), ent(1, 2, 'some data2')], 2],
      [[ent(1, 1, 'some data2'), ent(1, 2, 'some data')], 2],
      [[ent(1, 1, 'some data'), ent(1, 2, 'some data2')], 1],
    ];
    for (const [ents, commit] of cases) {
      const n = nodeWith(1, [1, 2, 3], [], { term: 1, vote: 0, commit: 0 });
      n.rn.step(msg(MessageType.MsgApp, 2, 1, { term: 1, entries: ents, commit }));
      n.readMessages();
      expect(n.rn.commitIndex).toBe(commit);
      expect(n.applied).toEqual(ents.slice(0, commit));
    }
  });

  it('a follower accepts an append that matches (prevIndex, prevTerm) and rejects with a hint otherwise', () => {
    const cases: [number, number, number, boolean, number, number][] = [
      // logTerm, index → response index, reject, rejectHint, logTerm
      [0, 0, 1, false, 0, 0], // matches committed entries
      [1, 1, 1, false, 0, 0],
      [2, 2, 2, false, 0, 0], // matches an uncommitted entry
      [1, 2, 2, true, 1, 1], // mismatch with an existing entry
      [3, 3, 3, true, 2, 2], // beyond the log
    ];
    for (const [logTerm, index, wIndex, wReject, wHint, wLogTerm] of cases) {
      const n = nodeWith(1, [1, 2, 3], [ent(1, 1), ent(2, 2)], { term: 3, vote: 0, commit: 1 });
      n.rn.step(msg(MessageType.MsgApp, 2, 1, { term: 3, logTerm, index, commit: 1 }));
      const [resp, ...rest] = n.readMessages();
      expect(rest).toEqual([]);
      expect({ type: resp!.msgType, index: resp!.index, reject: resp!.reject, hint: resp!.rejectHint, logTerm: resp!.logTerm }).toEqual({
        type: MessageType.MsgAppResp,
        index: wIndex,
        reject: wReject,
        hint: wHint,
        logTerm: wLogTerm,
      });
    }
  });

  it('a follower deletes a conflicting suffix, appends new entries, and hands out only what is new', () => {
    const cases: [number, number, Entry[], string[], string[]][] = [
      [2, 2, [ent(3, 3)], ['1/1', '2/2', '3/3'], ['3/3']],
      [1, 1, [ent(3, 2), ent(4, 3)], ['1/1', '3/2', '4/3'], ['3/2', '4/3']],
      [0, 0, [ent(1, 1)], ['1/1', '2/2'], []],
      [0, 0, [ent(3, 1)], ['3/1'], ['3/1']],
    ];
    for (const [logTerm, index, ents, wLog, wUnstable] of cases) {
      const n = nodeWith(1, [1, 2, 3], [ent(1, 1), ent(2, 2)], { term: 2, vote: 0, commit: 0 });
      n.rn.step(msg(MessageType.MsgApp, 2, 1, { term: 4, logTerm, index, entries: ents }));
      const rd = n.rn.ready();
      expect(rd.entries.map((e) => `${e.term}/${e.index}`)).toEqual(wUnstable);
      n.storage.append(rd.entries);
      n.rn.advance(rd);
      expect(n.storage.allEntries().map((e) => `${e.term}/${e.index}`)).toEqual(wLog);
    }
  });

  it("a new leader brings every follower log of Figure 7 to its own log", () => {
    // Index:    1 2 3 4 5 6 7 8 9 10 11 12
    const leaderTerms = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
    const followers = {
      a: [1, 1, 1, 4, 4, 5, 5, 6, 6],
      b: [1, 1, 1, 4],
      c: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],
      d: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
      e: [1, 1, 1, 4, 4, 4, 4],
      f: [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
    };
    const toEnts = (terms: number[]) => terms.map((t, i) => ent(t, i + 1));
    for (const [name, terms] of Object.entries(followers)) {
      const term = 8;
      const lead = nodeWith(1, [1, 2, 3], toEnts(leaderTerms), { term, vote: 0, commit: leaderTerms.length });
      const follower = nodeWith(2, [1, 2, 3], toEnts(terms), { term: term - 1, vote: 0, commit: 0 });
      const net = new Network([lead, follower]);
      lead.rn.campaign();
      net.stabilize();
      // Node 3 (absent from the network) grants, whatever the follower answered.
      net.send(msg(MessageType.MsgVoteResp, 3, 1, { term: term + 1 }));
      expect(lead.rn.raftState).toBe(StateRole.Leader);
      lead.rn.propose(new Uint8Array());
      net.stabilize();
      const log = (n: TestNode) => n.storage.allEntries().map((e) => `${e.term}/${e.index}`);
      expect({ name, log: log(follower) }).toEqual({ name, log: log(lead) });
      expect(log(lead)).toHaveLength(leaderTerms.length + 2);
    }
  });
});

describe('§5.4 safety', () => {
  it('a vote request carries the last log index and term, to every voter', () => {
    const cases: [Entry[], number][] = [
      [[ent(1, 1)], 2],
      [[ent(1, 1), ent(2, 2)], 3],
    ];
    for (const [ents, wTerm] of cases) {
      const n = new TestNode(1, [1, 2, 3]);
      n.rn.step(msg(MessageType.MsgApp, 2, 1, { term: wTerm - 1, entries: ents }));
      n.readMessages();
      for (let i = 1; i < 20; i++) n.rn.tick();
      const last = ents[ents.length - 1]!;
      expect(brief(n.readMessages())).toEqual(
        [2, 3].map((to) => ({ type: MessageType.MsgVote, from: 1, to, term: wTerm, index: last.index, logTerm: last.term, commit: 0, reject: false, n: 0 })),
      );
    }
  });

  it("a voter grants only if the candidate's log is at least as up-to-date (§5.4.1)", () => {
    const cases: [Entry[], number, number, boolean][] = [
      [[ent(1, 1)], 1, 1, false],
      [[ent(1, 1)], 1, 2, false],
      [[ent(1, 1), ent(1, 2)], 1, 1, true],
      [[ent(1, 1)], 2, 1, false],
      [[ent(1, 1)], 2, 2, false],
      [[ent(1, 1), ent(1, 2)], 2, 1, false],
      [[ent(2, 1)], 1, 1, true],
      [[ent(2, 1)], 1, 2, true],
      [[ent(2, 1), ent(1, 2)], 1, 1, true],
    ];
    for (const [ents, logTerm, index, wReject] of cases) {
      const n = nodeWith(1, [1, 2], ents);
      n.rn.step(msg(MessageType.MsgVote, 2, 1, { term: 3, logTerm, index }));
      const ms = n.readMessages();
      expect(ms.map((m) => [m.msgType, m.reject])).toEqual([[MessageType.MsgVoteResp, wReject]]);
    }
  });

  it('a leader commits by counting replicas only entries of its current term (§5.4.2)', () => {
    const cases: [number, number][] = [
      [1, 0],
      [2, 0],
      [3, 3],
    ];
    for (const [index, wCommit] of cases) {
      const n = nodeWith(1, [1, 2], [ent(1, 1), ent(2, 2)], { term: 2, vote: 0, commit: 0 });
      elect(n, [1, 2]);
      expect(n.rn.term).toBe(3);
      n.rn.propose(new Uint8Array());
      n.readMessages();
      n.rn.step(msg(MessageType.MsgAppResp, 2, 1, { term: 3, index }));
      expect(n.rn.commitIndex).toBe(wCommit);
    }
  });

  it('Figure 8: an old-term entry on a majority is not committed until a current-term entry is', () => {
    for (const branch of ['d', 'e'] as const) {
      const nodes = ids(5).map((id) => new TestNode(id, ids(5), { maxSizePerMsg: 0 }));
      const net = new Network(nodes);
      const [s2, s3, s4] = [nodes[1]!, nodes[2]!, nodes[3]!];
      let [s1, s5] = [nodes[0]!, nodes[4]!];
      // A crashed node restarts from what it persisted (everything, in these synchronous nodes).
      const restart = (n: TestNode): TestNode => {
        const r = new TestNode(n.id, ids(5), { maxSizePerMsg: 0, storage: n.storage });
        net.nodes.set(n.id, r);
        nodes[n.id - 1] = r;
        return r;
      };
      // S1 leads term 1; its no-op (1/1) commits everywhere.
      s1.rn.campaign();
      net.stabilize();
      expect(s1.rn.raftState).toBe(StateRole.Leader);
      // (a) S1 replicates 1/2 to S2 only.
      for (const o of [3, 4, 5]) net.cut(1, o);
      s1.rn.propose(data('a'));
      net.stabilize();
      expect(s2.storage.lastIndex()).toBe(2);
      // (b) S1 crashes; S5 wins term 2 with S3, S4 and crashes before replicating its 2/2.
      net.isolate(1);
      net.cut(5, 2);
      net.msgHook = (m) => !(m.from === 5 && m.msgType === MessageType.MsgApp);
      s5.rn.campaign();
      net.stabilize();
      expect([s5.rn.raftState, s5.rn.term]).toEqual([StateRole.Leader, 2]);
      expect(s5.storage.lastIndex()).toBe(2);
      // (c) S5 crashes; S1 comes back, wins term 3 and replicates 1/2 to S3 but not yet 3/3.
      net.recover();
      net.isolate(5);
      s1 = restart(s1);
      // S1's entries of term 3 do not get through (its probes do, emptied).
      net.msgHook = (m) => {
        if (m.from === 1 && m.msgType === MessageType.MsgApp) m.entries = m.entries.filter((e) => e.term !== 3);
        return true;
      };
      s1.rn.campaign();
      net.stabilize();
      if (s1.rn.raftState !== StateRole.Leader) {
        s1.rn.campaign();
        net.stabilize();
      }
      expect(s1.rn.raftState).toBe(StateRole.Leader);
      expect(s3.storage.allEntries().map((e) => `${e.term}/${e.index}`)).toEqual(['1/1', '1/2']);
      // 1/2 is on S1, S2, S3 (a majority), but of an old term: not committed.
      expect(s1.rn.commitIndex).toBe(1);
      if (branch === 'd') {
        // (d) S1 crashes; S5 can win (S2, S3, S4 grant) and overwrite 1/2 with its 2/2: legal,
        // since 1/2 was never committed, so nobody applied it.
        net.msgHook = undefined;
        net.recover();
        net.isolate(1);
        s5 = restart(s5);
        for (let i = 0; i < 3 && s5.rn.raftState !== StateRole.Leader; i++) {
          s5.rn.campaign();
          net.stabilize();
        }
        expect(s5.rn.raftState).toBe(StateRole.Leader);
        for (const n of [s2, s3, s4, s5]) expect(n.storage.term(2)).toBe(2);
        for (const n of nodes) expect(n.applied.some((e) => e.index === 2 && e.term === 1)).toBe(false);
      } else {
        // (e) S1 replicates 3/3 to a majority first: that commits 3/3 and, with it, 1/2.
        net.msgHook = (m) => m.to !== 4;
        s1.rn.tick();
        net.stabilize();
        expect(s1.rn.commitIndex).toBe(3);
        expect(s1.applied.map((e) => `${e.term}/${e.index}`)).toEqual(['1/1', '1/2', '3/3']);
        // Now S5 cannot win: S2 and S3 hold newer logs and refuse it.
        net.msgHook = undefined;
        net.recover();
        net.isolate(1);
        s5 = restart(s5);
        for (let i = 0; i < 3; i++) {
          s5.rn.campaign();
          net.stabilize();
        }
        expect(s5.rn.raftState).not.toBe(StateRole.Leader);
        expect(s2.storage.term(2)).toBe(1);
      }
    }
  });
});
